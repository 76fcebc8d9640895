//! IAM (query protocol, XML replies in IAM's namespace): roles, their
//! inline and attached policies, and customer managed policies, over the
//! `tarn-iam` model. Stored and returned faithfully, never enforced.
//! Policy documents come back URL-encoded, as IAM returns them. Shapes
//! and messages: `docs/research/logs-and-iam.md`.

use axum::http::StatusCode;
use tarn_iam::{Error as IamError, NewRole, Policy, Role};

use crate::app::App;
use crate::protocol::failure::{Failure, Fault};
use crate::protocol::query::{self, escape, Form};
use crate::protocol::reply::{Reply, XML};
use crate::protocol::table::{Service, ServiceId};
use crate::protocol::token::{hex, unhex};

/// The actions served.
pub const OPERATIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "ListRoles",
    "DeleteRole",
    "UpdateRole",
    "UpdateAssumeRolePolicy",
    "TagRole",
    "UntagRole",
    "ListRoleTags",
    "PutRolePolicy",
    "GetRolePolicy",
    "DeleteRolePolicy",
    "ListRolePolicies",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "CreatePolicy",
    "GetPolicy",
    "DeletePolicy",
    "GetPolicyVersion",
    "CreatePolicyVersion",
    "DeletePolicyVersion",
    "ListPolicyVersions",
    "SetDefaultPolicyVersion",
    "ListEntitiesForPolicy",
    "ListInstanceProfilesForRole",
    "ListPolicies",
];

const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

fn failure(code: &'static str, status: StatusCode, message: impl Into<String>) -> Failure {
    Failure {
        name: code,
        json_namespace: "",
        status,
        message: Some(message.into()),
        capital_message: false,
        query_code: code,
        fault: Fault::Sender,
        framework: false,
    }
}

fn validation(message: impl Into<String>) -> Failure {
    failure("ValidationError", StatusCode::BAD_REQUEST, message)
}

fn invalid_input(message: impl Into<String>) -> Failure {
    failure("InvalidInput", StatusCode::BAD_REQUEST, message)
}

impl From<IamError> for Failure {
    fn from(e: IamError) -> Failure {
        let (code, status) = match &e {
            IamError::NoSuchRole(_)
            | IamError::NoSuchRolePolicy(_)
            | IamError::NoSuchPolicy(_)
            | IamError::NoSuchPolicyVersion(..)
            | IamError::NotAttached(_) => ("NoSuchEntity", StatusCode::NOT_FOUND),
            IamError::RoleExists(_) | IamError::PolicyExists(_) => {
                ("EntityAlreadyExists", StatusCode::CONFLICT)
            }
            IamError::RoleHasAttached
            | IamError::RoleHasInline
            | IamError::PolicyAttached
            | IamError::DefaultVersion => ("DeleteConflict", StatusCode::CONFLICT),
            IamError::TooManyVersions => ("LimitExceeded", StatusCode::CONFLICT),
            IamError::Malformed(_) => ("MalformedPolicyDocument", StatusCode::BAD_REQUEST),
            other => {
                tracing::error!(error = %other, "iam store failed");
                return service_failure();
            }
        };
        failure(code, status, e.to_string())
    }
}

/// Waits, without holding a thread, until a write is durable.
async fn durable<T: Send + 'static>(
    app: &App,
    d: Result<tarn_engine::Deferred<T>, IamError>,
) -> Result<T, Failure> {
    match app.durable(d?).await {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => {
            tracing::error!(error = %e, "write failed");
            Err(service_failure())
        }
        None => Err(service_failure()),
    }
}

fn service_failure() -> Failure {
    Failure {
        fault: Fault::Receiver,
        ..failure(
            "ServiceFailure",
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
        )
    }
}

/// Serves one action.
pub(crate) async fn dispatch(app: &App, action: &str, form: &Form<'_>, request_id: &str) -> Reply {
    let mut x = Xml::new();
    let result = run(app, action, form, &mut x).await;
    match result {
        Ok(()) => Reply::new(StatusCode::OK, Some(XML), x.finish(action, request_id)),
        Err(f) => {
            tracing::debug!(action, code = f.query_code, reason = %f.message.as_deref().unwrap_or(""), "request failed");
            query::render(&f, &Service::of(ServiceId::Iam).errors, request_id)
        }
    }
}

/// The reply's `<…Result>` body.
struct Xml {
    body: String,
    has_result: bool,
}

impl Xml {
    fn new() -> Xml {
        Xml {
            body: String::with_capacity(512),
            has_result: false,
        }
    }

    fn open(&mut self, tag: &str) {
        self.has_result = true;
        self.body.push('<');
        self.body.push_str(tag);
        self.body.push('>');
    }

    fn close(&mut self, tag: &str) {
        self.body.push_str("</");
        self.body.push_str(tag);
        self.body.push('>');
    }

    fn text(&mut self, tag: &str, value: &str) {
        self.open(tag);
        escape(value, &mut self.body);
        self.close(tag);
    }

    fn finish(self, action: &str, request_id: &str) -> Vec<u8> {
        let mut s = String::with_capacity(self.body.len() + 256);
        s.push_str(&format!("<{action}Response xmlns=\"{NAMESPACE}\">\n"));
        if self.has_result {
            s.push_str(&format!("  <{action}Result>"));
            s.push_str(&self.body);
            s.push_str(&format!("</{action}Result>\n"));
        }
        s.push_str("  <ResponseMetadata>\n    <RequestId>");
        escape(request_id, &mut s);
        s.push_str("</RequestId>\n  </ResponseMetadata>\n");
        s.push_str(&format!("</{action}Response>\n"));
        s.into_bytes()
    }
}

/// Percent-encodes a policy document as IAM returns it: every byte but
/// the unreserved `A-Z a-z 0-9 - _ . ~`.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// IAM's timestamps: ISO 8601 to the second, UTC.
fn date(ms: u64) -> String {
    let label = tarn_core::arn::stream_label(ms);
    format!("{}Z", &label[..19])
}

fn now_ms() -> u64 {
    tarn_logs::now_ms()
}

fn required<'a>(form: &'a Form<'_>, name: &str, member: &str) -> Result<&'a str, Failure> {
    form.get(name).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// A role, user or policy name: 1 to `max` of `[\w+=,.@-]`.
fn name<'a>(form: &'a Form<'_>, param: &str, member: &str, max: usize) -> Result<&'a str, Failure> {
    let v = required(form, param, member)?;
    if v.is_empty() || v.chars().count() > max {
        let bound = if v.is_empty() {
            "greater than or equal to 1".to_owned()
        } else {
            format!("less than or equal to {max}")
        };
        return Err(validation(format!("1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must have length {bound}")));
    }
    if !v.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'=' | b',' | b'.' | b'@' | b'-')
    }) {
        return Err(validation(format!("1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")));
    }
    Ok(v)
}

/// A path: `/`, or `/` + printable ASCII + `/`, at most 512.
fn path<'a>(form: &'a Form<'_>, param: &str) -> Result<&'a str, Failure> {
    let Some(p) = form.get(param) else {
        return Ok("/");
    };
    let ok = p.len() <= 512
        && p.starts_with('/')
        && p.ends_with('/')
        && p.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if !ok {
        return Err(validation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."));
    }
    Ok(p)
}

fn document<'a>(
    form: &'a Form<'_>,
    param: &str,
    member: &str,
    max: usize,
) -> Result<&'a str, Failure> {
    let d = required(form, param, member)?;
    if d.is_empty() {
        return Err(validation(format!("1 validation error detected: Value '' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1")));
    }
    if d.chars().count() > max {
        return Err(failure(
            "LimitExceeded",
            StatusCode::CONFLICT,
            format!("Cannot exceed quota for PolicySize: {max}"),
        ));
    }
    Ok(d)
}

fn description(form: &Form<'_>) -> Result<Option<String>, Failure> {
    match form.get("Description") {
        Some(d) if d.chars().count() > 1000 => Err(validation(format!("1 validation error detected: Value '{d}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000"))),
        Some(d) => Ok(Some(d.to_owned()).filter(|d| !d.is_empty())),
        None => Ok(None),
    }
}

fn tags(form: &Form<'_>) -> Result<Vec<(String, String)>, Failure> {
    let mut out: Vec<(String, String)> = Vec::new();
    for i in 1..=51 {
        let Some(k) = form.get(&format!("Tags.member.{i}.Key")) else {
            break;
        };
        if i > 50 {
            return Err(validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"));
        }
        let v = form.get(&format!("Tags.member.{i}.Value")).unwrap_or("");
        if k.is_empty() || k.chars().count() > 128 {
            return Err(validation(format!("1 validation error detected: Value '{k}' at 'tags.{i}.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")));
        }
        if v.chars().count() > 256 {
            return Err(validation(format!("1 validation error detected: Value '{v}' at 'tags.{i}.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")));
        }
        if out.iter().any(|(o, _)| o.eq_ignore_ascii_case(k)) {
            return Err(invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(out)
}

fn merge_tags(into: &mut Vec<(String, String)>, new: Vec<(String, String)>) {
    for (k, v) in new {
        match into.iter_mut().find(|(o, _)| o.eq_ignore_ascii_case(&k)) {
            Some(slot) => *slot = (k, v),
            None => into.push((k, v)),
        }
    }
}

fn max_items(form: &Form<'_>) -> Result<usize, Failure> {
    match form.get("MaxItems") {
        None => Ok(100),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n as usize),
            Ok(n) if n < 1 => Err(validation(format!("1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"))),
            Ok(n) => Err(validation(format!("1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"))),
            Err(_) => Err(validation(format!("1 validation error detected: Value '{s}' at 'maxItems' failed to satisfy constraint: Member must be a number"))),
        },
    }
}

fn marker(form: &Form<'_>) -> Result<Option<String>, Failure> {
    let Some(m) = form.get("Marker") else {
        return Ok(None);
    };
    let bytes = unhex(m);
    bytes
        .and_then(|b| String::from_utf8(b).ok())
        .map(Some)
        .ok_or_else(|| invalid_input("Invalid Marker."))
}

fn policy_arn<'a>(form: &'a Form<'_>) -> Result<&'a str, Failure> {
    let arn = required(form, "PolicyArn", "policyArn")?;
    if arn.len() < 20 || !arn.starts_with("arn:") {
        return Err(invalid_input(format!("ARN {arn} is not valid.")));
    }
    Ok(arn)
}

fn write_tags(x: &mut Xml, tags: &[(String, String)]) {
    if tags.is_empty() {
        return;
    }
    x.open("Tags");
    for (k, v) in tags {
        x.open("member");
        x.text("Key", k);
        x.text("Value", v);
        x.close("member");
    }
    x.close("Tags");
}

fn write_role(app: &App, x: &mut Xml, tag: &str, r: &Role, with_tags: bool) {
    x.open(tag);
    x.text("Path", &r.path);
    x.text(
        "AssumeRolePolicyDocument",
        &url_encode(&r.assume_role_policy),
    );
    x.text("MaxSessionDuration", &r.max_session_s.to_string());
    x.text("RoleId", &r.id);
    x.text("RoleName", &r.name);
    x.text("Arn", &app.arns.role(&r.path, &r.name));
    x.text("CreateDate", &date(r.created_ms));
    if let Some(d) = &r.description {
        x.text("Description", d);
    }
    if with_tags {
        write_tags(x, &r.tags);
    }
    x.close(tag);
}

fn write_policy(app: &App, x: &mut Xml, tag: &str, p: &Policy, attachments: u32) {
    x.open(tag);
    x.text("PolicyName", &p.name);
    x.text("DefaultVersionId", &format!("v{}", p.default_version));
    x.text("PolicyId", &p.id);
    x.text("Path", &p.path);
    x.text("Arn", &app.arns.policy(&p.path, &p.name));
    x.text("AttachmentCount", &attachments.to_string());
    x.text("PermissionsBoundaryUsageCount", "0");
    x.text("IsAttachable", "true");
    if let Some(d) = &p.description {
        x.text("Description", d);
    }
    x.text("CreateDate", &date(p.created_ms));
    x.text("UpdateDate", &date(p.updated_ms));
    write_tags(x, &p.tags);
    x.close(tag);
}

fn write_version(
    x: &mut Xml,
    tag: &str,
    v: &tarn_iam::PolicyVersion,
    default_version: u32,
    with_document: bool,
) {
    x.open(tag);
    if with_document {
        x.text("Document", &url_encode(&v.document));
    }
    x.text("VersionId", &format!("v{}", v.number));
    x.text(
        "IsDefaultVersion",
        if v.number == default_version {
            "true"
        } else {
            "false"
        },
    );
    x.text("CreateDate", &date(v.created_ms));
    x.close(tag);
}

fn max_session(form: &Form<'_>) -> Result<Option<u32>, Failure> {
    let Some(s) = form.get("MaxSessionDuration") else {
        return Ok(None);
    };
    match s.parse::<i64>() {
        Ok(n) if (3600..=43200).contains(&n) => Ok(Some(n as u32)),
        Ok(n) if n < 3600 => Err(validation(format!("1 validation error detected: Value '{n}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"))),
        Ok(n) => Err(validation(format!("1 validation error detected: Value '{n}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"))),
        Err(_) => Err(validation(format!("1 validation error detected: Value '{s}' at 'maxSessionDuration' failed to satisfy constraint: Member must be a number"))),
    }
}

async fn run(app: &App, action: &str, form: &Form<'_>, x: &mut Xml) -> Result<(), Failure> {
    let iam = app.iam()?;
    match action {
        "CreateRole" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let path = path(form, "Path")?;
            let doc = document(
                form,
                "AssumeRolePolicyDocument",
                "assumeRolePolicyDocument",
                2048,
            )?;
            let new = NewRole {
                name: role_name.to_owned(),
                path: path.to_owned(),
                assume_role_policy: doc.to_owned(),
                description: description(form)?,
                max_session_s: max_session(form)?.unwrap_or(3600),
                tags: tags(form)?,
            };
            let role = durable(app, iam.create_role(new, now_ms())).await?;
            write_role(app, x, "Role", &role, true);
        }
        "GetRole" => {
            let role = iam.role(name(form, "RoleName", "roleName", 64)?)?;
            write_role(app, x, "Role", &role, true);
        }
        "ListRoles" => {
            let prefix = form.get("PathPrefix").unwrap_or("/");
            let (roles, more) = iam.roles(prefix, marker(form)?.as_deref(), max_items(form)?)?;
            x.open("Roles");
            for r in &roles {
                write_role(app, x, "member", r, false);
            }
            x.close("Roles");
            x.text("IsTruncated", if more { "true" } else { "false" });
            if let (true, Some(last)) = (more, roles.last()) {
                x.text("Marker", &hex(last.name.as_bytes()));
            }
        }
        "DeleteRole" => {
            durable(
                app,
                iam.delete_role(name(form, "RoleName", "roleName", 64)?),
            )
            .await?;
        }
        "UpdateRole" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let desc = description(form)?;
            let has_desc = form.get("Description").is_some();
            let session = max_session(form)?;
            durable(
                app,
                iam.update_role(role_name, |r| {
                    if has_desc {
                        r.description = desc;
                    }
                    if let Some(s) = session {
                        r.max_session_s = s;
                    }
                }),
            )
            .await?;
            // UpdateRole answers with an empty result element.
            x.has_result = true;
        }
        "UpdateAssumeRolePolicy" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let doc = document(form, "PolicyDocument", "policyDocument", 2048)?.to_owned();
            durable(
                app,
                iam.update_role(role_name, |r| r.assume_role_policy = doc),
            )
            .await?;
        }
        "TagRole" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let new = tags(form)?;
            durable(
                app,
                iam.update_role(role_name, |r| merge_tags(&mut r.tags, new)),
            )
            .await?;
        }
        "UntagRole" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let keys: Vec<String> = (1..=50)
                .map_while(|i| form.get(&format!("TagKeys.member.{i}")).map(str::to_owned))
                .collect();
            durable(
                app,
                iam.update_role(role_name, |r| {
                    r.tags
                        .retain(|(k, _)| !keys.iter().any(|d| d.eq_ignore_ascii_case(k)))
                }),
            )
            .await?;
        }
        "ListRoleTags" => {
            let role = iam.role(name(form, "RoleName", "roleName", 64)?)?;
            x.open("Tags");
            for (k, v) in &role.tags {
                x.open("member");
                x.text("Key", k);
                x.text("Value", v);
                x.close("member");
            }
            x.close("Tags");
            x.text("IsTruncated", "false");
        }
        "PutRolePolicy" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let policy = name(form, "PolicyName", "policyName", 128)?;
            let doc = document(form, "PolicyDocument", "policyDocument", 10_240)?;
            durable(app, iam.put_role_policy(role_name, policy, doc)).await?;
        }
        "GetRolePolicy" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let policy = name(form, "PolicyName", "policyName", 128)?;
            let doc = iam.role_policy(role_name, policy)?;
            let role = iam.role(role_name)?;
            x.text("RoleName", &role.name);
            x.text("PolicyName", policy);
            x.text("PolicyDocument", &url_encode(&doc));
        }
        "DeleteRolePolicy" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let policy = name(form, "PolicyName", "policyName", 128)?;
            durable(app, iam.delete_role_policy(role_name, policy)).await?;
        }
        "ListRolePolicies" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let names = iam.role_policies(role_name)?;
            page_of_names(form, x, "PolicyNames", &names, |x, n| x.text("member", n))?;
        }
        "AttachRolePolicy" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let arn = policy_arn(form)?;
            durable(app, iam.attach(role_name, arn, &app.arns)).await?;
        }
        "DetachRolePolicy" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let arn = policy_arn(form)?;
            durable(app, iam.detach(role_name, arn)).await?;
        }
        "ListAttachedRolePolicies" => {
            let role_name = name(form, "RoleName", "roleName", 64)?;
            let prefix = form.get("PathPrefix").unwrap_or("/");
            let arns: Vec<String> = iam
                .attached(role_name)?
                .into_iter()
                .filter(|a| {
                    app.arns
                        .policy_in(a)
                        .is_some_and(|(_, p, _)| p.starts_with(prefix))
                })
                .collect();
            page_of_names(form, x, "AttachedPolicies", &arns, |x, arn| {
                let policy_name = arn.rsplit('/').next().unwrap_or(arn);
                x.open("member");
                x.text("PolicyName", policy_name);
                x.text("PolicyArn", arn);
                x.close("member");
            })?;
        }
        "CreatePolicy" => {
            let policy = name(form, "PolicyName", "policyName", 128)?;
            let path = path(form, "Path")?;
            let doc = document(form, "PolicyDocument", "policyDocument", 6144)?;
            let p = durable(
                app,
                iam.create_policy(policy, path, doc, description(form)?, tags(form)?, now_ms()),
            )
            .await?;
            write_policy(app, x, "Policy", &p, 0);
        }
        "GetPolicy" => {
            let arn = policy_arn(form)?;
            let p = iam.policy(arn, &app.arns)?;
            let n = iam.attachment_count(arn)?;
            write_policy(app, x, "Policy", &p, n);
        }
        "DeletePolicy" => {
            let arn = policy_arn(form)?;
            durable(app, iam.delete_policy(arn, &app.arns)).await?;
        }
        "GetPolicyVersion" => {
            let arn = policy_arn(form)?;
            let version = required(form, "VersionId", "versionId")?;
            let p = iam.policy(arn, &app.arns)?;
            let n = tarn_iam::version_number(&p.versions, version)
                .ok_or_else(|| IamError::NoSuchPolicyVersion(arn.to_owned(), version.to_owned()))?;
            if let Some(v) = p.versions.iter().find(|v| v.number == n) {
                write_version(x, "PolicyVersion", v, p.default_version, true);
            }
        }
        "CreatePolicyVersion" => {
            let arn = policy_arn(form)?;
            let doc = document(form, "PolicyDocument", "policyDocument", 6144)?;
            let default = form.get("SetAsDefault") == Some("true");
            let v = durable(
                app,
                iam.create_policy_version(arn, &app.arns, doc, default, now_ms()),
            )
            .await?;
            let default_version = if default { v.number } else { 0 };
            write_version(x, "PolicyVersion", &v, default_version, false);
        }
        "DeletePolicyVersion" => {
            let arn = policy_arn(form)?;
            let version = required(form, "VersionId", "versionId")?;
            durable(app, iam.delete_policy_version(arn, &app.arns, version)).await?;
        }
        "SetDefaultPolicyVersion" => {
            let arn = policy_arn(form)?;
            let version = required(form, "VersionId", "versionId")?;
            durable(
                app,
                iam.set_default_version(arn, &app.arns, version, now_ms()),
            )
            .await?;
        }
        "ListPolicyVersions" => {
            let arn = policy_arn(form)?;
            let p = iam.policy(arn, &app.arns)?;
            x.open("Versions");
            // Newest first, as IAM lists them.
            for v in p.versions.iter().rev() {
                write_version(x, "member", v, p.default_version, false);
            }
            x.close("Versions");
            x.text("IsTruncated", "false");
        }
        "ListEntitiesForPolicy" => {
            let arn = policy_arn(form)?;
            if arn.contains(":policy/") && !arn.contains("::aws:") {
                iam.policy(arn, &app.arns)?;
            }
            let roles = iam.roles_attached_to(arn)?;
            x.open("PolicyGroups");
            x.close("PolicyGroups");
            x.open("PolicyUsers");
            x.close("PolicyUsers");
            x.open("PolicyRoles");
            for r in &roles {
                x.open("member");
                x.text("RoleName", &r.name);
                x.text("RoleId", &r.id);
                x.close("member");
            }
            x.close("PolicyRoles");
            x.text("IsTruncated", "false");
        }
        "ListInstanceProfilesForRole" => {
            // Tarn keeps no instance profiles: every role has none.
            iam.role(name(form, "RoleName", "roleName", 64)?)?;
            x.open("InstanceProfiles");
            x.close("InstanceProfiles");
            x.text("IsTruncated", "false");
        }
        "ListPolicies" => {
            let scope = form.get("Scope").unwrap_or("All");
            if !matches!(scope, "All" | "AWS" | "Local") {
                return Err(validation(format!("1 validation error detected: Value '{scope}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]")));
            }
            let only_attached = form.get("OnlyAttached") == Some("true");
            let prefix = form.get("PathPrefix").unwrap_or("/");
            let (policies, more) = if scope == "AWS" {
                (Vec::new(), false)
            } else {
                iam.policies(prefix, marker(form)?.as_deref(), max_items(form)?)?
            };
            x.open("Policies");
            for p in &policies {
                let n = iam.attachment_count(&app.arns.policy(&p.path, &p.name))?;
                if only_attached && n == 0 {
                    continue;
                }
                write_policy(app, x, "member", p, n);
            }
            x.close("Policies");
            x.text("IsTruncated", if more { "true" } else { "false" });
            if let (true, Some(last)) = (more, policies.last()) {
                x.text("Marker", &hex(last.name.as_bytes()));
            }
        }
        _ => {
            return Err(Failure::unknown_operation(
                &Service::of(ServiceId::Iam).errors,
                crate::protocol::table::Protocol::AwsQuery,
                action,
                form.get("Version"),
            ))
        }
    }
    Ok(())
}

/// A list answered in pages of `MaxItems`, after `Marker` (an index).
fn page_of_names(
    form: &Form<'_>,
    x: &mut Xml,
    tag: &str,
    all: &[String],
    mut write: impl FnMut(&mut Xml, &str),
) -> Result<(), Failure> {
    let limit = max_items(form)?;
    let start = match marker(form)? {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| invalid_input("Invalid Marker."))?,
        None => 0,
    };
    let end = (start + limit).min(all.len());
    x.open(tag);
    for n in all.get(start..end).unwrap_or(&[]) {
        write(x, n);
    }
    x.close(tag);
    let more = end < all.len();
    x.text("IsTruncated", if more { "true" } else { "false" });
    if more {
        x.text("Marker", &hex(end.to_string().as_bytes()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_percent_encoded_as_iam_returns_them() {
        assert_eq!(
            url_encode(r#"{"Version": "2012-10-17"}"#),
            "%7B%22Version%22%3A%20%222012-10-17%22%7D"
        );
        assert_eq!(date(0), "1970-01-01T00:00:00Z");
    }
}

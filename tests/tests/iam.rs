//! End-to-end tests of IAM roles and policies, driven by the official
//! `aws-sdk-iam` (query protocol, XML replies): roles with paths, tags
//! and trust policies returned URL-encoded as IAM returns them, paging,
//! inline and attached policies, AWS managed policies attachable without
//! creation, customer managed policies, and IAM's errors (NoSuchEntity,
//! EntityAlreadyExists, DeleteConflict, MalformedPolicyDocument,
//! ValidationError) with their statuses and messages. Sources:
//! `docs/research/logs-and-iam.md`.

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use tarn_tests::{sdk_client, send_raw, service_error, RawRequest, Server};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}"#;
const BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

fn client(server: &Server) -> Client {
    sdk_client!(aws_sdk_iam, server.endpoint.as_str())
}

fn pair(e: &(String, String)) -> (&str, &str) {
    (e.0.as_str(), e.1.as_str())
}

/// Undoes IAM's percent-encoding of a policy document.
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            let h = std::str::from_utf8(&b[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(h, 16).expect("hex"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

async fn role(c: &Client, name: &str) {
    c.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("create role");
}

#[tokio::test]
async fn roles_are_created_read_listed_in_pages_and_deleted() {
    let server = Server::start();
    let c = client(&server);
    let out = c
        .create_role()
        .role_name("fn-runner")
        .path("/service-role/")
        .assume_role_policy_document(TRUST)
        .description("runs functions")
        .max_session_duration(7200)
        .tags(Tag::builder().key("team").value("a").build().expect("tag"))
        .send()
        .await
        .expect("create");
    let r = out.role().expect("role");
    assert_eq!(r.role_name(), "fn-runner");
    assert_eq!(r.path(), "/service-role/");
    assert_eq!(
        r.arn(),
        "arn:aws:iam::000000000000:role/service-role/fn-runner"
    );
    assert!(
        r.role_id().starts_with("AROA") && r.role_id().len() == 21,
        "{}",
        r.role_id()
    );
    let doc = r.assume_role_policy_document().expect("document");
    assert!(doc.starts_with("%7B%22Version%22"), "URL-encoded: {doc}");
    assert_eq!(url_decode(doc), TRUST);
    assert_eq!(r.max_session_duration(), Some(7200));
    assert_eq!(r.description(), Some("runs functions"));
    assert_eq!(r.tags().len(), 1);

    let got = c
        .get_role()
        .role_name("FN-RUNNER")
        .send()
        .await
        .expect("get, any case");
    let g = got.role().expect("role");
    assert_eq!(g.role_name(), "fn-runner");
    assert_eq!(g.role_id(), r.role_id());
    assert_eq!(g.create_date(), r.create_date());

    let e = service_error(
        c.create_role()
            .role_name("Fn-Runner")
            .assume_role_policy_document(TRUST)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "EntityAlreadyExists",
            "Role with name Fn-Runner already exists."
        )
    );
    let e = service_error(c.get_role().role_name("nope").send().await);
    assert_eq!(
        pair(&e),
        ("NoSuchEntity", "The role with name nope cannot be found.")
    );

    for n in ["b-role", "c-role", "d-role"] {
        role(&c, n).await;
    }
    let all = c.list_roles().send().await.expect("list");
    let names: Vec<_> = all.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(names, ["b-role", "c-role", "d-role", "fn-runner"]);
    assert!(!all.is_truncated());
    let scoped = c
        .list_roles()
        .path_prefix("/service-role/")
        .send()
        .await
        .expect("list");
    assert_eq!(scoped.roles().len(), 1);
    let mut seen = Vec::new();
    let mut marker = None;
    for _ in 0..10 {
        let page = c
            .list_roles()
            .max_items(3)
            .set_marker(marker.take())
            .send()
            .await
            .expect("page");
        seen.extend(page.roles().iter().map(|r| r.role_name().to_owned()));
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_owned);
        assert!(marker.is_some());
    }
    assert_eq!(seen, ["b-role", "c-role", "d-role", "fn-runner"]);

    c.delete_role()
        .role_name("b-role")
        .send()
        .await
        .expect("delete");
    let e = service_error(c.delete_role().role_name("b-role").send().await);
    assert_eq!(
        pair(&e),
        ("NoSuchEntity", "The role with name b-role cannot be found.")
    );
}

#[tokio::test]
async fn roles_are_updated_and_tagged() {
    let server = Server::start();
    let c = client(&server);
    role(&c, "r").await;
    c.update_role()
        .role_name("r")
        .description("now described")
        .max_session_duration(3700)
        .send()
        .await
        .expect("update");
    c.update_assume_role_policy()
        .role_name("r")
        .policy_document(POLICY)
        .send()
        .await
        .expect("trust");
    c.tag_role()
        .role_name("r")
        .tags(Tag::builder().key("k").value("v").build().expect("tag"))
        .tags(Tag::builder().key("x").value("y").build().expect("tag"))
        .send()
        .await
        .expect("tag");
    c.untag_role()
        .role_name("r")
        .tag_keys("x")
        .send()
        .await
        .expect("untag");
    let r = c.get_role().role_name("r").send().await.expect("get");
    let r = r.role().expect("role");
    assert_eq!(r.description(), Some("now described"));
    assert_eq!(r.max_session_duration(), Some(3700));
    assert_eq!(
        url_decode(r.assume_role_policy_document().expect("doc")),
        POLICY
    );
    let tags = c
        .list_role_tags()
        .role_name("r")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), "k");
    let e = service_error(
        c.update_role()
            .role_name("r")
            .max_session_duration(60)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "ValidationError",
            "1 validation error detected: Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"
        )
    );
}

#[tokio::test]
async fn inline_policies_are_put_read_listed_and_block_deleting_the_role() {
    let server = Server::start();
    let c = client(&server);
    role(&c, "r").await;
    c.put_role_policy()
        .role_name("r")
        .policy_name("logs")
        .policy_document(POLICY)
        .send()
        .await
        .expect("put");
    let got = c
        .get_role_policy()
        .role_name("r")
        .policy_name("logs")
        .send()
        .await
        .expect("get");
    assert_eq!(got.role_name(), "r");
    assert_eq!(got.policy_name(), "logs");
    assert_eq!(url_decode(got.policy_document()), POLICY);
    let names = c
        .list_role_policies()
        .role_name("r")
        .send()
        .await
        .expect("list");
    assert_eq!(names.policy_names(), ["logs"]);
    let e = service_error(c.delete_role().role_name("r").send().await);
    assert_eq!(
        pair(&e),
        (
            "DeleteConflict",
            "Cannot delete entity, must delete policies first."
        )
    );
    let e = service_error(
        c.get_role_policy()
            .role_name("r")
            .policy_name("nope")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "NoSuchEntity",
            "The role policy with name nope cannot be found."
        )
    );
    let e = service_error(
        c.put_role_policy()
            .role_name("nope")
            .policy_name("p")
            .policy_document(POLICY)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        ("NoSuchEntity", "The role with name nope cannot be found.")
    );
    c.delete_role_policy()
        .role_name("r")
        .policy_name("logs")
        .send()
        .await
        .expect("delete policy");
    c.delete_role()
        .role_name("r")
        .send()
        .await
        .expect("delete role");
}

#[tokio::test]
async fn managed_policies_attach_detach_and_block_deletes() {
    let server = Server::start();
    let c = client(&server);
    role(&c, "r").await;
    // AWS managed policies are attachable without being created.
    c.attach_role_policy()
        .role_name("r")
        .policy_arn(BASIC)
        .send()
        .await
        .expect("attach aws managed");
    let created = c
        .create_policy()
        .policy_name("write-logs")
        .path("/app/")
        .policy_document(POLICY)
        .description("logs")
        .send()
        .await
        .expect("create policy");
    let p = created.policy().expect("policy");
    let arn = p.arn().expect("arn").to_owned();
    assert_eq!(arn, "arn:aws:iam::000000000000:policy/app/write-logs");
    assert!(p.policy_id().is_some_and(|id| id.starts_with("ANPA")));
    assert_eq!(p.default_version_id(), Some("v1"));
    assert_eq!(p.attachment_count(), Some(0));
    let e = service_error(
        c.create_policy()
            .policy_name("Write-Logs")
            .policy_document(POLICY)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "EntityAlreadyExists",
            "A policy called Write-Logs already exists. Duplicate names are not allowed."
        )
    );
    c.attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach");
    let attached = c
        .list_attached_role_policies()
        .role_name("r")
        .send()
        .await
        .expect("list");
    let pairs: Vec<_> = attached
        .attached_policies()
        .iter()
        .map(|a| (a.policy_name().unwrap_or(""), a.policy_arn().unwrap_or("")))
        .collect();
    assert_eq!(
        pairs,
        [
            ("write-logs", arn.as_str()),
            ("AWSLambdaBasicExecutionRole", BASIC)
        ]
    );
    let got = c.get_policy().policy_arn(&arn).send().await.expect("get");
    assert_eq!(got.policy().and_then(|p| p.attachment_count()), Some(1));
    let version = c
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("version");
    let v = version.policy_version().expect("version");
    assert_eq!(v.document().map(url_decode).as_deref(), Some(POLICY));
    assert!(v.is_default_version());
    let e = service_error(
        c.get_policy_version()
            .policy_arn(&arn)
            .version_id("v2")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "NoSuchEntity",
            &*format!("Policy {arn} version v2 does not exist or is not attachable.")
        )
    );
    let listed = c
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .expect("list policies");
    assert_eq!(listed.policies().len(), 1);

    let e = service_error(c.delete_role().role_name("r").send().await);
    assert_eq!(
        pair(&e),
        (
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first."
        )
    );
    let e = service_error(c.delete_policy().policy_arn(&arn).send().await);
    assert_eq!(
        pair(&e),
        (
            "DeleteConflict",
            "Cannot delete a policy attached to entities."
        )
    );
    let missing = "arn:aws:iam::000000000000:policy/nope";
    let e = service_error(
        c.attach_role_policy()
            .role_name("r")
            .policy_arn(missing)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "NoSuchEntity",
            "Policy arn:aws:iam::000000000000:policy/nope does not exist or is not attachable."
        )
    );
    let e = service_error(
        c.attach_role_policy()
            .role_name("r")
            .policy_arn("not-an-arn")
            .send()
            .await,
    );
    assert_eq!(pair(&e), ("InvalidInput", "ARN not-an-arn is not valid."));
    for a in [BASIC, arn.as_str()] {
        c.detach_role_policy()
            .role_name("r")
            .policy_arn(a)
            .send()
            .await
            .expect("detach");
    }
    let e = service_error(
        c.detach_role_policy()
            .role_name("r")
            .policy_arn(BASIC)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        ("NoSuchEntity", &*format!("Policy {BASIC} was not found."))
    );
    c.delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("delete policy");
    let e = service_error(c.get_policy().policy_arn(&arn).send().await);
    assert_eq!(
        pair(&e),
        (
            "NoSuchEntity",
            &*format!("Policy {arn} does not exist or is not attachable.")
        )
    );
    c.delete_role()
        .role_name("r")
        .send()
        .await
        .expect("delete role");
}

#[tokio::test]
async fn bad_documents_and_names_get_iam_errors() {
    let server = Server::start();
    let c = client(&server);
    let e = service_error(
        c.create_role()
            .role_name("r")
            .assume_role_policy_document("not json")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "MalformedPolicyDocument",
            "This policy contains invalid Json"
        )
    );
    let e = service_error(
        c.create_role()
            .role_name("r")
            .assume_role_policy_document("[]")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        ("MalformedPolicyDocument", "Syntax errors in policy.")
    );
    let e = service_error(
        c.create_role()
            .role_name("bad name")
            .assume_role_policy_document(TRUST)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "ValidationError",
            "1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )
    );
    let e = service_error(
        c.create_role()
            .role_name("r")
            .path("no-slashes")
            .assume_role_policy_document(TRUST)
            .send()
            .await,
    );
    assert_eq!(e.0, "ValidationError");
    // Nothing was created by the failed calls.
    assert!(c
        .list_roles()
        .send()
        .await
        .expect("list")
        .roles()
        .is_empty());
}

#[tokio::test]
async fn replies_and_errors_are_iam_xml() {
    let server = Server::start();
    let form = |body: &str| {
        let mut r = RawRequest::post(None, body.as_bytes().to_vec()).signed_for("iam");
        r.headers.clear();
        r.header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
    };
    let r = send_raw(
        &server,
        &form("Action=GetRole&Version=2010-05-08&RoleName=missing"),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("text/xml"));
    let id = r.header("x-amzn-requestid").expect("id").to_owned();
    assert_eq!(
        r.body,
        format!("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>NoSuchEntity</Code>\n    <Message>The role with name missing cannot be found.</Message>\n  </Error>\n  <RequestId>{id}</RequestId>\n</ErrorResponse>\n")
    );
    let r = send_raw(&server, &form("Action=CreateRole&Version=2010-05-08")).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("<Code>ValidationError</Code>")
            && r.body.contains("Value null at &apos;roleName&apos;"),
        "{}",
        r.body
    );
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName=x&AssumeRolePolicyDocument={}",
        TRUST
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    );
    let r = send_raw(&server, &form(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.starts_with(
            "<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <CreateRoleResult><Role><Path>/</Path>"
        ),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<ResponseMetadata>\n    <RequestId>"),
        "{}",
        r.body
    );
    let r = send_raw(
        &server,
        &form("Action=DeleteRole&Version=2010-05-08&RoleName=x"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("DeleteRoleResult"), "{}", r.body);
}

/// Acknowledged roles and policies survive a SIGKILL.
#[tokio::test]
async fn acknowledged_roles_survive_a_kill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let c = client(&server);
    role(&c, "kept").await;
    c.attach_role_policy()
        .role_name("kept")
        .policy_arn(BASIC)
        .send()
        .await
        .expect("attach");
    let id = c
        .get_role()
        .role_name("kept")
        .send()
        .await
        .expect("get")
        .role()
        .map(|r| r.role_id().to_owned());
    server.kill();
    let server = Server::start_in(dir.path(), &[]);
    let c = client(&server);
    let got = c.get_role().role_name("kept").send().await.expect("get");
    assert_eq!(got.role().map(|r| r.role_id().to_owned()), id);
    let attached = c
        .list_attached_role_policies()
        .role_name("kept")
        .send()
        .await
        .expect("attached");
    assert_eq!(attached.attached_policies().len(), 1);
    // A new role gets a new id.
    role(&c, "new").await;
    let new = c.get_role().role_name("new").send().await.expect("get");
    assert_ne!(new.role().map(|r| r.role_id().to_owned()), id);
}

/// What Terraform calls when it updates or destroys a policy or a role:
/// policy versions (at most five, the default undeletable), the entities
/// a policy is attached to, a role's instance profiles (none).
#[tokio::test]
async fn policy_versions_entities_and_instance_profiles() {
    let server = Server::start();
    let c = client(&server);
    role(&c, "r").await;
    let arn = c
        .create_policy()
        .policy_name("p")
        .policy_document(POLICY)
        .send()
        .await
        .expect("create")
        .policy()
        .and_then(|p| p.arn().map(str::to_owned))
        .expect("arn");
    for i in 2..=5 {
        let v = c
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(TRUST)
            .set_as_default(i == 3)
            .send()
            .await
            .expect("version");
        let v = v.policy_version().expect("version");
        assert_eq!(v.version_id(), Some(format!("v{i}").as_str()));
        assert_eq!(v.is_default_version(), i == 3);
    }
    let e = service_error(
        c.create_policy_version()
            .policy_arn(&arn)
            .policy_document(TRUST)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "LimitExceeded",
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."
        )
    );
    let versions = c
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .expect("list");
    let ids: Vec<_> = versions
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap_or(""), v.is_default_version()))
        .collect();
    assert_eq!(
        ids,
        [
            ("v5", false),
            ("v4", false),
            ("v3", true),
            ("v2", false),
            ("v1", false)
        ]
    );
    let e = service_error(
        c.delete_policy_version()
            .policy_arn(&arn)
            .version_id("v3")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "DeleteConflict",
            "Cannot delete the default version of a policy."
        )
    );
    c.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v5")
        .send()
        .await
        .expect("set default");
    c.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v3")
        .send()
        .await
        .expect("delete version");
    let got = c.get_policy().policy_arn(&arn).send().await.expect("get");
    assert_eq!(
        got.policy().and_then(|p| p.default_version_id()),
        Some("v5")
    );
    let v5 = c
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v5")
        .send()
        .await
        .expect("v5");
    assert_eq!(
        v5.policy_version()
            .and_then(|v| v.document())
            .map(url_decode)
            .as_deref(),
        Some(TRUST)
    );

    c.attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach");
    let entities = c
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("entities");
    let roles: Vec<_> = entities
        .policy_roles()
        .iter()
        .map(|r| r.role_name().unwrap_or(""))
        .collect();
    assert_eq!(roles, ["r"]);
    assert!(entities.policy_users().is_empty() && entities.policy_groups().is_empty());
    let profiles = c
        .list_instance_profiles_for_role()
        .role_name("r")
        .send()
        .await
        .expect("profiles");
    assert!(profiles.instance_profiles().is_empty());
    let e = service_error(
        c.list_instance_profiles_for_role()
            .role_name("nope")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        ("NoSuchEntity", "The role with name nope cannot be found.")
    );
}

//! The Lambda API's operations on the model: functions, versions,
//! aliases, event invoke configs, concurrency, tags and invocations.
//! Messages are Lambda's (`docs/research/lambda.md`).

use std::collections::BTreeMap;

use crate::code::{self, Code};
use crate::model::{AliasRecord, Config, FunctionRecord, InvokeConfigRecord, VersionRecord};
use crate::time::now_ms;
use crate::{Error, Lambda};

/// The runtimes Tarn runs.
pub const RUNTIMES: &[&str] = &[
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "provided",
    "provided.al2",
    "provided.al2023",
];

/// Environment variables Lambda sets itself and refuses from users.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Where new code comes from.
#[derive(Clone, Debug)]
pub enum CodeSource {
    /// `Code.ZipFile`: the zip's bytes.
    Zip(Vec<u8>),
    /// Tarn's extension: `S3Bucket = "tarn-local"`, `S3Key` an absolute
    /// directory, used in place.
    Local(String),
}

/// CreateFunction's input.
#[derive(Clone, Debug, Default)]
pub struct NewFunction {
    /// FunctionName.
    pub name: String,
    /// Runtime.
    pub runtime: Option<String>,
    /// Role.
    pub role: String,
    /// Handler.
    pub handler: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Timeout.
    pub timeout_s: Option<i64>,
    /// MemorySize.
    pub memory_mb: Option<i64>,
    /// Environment.Variables.
    pub environment: Option<BTreeMap<String, String>>,
    /// Code.
    pub code: Option<CodeSource>,
    /// Publish.
    pub publish: bool,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Architectures.
    pub architectures: Option<Vec<String>>,
}

/// UpdateFunctionConfiguration's input (absent fields stay).
#[derive(Clone, Debug, Default)]
pub struct ConfigUpdate {
    /// Runtime.
    pub runtime: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Handler.
    pub handler: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Timeout.
    pub timeout_s: Option<i64>,
    /// MemorySize.
    pub memory_mb: Option<i64>,
    /// Environment.Variables.
    pub environment: Option<BTreeMap<String, String>>,
    /// RevisionId the caller expects.
    pub revision_id: Option<String>,
}

/// A function's configuration as one qualifier sees it.
#[derive(Clone, Debug)]
pub struct View {
    /// The function's record.
    pub function: FunctionRecord,
    /// `$LATEST` or the version number.
    pub version: String,
    /// That version's configuration.
    pub config: Config,
}

/// PutFunctionEventInvokeConfig's input.
#[derive(Clone, Debug, Default)]
pub struct InvokeConfigInput {
    /// MaximumRetryAttempts.
    pub maximum_retry_attempts: Option<i64>,
    /// MaximumEventAgeInSeconds.
    pub maximum_event_age_s: Option<i64>,
    /// DestinationConfig.OnSuccess.Destination.
    pub on_success: Option<String>,
    /// DestinationConfig.OnFailure.Destination.
    pub on_failure: Option<String>,
}

/// A finished synchronous invocation.
#[derive(Debug)]
pub struct Invoked {
    /// What the function did.
    pub outcome: crate::Outcome,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
    /// The invocation's request id (the function's `aws_request_id`).
    pub request_id: String,
}

/// A function reference split into name and qualifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionRef {
    /// The function's name.
    pub name: String,
    /// A version or alias named in the reference.
    pub qualifier: Option<String>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_qualifier(s: &str) -> bool {
    s == "$LATEST" || is_name(s) && s.len() <= 128
}

const NAME_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

/// Reads a `FunctionName` as Lambda takes it: a name, `name:qualifier`, a
/// partial ARN (`account:function:name[:qualifier]`) or a full ARN.
pub fn parse_function_ref(raw: &str, field: &str) -> Result<FunctionRef, Error> {
    let invalid = || {
        Error::Validation(format!(
            "1 validation error detected: Value '{raw}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}"
        ))
    };
    if raw.is_empty() || raw.len() > 170 {
        return Err(invalid());
    }
    let rest = match raw.strip_prefix("arn:") {
        Some(r) => {
            // partition:lambda:region:account:function:name[:q]
            let mut parts = r.splitn(4, ':');
            let partition = parts.next().unwrap_or("");
            let service = parts.next().unwrap_or("");
            let region = parts.next().unwrap_or("");
            if !partition.starts_with("aws") || service != "lambda" || region.is_empty() {
                return Err(invalid());
            }
            parts.next().ok_or_else(invalid)?
        }
        None => raw,
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        [n] => (*n, None),
        [n, q] if *n != "function" => (*n, Some(*q)),
        [acct, "function", n] if acct.len() == 12 => (*n, None),
        [acct, "function", n, q] if acct.len() == 12 => (*n, Some(*q)),
        _ => return Err(invalid()),
    };
    if !is_name(name) || qualifier.is_some_and(|q| !is_qualifier(q)) {
        return Err(invalid());
    }
    Ok(FunctionRef {
        name: name.to_owned(),
        qualifier: qualifier.map(str::to_owned),
    })
}

fn validation(value: &str, field: &str, constraint: &str) -> Error {
    Error::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    ))
}

fn check_role(role: &str) -> Result<(), Error> {
    let ok = role.strip_prefix("arn:").and_then(|r| {
        let (partition, r) = r.split_once(':')?;
        let r = r.strip_prefix("iam::")?;
        let (account, path) = r.split_once(':')?;
        let name = path.strip_prefix("role/")?;
        (partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_/".contains(&b)))
        .then_some(())
    });
    ok.ok_or_else(|| {
        validation(
            role,
            "role",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        )
    })
}

fn check_runtime(runtime: &str) -> Result<(), Error> {
    if RUNTIMES.contains(&runtime) {
        return Ok(());
    }
    Err(Error::InvalidParameter(format!(
        "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        RUNTIMES.join(", ")
    )))
}

fn check_timeout(t: i64) -> Result<u32, Error> {
    if t < 1 {
        return Err(validation(
            &t.to_string(),
            "timeout",
            "Member must have value greater than or equal to 1",
        ));
    }
    if t > 900 {
        return Err(validation(
            &t.to_string(),
            "timeout",
            "Member must have value less than or equal to 900",
        ));
    }
    Ok(t as u32)
}

fn check_memory(m: i64) -> Result<u32, Error> {
    if m < 128 {
        return Err(validation(
            &m.to_string(),
            "memorySize",
            "Member must have value greater than or equal to 128",
        ));
    }
    if m > 10240 {
        return Err(validation(
            &m.to_string(),
            "memorySize",
            "Member must have value less than or equal to 10240",
        ));
    }
    Ok(m as u32)
}

fn check_env(env: &BTreeMap<String, String>) -> Result<(), Error> {
    let reserved: Vec<&str> = env
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_ENV.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let size: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > 4096 {
        return Err(Error::InvalidParameter(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit."
                .into(),
        ));
    }
    Ok(())
}

impl Lambda {
    fn not_found(&self, name: &str, qualifier: Option<&str>) -> Error {
        let arn = match qualifier {
            Some(q) => self.arns.function_qualified(name, q),
            None => self.arns.function(name),
        };
        Error::NotFound(format!("Function not found: {arn}"))
    }

    /// The ARN of a function or one of its versions or aliases.
    pub fn arn(&self, name: &str, qualifier: Option<&str>) -> String {
        match qualifier {
            Some(q) => self.arns.function_qualified(name, q),
            None => self.arns.function(name),
        }
    }

    /// A function's record, or ResourceNotFoundException.
    pub fn function(&self, name: &str) -> Result<FunctionRecord, Error> {
        self.records
            .function(name)?
            .ok_or_else(|| self.not_found(name, None))
    }

    /// Reads a FunctionName and an optional Qualifier parameter, which
    /// must agree with a qualifier in the name.
    pub fn reference(&self, raw: &str, qualifier: Option<&str>) -> Result<FunctionRef, Error> {
        let mut r = parse_function_ref(raw, "functionName")?;
        if let Some(q) = qualifier {
            if !is_qualifier(q) {
                return Err(validation(
                    q,
                    "qualifier",
                    "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
                ));
            }
            match &r.qualifier {
                Some(existing) if existing != q => {
                    return Err(Error::InvalidParameter(
                        "The derived qualifier from the function name does not match the specified qualifier."
                            .into(),
                    ))
                }
                _ => r.qualifier = Some(q.to_owned()),
            }
        }
        Ok(r)
    }

    /// The configuration a reference names (an alias resolves to its
    /// version).
    pub fn view(&self, r: &FunctionRef) -> Result<View, Error> {
        let function = self
            .records
            .function(&r.name)?
            .ok_or_else(|| self.not_found(&r.name, r.qualifier.as_deref()))?;
        let version = match r.qualifier.as_deref() {
            None | Some("$LATEST") => "$LATEST".to_owned(),
            Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => q.to_owned(),
            Some(alias) => {
                self.records
                    .alias(&r.name, alias)?
                    .ok_or_else(|| self.not_found(&r.name, Some(alias)))?
                    .function_version
            }
        };
        let config = if version == "$LATEST" {
            function.latest.clone()
        } else {
            let n: u64 = version
                .parse()
                .map_err(|_| self.not_found(&r.name, r.qualifier.as_deref()))?;
            self.records
                .version(&r.name, n)?
                .ok_or_else(|| self.not_found(&r.name, r.qualifier.as_deref()))?
                .config
        };
        Ok(View {
            function,
            version,
            config,
        })
    }

    fn code(&self, name: &str, source: &CodeSource) -> Result<Code, Error> {
        match source {
            CodeSource::Zip(zip) => code::unpack(&self.settings.functions_dir, name, zip),
            CodeSource::Local(path) => code::local(path),
        }
    }

    /// CreateFunction. Returns the view the reply describes.
    pub async fn create(&self, req: NewFunction) -> Result<View, Error> {
        if !is_name(&req.name) {
            parse_function_ref(&req.name, "functionName")?;
            return Err(validation(
                &req.name,
                "functionName",
                &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
            ));
        }
        check_role(&req.role)?;
        let runtime = req.runtime.clone().ok_or_else(|| {
            Error::InvalidParameter("Runtime is required for .zip file deployment packages.".into())
        })?;
        check_runtime(&runtime)?;
        let timeout_s = check_timeout(req.timeout_s.unwrap_or(3))?;
        let memory_mb = check_memory(req.memory_mb.unwrap_or(128))?;
        let environment = req.environment.clone().unwrap_or_default();
        check_env(&environment)?;
        let source = req.code.as_ref().ok_or_else(|| {
            Error::InvalidParameter("Please provide a source for function code.".into())
        })?;
        if self.records.function(&req.name)?.is_some() {
            return Err(Error::Conflict(format!(
                "Function already exist: {}",
                req.name
            )));
        }
        let code = self.code(&req.name, source)?;
        let now = now_ms();
        let latest = Config {
            runtime,
            role: req.role,
            handler: req.handler.unwrap_or_default(),
            description: req.description.unwrap_or_default(),
            timeout_s,
            memory_mb,
            environment,
            code_sha256: code.sha256,
            code_size: code.size,
            code_dir: code.dir.display().to_string(),
            code_local: code.local,
            revision_id: self.uuid(),
            last_modified_ms: now,
            architectures: req
                .architectures
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| vec!["x86_64".into()]),
        };
        let mut function = FunctionRecord {
            name: req.name.clone(),
            latest,
            tags: req.tags,
            reserved_concurrency: None,
            next_version: 1,
            created_ms: now,
        };
        let mut batch = self.records.store().batch();
        let mut view_version = "$LATEST".to_owned();
        let mut view_config = function.latest.clone();
        if req.publish {
            let v = VersionRecord {
                version: 1,
                config: function.latest.clone(),
            };
            function.next_version = 2;
            self.records.put_version(&mut batch, &req.name, &v)?;
            view_version = "1".into();
            view_config = v.config;
        }
        self.records.put_function(&mut batch, &function)?;
        self.commit(batch).await?;
        Ok(View {
            function,
            version: view_version,
            config: view_config,
        })
    }

    /// ListFunctions: a page after `marker`, and the next marker.
    pub fn list(
        &self,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> Result<(Vec<FunctionRecord>, Option<String>), Error> {
        let max = match max {
            None => 50,
            Some(m) if (1..=10_000).contains(&m) => m as usize,
            Some(m) => {
                return Err(validation(
                    &m.to_string(),
                    "maxItems",
                    if m < 1 {
                        "Member must have value greater than or equal to 1"
                    } else {
                        "Member must have value less than or equal to 10000"
                    },
                ))
            }
        };
        let mut page = self.records.functions(marker, max + 1)?;
        let next = if page.len() > max {
            page.truncate(max);
            page.last().map(|f| f.name.clone())
        } else {
            None
        };
        Ok((page, next))
    }

    /// UpdateFunctionCode.
    pub async fn update_code(
        &self,
        name: &str,
        source: CodeSource,
        publish: bool,
        revision_id: Option<&str>,
    ) -> Result<View, Error> {
        let mut function = self.function(name)?;
        check_revision(&function.latest, revision_id)?;
        let code = self.code(name, &source)?;
        let c = &mut function.latest;
        c.code_sha256 = code.sha256;
        c.code_size = code.size;
        c.code_dir = code.dir.display().to_string();
        c.code_local = code.local;
        c.revision_id = self.uuid();
        c.last_modified_ms = now_ms();
        let mut batch = self.records.store().batch();
        self.records.put_function(&mut batch, &function)?;
        let view = if publish {
            self.publish_into(&mut batch, &mut function)?
        } else {
            View {
                version: "$LATEST".into(),
                config: function.latest.clone(),
                function: function.clone(),
            }
        };
        self.records.put_function(&mut batch, &function)?;
        self.commit(batch).await?;
        self.exec.retire(name);
        Ok(view)
    }

    /// UpdateFunctionConfiguration.
    pub async fn update_config(&self, name: &str, u: ConfigUpdate) -> Result<View, Error> {
        let mut function = self.function(name)?;
        check_revision(&function.latest, u.revision_id.as_deref())?;
        let c = &mut function.latest;
        if let Some(role) = u.role {
            check_role(&role)?;
            c.role = role;
        }
        if let Some(r) = u.runtime {
            check_runtime(&r)?;
            c.runtime = r;
        }
        if let Some(t) = u.timeout_s {
            c.timeout_s = check_timeout(t)?;
        }
        if let Some(m) = u.memory_mb {
            c.memory_mb = check_memory(m)?;
        }
        if let Some(env) = u.environment {
            check_env(&env)?;
            c.environment = env;
        }
        if let Some(h) = u.handler {
            c.handler = h;
        }
        if let Some(d) = u.description {
            c.description = d;
        }
        c.revision_id = self.uuid();
        c.last_modified_ms = now_ms();
        let mut batch = self.records.store().batch();
        self.records.put_function(&mut batch, &function)?;
        self.commit(batch).await?;
        self.exec.retire(name);
        Ok(View {
            version: "$LATEST".into(),
            config: function.latest.clone(),
            function,
        })
    }

    /// DeleteFunction (the whole function, or one version).
    pub async fn delete(&self, r: &FunctionRef) -> Result<(), Error> {
        let function = self
            .records
            .function(&r.name)?
            .ok_or_else(|| self.not_found(&r.name, r.qualifier.as_deref()))?;
        let mut batch = self.records.store().batch();
        match r.qualifier.as_deref() {
            None => {
                self.records.remove_all(&mut batch, &r.name)?;
                self.commit(batch).await?;
                self.exec.retire(&r.name);
                let dir = self.settings.functions_dir.join(&r.name);
                if !function.latest.code_local {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            Some("$LATEST") => {
                return Err(Error::InvalidParameter(
                    "$LATEST version cannot be deleted without deleting the function.".into(),
                ))
            }
            Some(q) => {
                let n: u64 = q.parse().map_err(|_| {
                    Error::InvalidParameter(
                        "Deletion of aliases is not currently supported.".into(),
                    )
                })?;
                if self.records.version(&r.name, n)?.is_none() {
                    return Err(self.not_found(&r.name, Some(q)));
                }
                if let Some(a) = self
                    .records
                    .aliases(&r.name)?
                    .into_iter()
                    .find(|a| a.function_version == q)
                {
                    return Err(Error::Conflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        a.name
                    )));
                }
                self.records.remove_version(&mut batch, &r.name, n)?;
                self.commit(batch).await?;
            }
        }
        Ok(())
    }

    fn publish_into(
        &self,
        batch: &mut tarn_engine::StoreBatch,
        function: &mut FunctionRecord,
    ) -> Result<View, Error> {
        // Nothing changed since the last version: Lambda returns it.
        if let Some(last) = self.records.versions(&function.name)?.pop() {
            if same_code_and_config(&last.config, &function.latest) {
                return Ok(View {
                    version: last.version.to_string(),
                    config: last.config,
                    function: function.clone(),
                });
            }
        }
        let v = VersionRecord {
            version: function.next_version.max(1),
            config: function.latest.clone(),
        };
        function.next_version = v.version + 1;
        self.records.put_version(batch, &function.name, &v)?;
        Ok(View {
            version: v.version.to_string(),
            config: v.config,
            function: function.clone(),
        })
    }

    /// PublishVersion.
    pub async fn publish(
        &self,
        name: &str,
        description: Option<String>,
        code_sha256: Option<&str>,
    ) -> Result<View, Error> {
        let mut function = self.function(name)?;
        if let Some(sha) = code_sha256 {
            if sha != function.latest.code_sha256 {
                return Err(Error::InvalidParameter(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                    function.latest.code_sha256
                )));
            }
        }
        let mut batch = self.records.store().batch();
        let mut view = self.publish_into(&mut batch, &mut function)?;
        if let Some(d) = description {
            if view.version != "$LATEST" && view.config.description != d {
                view.config.description = d;
                let n: u64 = view.version.parse().unwrap_or(0);
                self.records.put_version(
                    &mut batch,
                    name,
                    &VersionRecord {
                        version: n,
                        config: view.config.clone(),
                    },
                )?;
            }
        }
        self.records.put_function(&mut batch, &function)?;
        self.commit(batch).await?;
        view.function = function;
        Ok(view)
    }

    /// ListVersionsByFunction: `$LATEST` then every version.
    pub fn versions(&self, name: &str) -> Result<Vec<View>, Error> {
        let function = self.function(name)?;
        let mut out = vec![View {
            version: "$LATEST".into(),
            config: function.latest.clone(),
            function: function.clone(),
        }];
        for v in self.records.versions(name)? {
            out.push(View {
                version: v.version.to_string(),
                config: v.config,
                function: function.clone(),
            });
        }
        Ok(out)
    }

    fn check_alias_version(&self, name: &str, version: &str) -> Result<(), Error> {
        if version == "$LATEST" {
            return Ok(());
        }
        let exists = match version.parse::<u64>() {
            Ok(n) => self.records.version(name, n)?.is_some(),
            Err(_) => false,
        };
        if exists {
            Ok(())
        } else {
            Err(Error::NotFound(format!(
                "Function not found: {}",
                self.arns.function_qualified(name, version)
            )))
        }
    }

    fn alias_not_found(&self, name: &str, alias: &str) -> Error {
        Error::NotFound(format!(
            "Cannot find alias arn: {}",
            self.arns.function_qualified(name, alias)
        ))
    }

    /// CreateAlias.
    pub async fn create_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        description: Option<String>,
    ) -> Result<AliasRecord, Error> {
        self.function(name)?;
        if !is_name(alias) || alias.bytes().all(|b| b.is_ascii_digit()) {
            return Err(validation(
                alias,
                "name",
                "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            ));
        }
        self.check_alias_version(name, version)?;
        if self.records.alias(name, alias)?.is_some() {
            return Err(Error::Conflict(format!(
                "Alias already exists: {}",
                self.arns.function_qualified(name, alias)
            )));
        }
        let a = AliasRecord {
            name: alias.to_owned(),
            function_version: version.to_owned(),
            description: description.unwrap_or_default(),
            revision_id: self.uuid(),
        };
        let mut batch = self.records.store().batch();
        self.records.put_alias(&mut batch, name, &a)?;
        self.commit(batch).await?;
        Ok(a)
    }

    /// GetAlias.
    pub fn alias(&self, name: &str, alias: &str) -> Result<AliasRecord, Error> {
        self.function(name)?;
        self.records
            .alias(name, alias)?
            .ok_or_else(|| self.alias_not_found(name, alias))
    }

    /// ListAliases.
    pub fn aliases(&self, name: &str) -> Result<Vec<AliasRecord>, Error> {
        self.function(name)?;
        self.records.aliases(name)
    }

    /// UpdateAlias.
    pub async fn update_alias(
        &self,
        name: &str,
        alias: &str,
        version: Option<String>,
        description: Option<String>,
        revision_id: Option<&str>,
    ) -> Result<AliasRecord, Error> {
        let mut a = self.alias(name, alias)?;
        if revision_id.is_some_and(|r| r != a.revision_id) {
            return Err(precondition());
        }
        if let Some(v) = version {
            self.check_alias_version(name, &v)?;
            a.function_version = v;
        }
        if let Some(d) = description {
            a.description = d;
        }
        a.revision_id = self.uuid();
        let mut batch = self.records.store().batch();
        self.records.put_alias(&mut batch, name, &a)?;
        self.commit(batch).await?;
        Ok(a)
    }

    /// DeleteAlias.
    pub async fn delete_alias(&self, name: &str, alias: &str) -> Result<(), Error> {
        self.function(name)?;
        let mut batch = self.records.store().batch();
        self.records.remove_alias(&mut batch, name, alias)?;
        self.records.remove_invoke_config(&mut batch, name, alias)?;
        self.commit(batch).await
    }

    fn invoke_config_target(&self, r: &FunctionRef) -> Result<String, Error> {
        let qualifier = r.qualifier.clone().unwrap_or_else(|| "$LATEST".into());
        self.view(&FunctionRef {
            name: r.name.clone(),
            qualifier: Some(qualifier.clone()),
        })?;
        Ok(qualifier)
    }

    /// PutFunctionEventInvokeConfig (`replace`) or
    /// UpdateFunctionEventInvokeConfig (merge).
    pub async fn put_invoke_config(
        &self,
        r: &FunctionRef,
        input: InvokeConfigInput,
        replace: bool,
    ) -> Result<InvokeConfigRecord, Error> {
        let qualifier = self.invoke_config_target(r)?;
        if let Some(n) = input.maximum_retry_attempts {
            if n < 0 {
                return Err(validation(
                    &n.to_string(),
                    "maximumRetryAttempts",
                    "Member must have value greater than or equal to 0",
                ));
            }
            if n > 2 {
                return Err(validation(
                    &n.to_string(),
                    "maximumRetryAttempts",
                    "Member must have value less than or equal to 2",
                ));
            }
        }
        if let Some(n) = input.maximum_event_age_s {
            if n < 60 {
                return Err(validation(
                    &n.to_string(),
                    "maximumEventAgeInSeconds",
                    "Member must have value greater than or equal to 60",
                ));
            }
            if n > 21600 {
                return Err(validation(
                    &n.to_string(),
                    "maximumEventAgeInSeconds",
                    "Member must have value less than or equal to 21600",
                ));
            }
        }
        for d in [&input.on_success, &input.on_failure].into_iter().flatten() {
            if crate::queue::destination(d).is_none() {
                return Err(Error::InvalidParameter(format!(
                    "The destination ARN {d} is invalid."
                )));
            }
        }
        let mut c = match (replace, self.records.invoke_config(&r.name, &qualifier)?) {
            (false, Some(existing)) => existing,
            (false, None) => {
                return Err(self.no_invoke_config(&r.name, &qualifier));
            }
            (true, _) => InvokeConfigRecord {
                qualifier: qualifier.clone(),
                ..InvokeConfigRecord::default()
            },
        };
        if replace || input.maximum_retry_attempts.is_some() {
            c.maximum_retry_attempts = input.maximum_retry_attempts.map(|n| n as u32);
        }
        if replace || input.maximum_event_age_s.is_some() {
            c.maximum_event_age_s = input.maximum_event_age_s.map(|n| n as u32);
        }
        if replace || input.on_success.is_some() {
            c.on_success = input.on_success;
        }
        if replace || input.on_failure.is_some() {
            c.on_failure = input.on_failure;
        }
        c.last_modified_ms = now_ms();
        let mut batch = self.records.store().batch();
        self.records.put_invoke_config(&mut batch, &r.name, &c)?;
        self.commit(batch).await?;
        Ok(c)
    }

    fn no_invoke_config(&self, name: &str, qualifier: &str) -> Error {
        Error::NotFound(format!(
            "The function {} doesn't have an EventInvokeConfig",
            self.arns.function_qualified(name, qualifier)
        ))
    }

    /// GetFunctionEventInvokeConfig.
    pub fn invoke_config(&self, r: &FunctionRef) -> Result<InvokeConfigRecord, Error> {
        let qualifier = self.invoke_config_target(r)?;
        self.records
            .invoke_config(&r.name, &qualifier)?
            .ok_or_else(|| self.no_invoke_config(&r.name, &qualifier))
    }

    /// ListFunctionEventInvokeConfigs.
    pub fn invoke_configs(&self, name: &str) -> Result<Vec<InvokeConfigRecord>, Error> {
        self.function(name)?;
        self.records.invoke_configs(name)
    }

    /// DeleteFunctionEventInvokeConfig.
    pub async fn delete_invoke_config(&self, r: &FunctionRef) -> Result<(), Error> {
        let qualifier = self.invoke_config_target(r)?;
        if self.records.invoke_config(&r.name, &qualifier)?.is_none() {
            return Err(self.no_invoke_config(&r.name, &qualifier));
        }
        let mut batch = self.records.store().batch();
        self.records
            .remove_invoke_config(&mut batch, &r.name, &qualifier)?;
        self.commit(batch).await
    }

    /// PutFunctionConcurrency / DeleteFunctionConcurrency (`None`).
    pub async fn set_concurrency(&self, name: &str, reserved: Option<i64>) -> Result<(), Error> {
        let mut function = self.function(name)?;
        function.reserved_concurrency = match reserved {
            None => None,
            Some(n) if n < 0 => {
                return Err(validation(
                    &n.to_string(),
                    "reservedConcurrentExecutions",
                    "Member must have value greater than or equal to 0",
                ))
            }
            Some(n) if n > self.settings.exec.concurrency_max as i64 => {
                return Err(Error::InvalidParameter(format!(
                    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0]. (Tarn's limit is {}.)",
                    self.settings.exec.concurrency_max
                )))
            }
            Some(n) => Some(n as u32),
        };
        let mut batch = self.records.store().batch();
        self.records.put_function(&mut batch, &function)?;
        self.commit(batch).await
    }

    /// TagResource / UntagResource / ListTags on a function ARN.
    pub async fn tag(
        &self,
        arn: &str,
        add: BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<BTreeMap<String, String>, Error> {
        let name = self.tagged_function(arn)?;
        let mut function = self.function(&name)?;
        if add.is_empty() && remove.is_empty() {
            return Ok(function.tags);
        }
        for k in remove {
            function.tags.remove(k);
        }
        function.tags.extend(add);
        if function.tags.len() > 50 {
            return Err(Error::InvalidParameter(
                "Number of tags exceeds resource tag limit.".into(),
            ));
        }
        let mut batch = self.records.store().batch();
        self.records.put_function(&mut batch, &function)?;
        self.commit(batch).await?;
        Ok(function.tags)
    }

    fn tagged_function(&self, arn: &str) -> Result<String, Error> {
        match self.arns.function_in(arn) {
            Some((name, None)) => Ok(name.to_owned()),
            Some((_, Some(_))) => Err(Error::InvalidParameter(
                "Tags on function aliases and versions are not supported. Please specify a function ARN."
                    .into(),
            )),
            None if arn.starts_with("arn:") && arn.contains(":lambda:") => {
                Err(Error::NotFound(format!("Function not found: {arn}")))
            }
            None => Err(validation(
                arn,
                "resource",
                "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
            )),
        }
    }

    /// Invoke with `RequestResponse`.
    pub async fn invoke(
        &self,
        r: &FunctionRef,
        payload: &[u8],
        client_context: Option<String>,
    ) -> Result<Invoked, Error> {
        let view = self.view(r)?;
        let payload = check_payload(payload, crate::queue::SYNC_PAYLOAD_BYTES_MAX)?;
        let invoked_arn = self.arn(&r.name, r.qualifier.as_deref());
        let request_id = self.uuid();
        let outcome = self
            .run(r, &view, &invoked_arn, &request_id, payload, client_context)
            .await
            .map_err(|t| Error::TooManyRequests {
                reason: match t {
                    crate::exec::Throttle::Reserved => {
                        "ReservedFunctionConcurrentInvocationLimitExceeded"
                    }
                    crate::exec::Throttle::Global => "ConcurrentInvocationLimitExceeded",
                },
            })?;
        Ok(Invoked {
            outcome,
            executed_version: view.version,
            request_id,
        })
    }

    /// Runs one invocation of a resolved view on the process runner.
    pub(crate) async fn run(
        &self,
        r: &FunctionRef,
        view: &View,
        invoked_arn: &str,
        request_id: &str,
        payload: Vec<u8>,
        client_context: Option<String>,
    ) -> Result<crate::Outcome, crate::exec::Throttle> {
        self.exec
            .invoke(
                &r.name,
                &view.version,
                &view.config,
                view.function.reserved_concurrency,
                invoked_arn,
                request_id,
                payload,
                client_context,
            )
            .await
    }

    /// Invoke with `DryRun`: checks the function exists.
    pub fn dry_run(&self, r: &FunctionRef) -> Result<(), Error> {
        self.view(r).map(|_| ())
    }
}

/// Lambda refuses a payload that is not JSON, or over the limit. An
/// empty payload is the empty object.
pub fn check_payload(payload: &[u8], max: usize) -> Result<Vec<u8>, Error> {
    if payload.len() > max {
        return Err(Error::RequestTooLarge(format!(
            "Request must be smaller than {max} bytes for the InvokeFunction operation"
        )));
    }
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(b"{}".to_vec());
    }
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(payload) {
        return Err(Error::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        )));
    }
    Ok(payload.to_vec())
}

fn precondition() -> Error {
    Error::InvalidParameter(
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
            .into(),
    )
}

fn check_revision(c: &Config, expected: Option<&str>) -> Result<(), Error> {
    match expected {
        Some(r) if r != c.revision_id => Err(precondition()),
        _ => Ok(()),
    }
}

fn same_code_and_config(a: &Config, b: &Config) -> bool {
    let strip = |c: &Config| Config {
        revision_id: String::new(),
        last_modified_ms: 0,
        description: String::new(),
        ..c.clone()
    };
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_parse_in_every_form_lambda_takes() {
        let r = |s| parse_function_ref(s, "functionName");
        assert_eq!(r("f").expect("name").name, "f");
        assert_eq!(r("f:prod").expect("q").qualifier.as_deref(), Some("prod"));
        let full = r("arn:aws:lambda:us-east-1:000000000000:function:f:3").expect("arn");
        assert_eq!(
            (full.name.as_str(), full.qualifier.as_deref()),
            ("f", Some("3"))
        );
        let partial = r("000000000000:function:f").expect("partial");
        assert_eq!(partial.name, "f");
        assert!(matches!(r("bad name"), Err(Error::Validation(_))));
        assert!(matches!(r("a:b:c"), Err(Error::Validation(_))));
        assert!(matches!(r(""), Err(Error::Validation(_))));
    }

    #[test]
    fn roles_must_be_iam_role_arns() {
        assert!(check_role("arn:aws:iam::123456789012:role/service-role/x").is_ok());
        assert!(matches!(check_role("role"), Err(Error::Validation(_))));
        assert!(matches!(
            check_role("arn:aws:iam::1234:role/x"),
            Err(Error::Validation(_))
        ));
    }

    #[test]
    fn payloads_must_be_json() {
        assert_eq!(check_payload(b"", 10).expect("empty"), b"{}");
        assert!(matches!(
            check_payload(b"{", 10),
            Err(Error::InvalidRequestContent(_))
        ));
        assert!(matches!(
            check_payload(b"[1,2,3,4,5,6]", 5),
            Err(Error::RequestTooLarge(_))
        ));
    }
}

//! The Lambda API's JSON shapes: requests as the SDKs send them, replies
//! serialized from typed structs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tarn_lambda::api::View;
use tarn_lambda::model::{AliasRecord, InvokeConfigRecord};
use tarn_lambda::time::last_modified;

/// `Environment`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentIn {
    pub variables: Option<BTreeMap<String, String>>,
}

/// `Code` of CreateFunction; also UpdateFunctionCode's body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeIn {
    pub zip_file: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    pub image_uri: Option<String>,
    #[serde(default)]
    pub publish: bool,
    pub revision_id: Option<String>,
}

/// CreateFunction.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionIn {
    pub function_name: Option<String>,
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentIn>,
    pub code: Option<CodeIn>,
    #[serde(default)]
    pub publish: bool,
    pub tags: Option<BTreeMap<String, String>>,
    pub architectures: Option<Vec<String>>,
    pub package_type: Option<String>,
}

/// UpdateFunctionConfiguration.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateConfigIn {
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentIn>,
    pub revision_id: Option<String>,
}

/// PublishVersion.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishIn {
    pub description: Option<String>,
    pub code_sha256: Option<String>,
}

/// CreateAlias / UpdateAlias.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasIn {
    pub name: Option<String>,
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub revision_id: Option<String>,
}

/// `{"Destination": arn}`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationIo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

/// `DestinationConfig`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfigIo {
    pub on_success: Option<DestinationIo>,
    pub on_failure: Option<DestinationIo>,
}

/// Put/UpdateFunctionEventInvokeConfig.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvokeConfigIn {
    pub maximum_retry_attempts: Option<i64>,
    pub maximum_event_age_in_seconds: Option<i64>,
    pub destination_config: Option<DestinationConfigIo>,
}

/// PutFunctionConcurrency.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConcurrencyIn {
    pub reserved_concurrent_executions: Option<i64>,
}

/// TagResource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsIn {
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment<'a> {
    pub variables: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Mode {
    pub mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Size {
    pub size: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStart {
    pub apply_on: &'static str,
    pub optimization_status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_format: &'static str,
    pub log_group: String,
}

/// Where a configuration is in its life, as the reply reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// CreateFunction's reply: `Pending`.
    Creating,
    /// An update's reply: `Active`, `LastUpdateStatus: InProgress`.
    Updating,
    /// Every later read: `Active`, `Successful`.
    Settled,
}

/// `FunctionConfiguration`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration<'a> {
    pub function_name: &'a str,
    pub function_arn: String,
    pub runtime: &'a str,
    pub role: &'a str,
    pub handler: &'a str,
    pub code_size: u64,
    pub description: &'a str,
    pub timeout: u32,
    pub memory_size: u32,
    pub last_modified: String,
    pub code_sha256: &'a str,
    pub version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment<'a>>,
    pub tracing_config: Mode,
    pub revision_id: &'a str,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason_code: Option<&'static str>,
    pub package_type: &'static str,
    pub architectures: &'a [String],
    pub ephemeral_storage: Size,
    pub snap_start: SnapStart,
    pub logging_config: LoggingConfig,
}

/// A configuration as Lambda describes it.
pub fn configuration<'a>(
    view: &'a View,
    function_arn: String,
    phase: Phase,
) -> FunctionConfiguration<'a> {
    let c = &view.config;
    let (state, state_reason, state_reason_code) = match phase {
        Phase::Creating => (
            "Pending",
            Some("The function is being created."),
            Some("Creating"),
        ),
        _ => ("Active", None, None),
    };
    let (update, update_reason, update_reason_code) = match phase {
        Phase::Creating => (None, None, None),
        Phase::Updating => (
            Some("InProgress"),
            Some("The function is being created."),
            Some("Creating"),
        ),
        Phase::Settled => (Some("Successful"), None, None),
    };
    FunctionConfiguration {
        function_name: &view.function.name,
        function_arn,
        runtime: &c.runtime,
        role: &c.role,
        handler: &c.handler,
        code_size: c.code_size,
        description: &c.description,
        timeout: c.timeout_s,
        memory_size: c.memory_mb,
        last_modified: last_modified(c.last_modified_ms),
        code_sha256: &c.code_sha256,
        version: &view.version,
        environment: (!c.environment.is_empty()).then_some(Environment {
            variables: &c.environment,
        }),
        tracing_config: Mode {
            mode: "PassThrough",
        },
        revision_id: &c.revision_id,
        state,
        state_reason,
        state_reason_code,
        last_update_status: update,
        last_update_status_reason: update_reason,
        last_update_status_reason_code: update_reason_code,
        package_type: "Zip",
        architectures: &c.architectures,
        ephemeral_storage: Size { size: 512 },
        snap_start: SnapStart {
            apply_on: "None",
            optimization_status: "Off",
        },
        logging_config: LoggingConfig {
            log_format: "Text",
            log_group: format!("/aws/lambda/{}", view.function.name),
        },
    }
}

/// GetFunction's `Code`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeLocation {
    pub repository_type: &'static str,
    pub location: String,
}

/// `{"ReservedConcurrentExecutions": n}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Concurrency {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
}

/// GetFunction.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFunctionOut<'a> {
    pub configuration: FunctionConfiguration<'a>,
    pub code: CodeLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
}

/// ListFunctions / ListVersionsByFunction.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub functions: Option<Vec<FunctionConfiguration<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<FunctionConfiguration<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// `AliasConfiguration`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasOut<'a> {
    pub alias_arn: String,
    pub name: &'a str,
    pub function_version: &'a str,
    pub description: &'a str,
    pub revision_id: &'a str,
}

/// An alias as Lambda describes it.
pub fn alias(a: &AliasRecord, arn: String) -> AliasOut<'_> {
    AliasOut {
        alias_arn: arn,
        name: &a.name,
        function_version: &a.function_version,
        description: &a.description,
        revision_id: &a.revision_id,
    }
}

/// ListAliases.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasesOut<'a> {
    pub aliases: Vec<AliasOut<'a>>,
}

/// An event invoke config.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvokeConfigOut {
    pub last_modified: f64,
    pub function_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<u32>,
    pub destination_config: DestinationConfigIo,
}

/// An event invoke config as Lambda describes it.
pub fn invoke_config(c: &InvokeConfigRecord, function_arn: String) -> InvokeConfigOut {
    InvokeConfigOut {
        last_modified: c.last_modified_ms as f64 / 1000.0,
        function_arn,
        maximum_retry_attempts: c.maximum_retry_attempts,
        maximum_event_age_in_seconds: c.maximum_event_age_s,
        destination_config: DestinationConfigIo {
            on_success: Some(DestinationIo {
                destination: c.on_success.clone(),
            }),
            on_failure: Some(DestinationIo {
                destination: c.on_failure.clone(),
            }),
        },
    }
}

/// ListFunctionEventInvokeConfigs.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvokeConfigsOut {
    pub function_event_invoke_configs: Vec<InvokeConfigOut>,
}

/// ListTags.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsOut<'a> {
    pub tags: &'a BTreeMap<String, String>,
}

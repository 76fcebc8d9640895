//! Backups and point-in-time recovery: CreateBackup, DescribeBackup,
//! ListBackups, DeleteBackup, RestoreTableFromBackup,
//! DescribeContinuousBackups, UpdateContinuousBackups and
//! RestoreTableToPointInTime. Messages and shapes: `docs/research/backups-and-lifecycle.md`.

use serde::{Deserialize, Serialize};
use tarn_engine::{
    Backup, BackupStatus, BillingMode, PitrWindow, RestoreTarget, TableDef, TableInfo,
    RECOVERY_PERIOD_DAYS_MAX,
};

use super::indexes::{
    self, GlobalIndexIn, GlobalIndexInfoOut, KeyOut, LocalIndexIn, LocalIndexInfoOut, UnitsOut,
};
use super::schema::{check_throughput, throughput_bounds, ProvisionedThroughput};
use super::settings::{self, OnDemandThroughputIn, SseSpecificationIn};
use super::tables::{self, TableDescription, TableDescriptionReply};
use super::{blocking, reply};
use crate::app::App;
use crate::error::{ApiError, Constraints, ErrorCode};

/// Shortest and longest backup ARN DynamoDB accepts.
const BACKUP_ARN_LENGTH_MIN: usize = 37;
const BACKUP_ARN_LENGTH_MAX: usize = 1024;
/// Longest table name or ARN in a TableName member.
const TABLE_NAME_OR_ARN_LENGTH_MAX: usize = 1024;
/// ListBackups' page size limit (and default).
const LIST_LIMIT_MAX: i32 = 100;

const INVALID: &str = "One or more parameter values were invalid:";

fn backup_not_found(arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BackupNotFound,
        format!("Backup not found: {arn}"),
    )
}

/// The backup an ARN names.
async fn find_backup(app: &App, arn: &str) -> Result<Backup, ApiError> {
    let Some(parsed) = app.arns.backup_in(arn) else {
        return Err(backup_not_found(arn));
    };
    let (table, ms, id) = (parsed.table.to_owned(), parsed.created_ms, parsed.id);
    let arn_owned = arn.to_owned();
    blocking(app, move |e| e.describe_backup(id))
        .await
        .map_err(|e| not_found_as(e, &arn_owned))
        .and_then(|b| {
            if b.source.name == table && b.created_ms == ms {
                Ok(b)
            } else {
                Err(backup_not_found(arn))
            }
        })
}

/// Names the backup's ARN in a BackupNotFoundException.
fn not_found_as(e: ApiError, arn: &str) -> ApiError {
    if e.code == ErrorCode::BackupNotFound {
        backup_not_found(arn)
    } else {
        e
    }
}

/// A TableName member that may also be the table's ARN: checks it and
/// returns the name.
fn table_name_or_arn(
    c: &mut Constraints,
    app: &App,
    value: Option<&str>,
    path: &str,
) -> Option<String> {
    let Some(value) = value else {
        c.null(path);
        return None;
    };
    if value.starts_with("arn:") {
        if value.len() > TABLE_NAME_OR_ARN_LENGTH_MAX {
            c.violated(
                &value,
                path,
                "Member must have length less than or equal to 1024",
            );
        }
        return Some(
            app.arns
                .table_resource_in(value)
                .unwrap_or(value)
                .to_owned(),
        );
    }
    c.table_name(value, path);
    Some(value.to_owned())
}

fn backup_arn_member(c: &mut Constraints, value: Option<&str>, path: &str) {
    let Some(value) = value else {
        c.null(path);
        return;
    };
    if value.len() < BACKUP_ARN_LENGTH_MIN {
        c.violated(
            &value,
            path,
            "Member must have length greater than or equal to 37",
        );
    }
    if value.len() > BACKUP_ARN_LENGTH_MAX {
        c.violated(
            &value,
            path,
            "Member must have length less than or equal to 1024",
        );
    }
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// Tolerance for the binary fraction of a timestamp sent as seconds: a
/// whole millisecond may arrive a hair below itself.
const MS_EPSILON: f64 = 1e-3;

/// The last whole millisecond at or before `seconds`.
fn ms_at_or_before(seconds: f64) -> u64 {
    (seconds * 1000.0 + MS_EPSILON).floor().max(0.0) as u64
}

/// The first whole millisecond at or after `seconds`.
fn ms_at_or_after(seconds: f64) -> u64 {
    (seconds * 1000.0 - MS_EPSILON).ceil().max(0.0) as u64
}

// ---- replies ----

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BackupDetailsOut {
    backup_arn: String,
    backup_name: String,
    backup_size_bytes: u64,
    backup_status: &'static str,
    backup_type: &'static str,
    backup_creation_date_time: f64,
}

fn details(app: &App, b: &Backup) -> BackupDetailsOut {
    BackupDetailsOut {
        backup_arn: app.arns.backup(&b.source.name, b.created_ms, b.id),
        backup_name: b.name.clone(),
        backup_size_bytes: b.size_bytes,
        backup_status: b.status.as_str(),
        backup_type: b.backup_type.as_str(),
        backup_creation_date_time: seconds(b.created_ms),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SourceTableDetailsOut<'a> {
    table_name: &'a str,
    table_id: String,
    table_arn: String,
    table_size_bytes: u64,
    key_schema: Vec<KeyOut<'a>>,
    table_creation_date_time: f64,
    provisioned_throughput: UnitsOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_demand_throughput: Option<settings::OnDemandThroughputOut>,
    item_count: u64,
    billing_mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamOut {
    stream_enabled: bool,
    stream_view_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TtlOut<'a> {
    time_to_live_status: &'static str,
    attribute_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FeatureDetailsOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    local_secondary_indexes: Option<Vec<LocalIndexInfoOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    global_secondary_indexes: Option<Vec<GlobalIndexInfoOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_description: Option<StreamOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_to_live_description: Option<TtlOut<'a>>,
    #[serde(rename = "SSEDescription", skip_serializing_if = "Option::is_none")]
    sse_description: Option<settings::SseDescriptionOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BackupDescriptionOut<'a> {
    backup_details: BackupDetailsOut,
    source_table_details: SourceTableDetailsOut<'a>,
    source_table_feature_details: FeatureDetailsOut<'a>,
}

fn key_schema(def: &TableDef) -> Vec<KeyOut<'_>> {
    let ks = &def.key_schema;
    let mut out = vec![KeyOut {
        attribute_name: &ks.hash.name,
        key_type: "HASH",
    }];
    out.extend(ks.range.as_ref().map(|r| KeyOut {
        attribute_name: &r.name,
        key_type: "RANGE",
    }));
    out
}

fn billing_name(mode: BillingMode) -> &'static str {
    match mode {
        BillingMode::PayPerRequest => "PAY_PER_REQUEST",
        BillingMode::Provisioned => "PROVISIONED",
    }
}

fn description<'a>(app: &App, b: &'a Backup) -> BackupDescriptionOut<'a> {
    let def = &b.source;
    let described = settings::describe(&def.settings);
    let (globals, locals) = indexes::infos(def);
    BackupDescriptionOut {
        backup_details: details(app, b),
        source_table_details: SourceTableDetailsOut {
            table_name: &def.name,
            table_id: app.table_uuid(def.id, def.created_ms),
            table_arn: app.arns.table(&def.name),
            table_size_bytes: b.size_bytes,
            key_schema: key_schema(def),
            table_creation_date_time: seconds(def.created_ms),
            provisioned_throughput: UnitsOut {
                read_capacity_units: def.throughput.read_units,
                write_capacity_units: def.throughput.write_units,
            },
            on_demand_throughput: described.on_demand_throughput,
            item_count: b.item_count,
            billing_mode: billing_name(def.billing_mode),
        },
        source_table_feature_details: FeatureDetailsOut {
            local_secondary_indexes: (!locals.is_empty()).then_some(locals),
            global_secondary_indexes: (!globals.is_empty()).then_some(globals),
            stream_description: def.enabled_stream().map(|s| StreamOut {
                stream_enabled: true,
                stream_view_type: s.view_type.as_str(),
            }),
            time_to_live_description: def.settings.ttl.as_ref().map(|t| TtlOut {
                time_to_live_status: "ENABLED",
                attribute_name: &t.attribute,
            }),
            sse_description: described.sse_description,
        },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BackupDescriptionReply<'a> {
    backup_description: BackupDescriptionOut<'a>,
}

// ---- CreateBackup, DescribeBackup, DeleteBackup, ListBackups ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateBackupInput {
    table_name: Option<String>,
    backup_name: Option<String>,
}

pub(super) async fn create_backup(
    app: &App,
    input: CreateBackupInput,
) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    let table = table_name_or_arn(&mut c, app, input.table_name.as_deref(), "tableName");
    match input.backup_name.as_deref() {
        None => c.null("backupName"),
        Some(name) => c.table_name(name, "backupName"),
    }
    c.finish()?;
    let (table, name) = (
        table.unwrap_or_default(),
        input.backup_name.unwrap_or_default(),
    );
    let backup = blocking(app, move |e| e.create_backup(&table, &name)).await?;
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Reply {
        backup_details: BackupDetailsOut,
    }
    reply(&Reply {
        backup_details: details(app, &backup),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BackupArnInput {
    backup_arn: Option<String>,
}

pub(super) async fn describe_backup(app: &App, input: BackupArnInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    backup_arn_member(&mut c, input.backup_arn.as_deref(), "backupArn");
    c.finish()?;
    let backup = find_backup(app, input.backup_arn.as_deref().unwrap_or_default()).await?;
    reply(&BackupDescriptionReply {
        backup_description: description(app, &backup),
    })
}

pub(super) async fn delete_backup(app: &App, input: BackupArnInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    backup_arn_member(&mut c, input.backup_arn.as_deref(), "backupArn");
    c.finish()?;
    let arn = input.backup_arn.unwrap_or_default();
    let found = find_backup(app, &arn).await?;
    let id = found.id;
    let deleted = blocking(app, move |e| e.delete_backup(id))
        .await
        .map_err(|e| not_found_as(e, &arn))?;
    debug_assert_eq!(deleted.status, BackupStatus::Deleted);
    reply(&BackupDescriptionReply {
        backup_description: description(app, &deleted),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListBackupsInput {
    table_name: Option<String>,
    limit: Option<i32>,
    time_range_lower_bound: Option<f64>,
    time_range_upper_bound: Option<f64>,
    exclusive_start_backup_arn: Option<String>,
    backup_type: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BackupSummaryOut<'a> {
    table_name: &'a str,
    table_id: String,
    table_arn: String,
    backup_arn: String,
    backup_name: &'a str,
    backup_creation_date_time: f64,
    backup_status: &'static str,
    backup_type: &'static str,
    backup_size_bytes: u64,
}

pub(super) async fn list_backups(app: &App, input: ListBackupsInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    let table = match input.table_name.as_deref() {
        None => None,
        some => table_name_or_arn(&mut c, app, some, "tableName"),
    };
    if let Some(limit) = input.limit {
        c.between(limit.into(), "limit", 1, LIST_LIMIT_MAX.into());
    }
    if let Some(arn) = input.exclusive_start_backup_arn.as_deref() {
        backup_arn_member(&mut c, Some(arn), "exclusiveStartBackupArn");
    }
    if let Some(t) = &input.backup_type {
        c.one_of(t, "backupType", "[USER, SYSTEM, AWS_BACKUP, ALL]");
    }
    c.finish()?;
    let after = match input.exclusive_start_backup_arn.as_deref() {
        None => None,
        Some(arn) => match app
            .arns
            .backup_in(arn)
            .map(|b| (b.table, b.created_ms, b.id))
        {
            Some((_, _, id)) => Some(id),
            None => {
                return Err(ApiError::validation(format!(
                    "Invalid ExclusiveStartBackupArn: {arn}"
                )))
            }
        },
    };
    // Tarn makes only USER backups.
    let wanted = matches!(input.backup_type.as_deref(), None | Some("USER" | "ALL"));
    let lower_ms = input.time_range_lower_bound.map(ms_at_or_after);
    let upper_ms = input.time_range_upper_bound.map(ms_at_or_after);
    let all = blocking(app, |e| e.list_backups()).await?;
    let matching: Vec<&Backup> = all
        .iter()
        .filter(|_| wanted)
        .filter(|b| table.as_deref().is_none_or(|t| b.source.name == t))
        .filter(|b| lower_ms.is_none_or(|l| b.created_ms >= l))
        .filter(|b| upper_ms.is_none_or(|u| b.created_ms < u))
        .filter(|b| after.is_none_or(|a| b.id > a))
        .collect();
    let limit = input.limit.unwrap_or(LIST_LIMIT_MAX) as usize;
    let page = &matching[..matching.len().min(limit)];
    let last = (matching.len() > limit)
        .then(|| page.last())
        .flatten()
        .map(|b| app.arns.backup(&b.source.name, b.created_ms, b.id));
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Reply<'a> {
        backup_summaries: Vec<BackupSummaryOut<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_evaluated_backup_arn: Option<String>,
    }
    reply(&Reply {
        backup_summaries: page
            .iter()
            .map(|b| BackupSummaryOut {
                table_name: &b.source.name,
                table_id: app.table_uuid(b.source.id, b.source.created_ms),
                table_arn: app.arns.table(&b.source.name),
                backup_arn: app.arns.backup(&b.source.name, b.created_ms, b.id),
                backup_name: &b.name,
                backup_creation_date_time: seconds(b.created_ms),
                backup_status: b.status.as_str(),
                backup_type: b.backup_type.as_str(),
                backup_size_bytes: b.size_bytes,
            })
            .collect(),
        last_evaluated_backup_arn: last,
    })
}

// ---- restores ----

/// RestoreTableFromBackup's and RestoreTableToPointInTime's members: the
/// target and its overrides are common, and each operation reads its own
/// source members (DynamoDB ignores members an operation does not have).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RestoreInput {
    target_table_name: Option<String>,
    backup_arn: Option<String>,
    source_table_arn: Option<String>,
    source_table_name: Option<String>,
    use_latest_restorable_time: Option<bool>,
    restore_date_time: Option<f64>,
    billing_mode_override: Option<String>,
    global_secondary_index_override: Option<Vec<GlobalIndexIn>>,
    local_secondary_index_override: Option<Vec<LocalIndexIn>>,
    provisioned_throughput_override: Option<ProvisionedThroughput>,
    on_demand_throughput_override: Option<OnDemandThroughputIn>,
    #[serde(rename = "SSESpecificationOverride")]
    sse_specification_override: Option<SseSpecificationIn>,
}

impl RestoreInput {
    /// The constraints of the target and override members.
    fn constraints(&self, c: &mut Constraints) {
        match self.target_table_name.as_deref() {
            None => c.null("targetTableName"),
            Some(name) => c.table_name(name, "targetTableName"),
        }
        if let Some(mode) = &self.billing_mode_override {
            c.one_of(
                mode,
                "billingModeOverride",
                "[PROVISIONED, PAY_PER_REQUEST]",
            );
        }
        if let Some(pt) = &self.provisioned_throughput_override {
            check_throughput(c, pt, "provisionedThroughputOverride");
        }
        if let Some(sse) = &self.sse_specification_override {
            settings::sse_constraints(c, sse, "sSESpecificationOverride");
        }
    }

    /// The restore target, from the source table's definition.
    fn target(&self, app: &App, source: &TableDef) -> Result<RestoreTarget, ApiError> {
        let mode = match self.billing_mode_override.as_deref() {
            Some("PAY_PER_REQUEST") => BillingMode::PayPerRequest,
            Some(_) => BillingMode::Provisioned,
            None => source.billing_mode,
        };
        let throughput = match (mode, &self.provisioned_throughput_override) {
            (BillingMode::PayPerRequest, Some(_)) => {
                return Err(ApiError::validation(format!(
                    "{INVALID} Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
                )))
            }
            (BillingMode::Provisioned, Some(pt)) => Some(throughput_bounds(pt)?),
            (BillingMode::Provisioned, None) if source.billing_mode != BillingMode::Provisioned => {
                return Err(ApiError::validation(format!(
                    "{INVALID} ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
                )))
            }
            _ => None,
        };
        let on_demand = self
            .on_demand_throughput_override
            .as_ref()
            .map(|od| settings::on_demand(od, mode == BillingMode::Provisioned))
            .transpose()?
            .map(|(r, w)| (r.unwrap_or(-1), w.unwrap_or(-1)));
        let sse_kms_key = self
            .sse_specification_override
            .as_ref()
            .map(|sse| settings::sse_key(app, sse))
            .transpose()?;
        let (local_indexes, global_indexes) = indexes::validate_override(
            self.local_secondary_index_override.as_deref(),
            self.global_secondary_index_override.as_deref(),
            source,
            mode,
        )?;
        Ok(RestoreTarget {
            name: self.target_table_name.clone().unwrap_or_default(),
            billing_mode: Some(mode),
            throughput,
            on_demand,
            sse_kms_key,
            global_indexes,
            local_indexes,
        })
    }
}

fn restored(app: &App, info: &TableInfo) -> Result<Vec<u8>, ApiError> {
    reply(&TableDescriptionReply {
        table_description: TableDescription::new(app, info, tables::status_of(info)),
    })
}

pub(super) async fn restore_table_from_backup(
    app: &App,
    input: RestoreInput,
) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    input.constraints(&mut c);
    backup_arn_member(&mut c, input.backup_arn.as_deref(), "backupArn");
    c.finish()?;
    let arn = input.backup_arn.clone().unwrap_or_default();
    let backup = find_backup(app, &arn).await?;
    let target = input.target(app, &backup.source)?;
    let id = backup.id;
    let info = blocking(app, move |e| e.restore_from_backup(id, target))
        .await
        .map_err(|e| not_found_as(e, &arn))?;
    restored(app, &info)
}

pub(super) async fn restore_table_to_point_in_time(
    app: &App,
    input: RestoreInput,
) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    input.constraints(&mut c);
    if let Some(name) = input.source_table_name.as_deref() {
        c.table_name(name, "sourceTableName");
    }
    c.finish()?;
    let source = match (&input.source_table_arn, &input.source_table_name) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(format!(
                "{INVALID} Only one of SourceTableArn or SourceTableName can be specified"
            )))
        }
        (None, None) => {
            return Err(ApiError::validation(format!(
                "{INVALID} Either SourceTableArn or SourceTableName must be specified"
            )))
        }
        (Some(arn), None) => app.arns.table_resource_in(arn).unwrap_or(arn).to_owned(),
        (None, Some(name)) => name.clone(),
    };
    let latest = input.use_latest_restorable_time == Some(true);
    let at_ms = match (latest, input.restore_date_time) {
        (true, Some(_)) => {
            return Err(ApiError::validation(format!(
                "{INVALID} Only one of RestoreDateTime or UseLatestRestorableTime can be specified"
            )))
        }
        (false, None) => {
            return Err(ApiError::validation(format!(
                "{INVALID} Either RestoreDateTime or UseLatestRestorableTime must be specified"
            )))
        }
        (true, None) => None,
        (false, Some(s)) => Some(ms_at_or_before(s)),
    };
    let lookup = source.clone();
    let def = blocking(app, move |e| e.table_def(&lookup))
        .await
        .map_err(|e| {
            if e.code == ErrorCode::ResourceNotFound {
                ApiError::new(
                    ErrorCode::TableNotFound,
                    format!("Table not found: {source}"),
                )
            } else {
                e
            }
        })?;
    let target = input.target(app, &def)?;
    let info = blocking(app, move |e| {
        e.restore_to_point_in_time(&source, at_ms, target)
    })
    .await?;
    restored(app, &info)
}

// ---- continuous backups ----

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PitrDescriptionOut {
    point_in_time_recovery_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_period_in_days: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    earliest_restorable_date_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_restorable_date_time: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContinuousBackupsOut {
    continuous_backups_status: &'static str,
    point_in_time_recovery_description: PitrDescriptionOut,
}

fn continuous(window: Option<PitrWindow>) -> Result<Vec<u8>, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Reply {
        continuous_backups_description: ContinuousBackupsOut,
    }
    reply(&Reply {
        continuous_backups_description: ContinuousBackupsOut {
            // On-demand backups are always available.
            continuous_backups_status: "ENABLED",
            point_in_time_recovery_description: PitrDescriptionOut {
                point_in_time_recovery_status: if window.is_some() {
                    "ENABLED"
                } else {
                    "DISABLED"
                },
                recovery_period_in_days: window.map(|w| w.period_days),
                earliest_restorable_date_time: window.map(|w| seconds(w.earliest_ms)),
                latest_restorable_date_time: window.map(|w| seconds(w.latest_ms)),
            },
        },
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableNameInput {
    table_name: Option<String>,
}

pub(super) async fn describe_continuous_backups(
    app: &App,
    input: TableNameInput,
) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    let table = table_name_or_arn(&mut c, app, input.table_name.as_deref(), "tableName");
    c.finish()?;
    let table = table.unwrap_or_default();
    let window = blocking(app, move |e| e.continuous_backups(&table)).await?;
    continuous(window)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PitrSpecificationIn {
    point_in_time_recovery_enabled: Option<bool>,
    recovery_period_in_days: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateContinuousBackupsInput {
    table_name: Option<String>,
    point_in_time_recovery_specification: Option<PitrSpecificationIn>,
}

pub(super) async fn update_continuous_backups(
    app: &App,
    input: UpdateContinuousBackupsInput,
) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    let table = table_name_or_arn(&mut c, app, input.table_name.as_deref(), "tableName");
    let spec = input.point_in_time_recovery_specification.as_ref();
    match spec {
        None => c.null("pointInTimeRecoverySpecification"),
        Some(spec) => {
            if spec.point_in_time_recovery_enabled.is_none() {
                c.null("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled");
            }
            if let Some(days) = spec.recovery_period_in_days {
                c.between(
                    days.into(),
                    "pointInTimeRecoverySpecification.recoveryPeriodInDays",
                    1,
                    RECOVERY_PERIOD_DAYS_MAX.into(),
                );
            }
        }
    }
    c.finish()?;
    let enabled = spec.and_then(|s| s.point_in_time_recovery_enabled) == Some(true);
    let days = spec.and_then(|s| s.recovery_period_in_days);
    if days.is_some() && !enabled {
        return Err(ApiError::validation(format!(
            "{INVALID} RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is true"
        )));
    }
    // In 1..=35, checked above.
    let days = days.map(|d| d as u8);
    let table = table.unwrap_or_default();
    let window = blocking(app, move |e| {
        e.update_continuous_backups(&table, enabled, days)
    })
    .await?;
    continuous(window)
}

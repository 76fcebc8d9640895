//! CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tarn_engine::{BillingMode, KeyAttr, KeySchema, TableInfo, TableStatus};
use tarn_expr::ScalarType;

use super::indexes::{self, Definitions, GlobalIndexIn, IndexUpdateIn, LocalIndexIn};
use super::schema::{check_throughput, throughput_bounds, KeySchemaElement, ProvisionedThroughput};
use super::settings::{self, OnDemandThroughputIn, SseSpecificationIn, TagIn};
use super::{blocking, reply, unsupported};
use crate::app::App;
use crate::error::{ApiError, Constraints};

// Structures in a request reject a JSON array, as DynamoDB does.
map_only!(AttributeDefinition, StreamSpecification);

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: Option<String>,
    attribute_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateTableInput {
    table_name: Option<String>,
    key_schema: Option<Vec<KeySchemaElement>>,
    attribute_definitions: Option<Vec<AttributeDefinition>>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<ProvisionedThroughput>,
    local_secondary_indexes: Option<Vec<LocalIndexIn>>,
    global_secondary_indexes: Option<Vec<GlobalIndexIn>>,
    stream_specification: Option<StreamSpecification>,
    #[serde(rename = "SSESpecification")]
    sse_specification: Option<SseSpecificationIn>,
    tags: Option<Vec<TagIn>>,
    table_class: Option<String>,
    deletion_protection_enabled: Option<bool>,
    on_demand_throughput: Option<OnDemandThroughputIn>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
struct StreamSpecification {
    stream_enabled: Option<bool>,
    stream_view_type: Option<String>,
}

/// The view types in the order DynamoDB's constraint message lists them.
const VIEW_TYPES: &str = "[OLD_IMAGE, KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]";

/// The shape constraints of a StreamSpecification.
fn stream_constraints(c: &mut Constraints, spec: &StreamSpecification) {
    if spec.stream_enabled.is_none() {
        c.null("streamSpecification.streamEnabled");
    }
    if let Some(v) = &spec.stream_view_type {
        c.one_of(v, "streamSpecification.streamViewType", VIEW_TYPES);
    }
}

/// What a StreamSpecification asks for: `Some(view)` to enable a stream,
/// `None` to have none.
fn stream_request(
    spec: &StreamSpecification,
    creating: bool,
) -> Result<Option<tarn_engine::changelog::StreamViewType>, ApiError> {
    use tarn_engine::changelog::StreamViewType as V;
    let view = spec.stream_view_type.as_deref().map(|v| match v {
        "NEW_IMAGE" => V::NewImage,
        "OLD_IMAGE" => V::OldImage,
        "NEW_AND_OLD_IMAGES" => V::NewAndOldImages,
        _ => V::KeysOnly,
    });
    match (spec.stream_enabled, view) {
        (Some(true), Some(v)) => Ok(Some(v)),
        (Some(true), None) => Err(ApiError::validation(if creating {
            "One or more parameter values were invalid: Table is being created with a stream enabled, UpdateViewType is required"
        } else {
            "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required"
        })),
        (_, Some(_)) => Err(ApiError::validation(if creating {
            "One or more parameter values were invalid: Table is being created with a stream disabled, UpdateViewType should not be specified"
        } else {
            "One or more parameter values were invalid: If stream is being disabled, then UpdateViewType must not be specified"
        })),
        (_, None) => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableNameInput {
    table_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListTablesInput {
    exclusive_start_table_name: Option<String>,
    #[serde(default, deserialize_with = "super::wire::integer")]
    limit: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateTableInput {
    table_name: Option<String>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<ProvisionedThroughput>,
    attribute_definitions: Option<Vec<AttributeDefinition>>,
    global_secondary_index_updates: Option<Vec<IndexUpdateIn>>,
    stream_specification: Option<StreamSpecification>,
    #[serde(rename = "SSESpecification")]
    sse_specification: Option<SseSpecificationIn>,
    replica_updates: Option<IgnoredAny>,
    table_class: Option<String>,
    deletion_protection_enabled: Option<bool>,
    on_demand_throughput: Option<OnDemandThroughputIn>,
    warm_throughput: Option<IgnoredAny>,
}

/// The control-plane table name rules: a missing name and a bad length have
/// messages of their own that win over every other violation.
fn control_table_name(name: Option<&str>) -> Result<&str, ApiError> {
    let Some(name) = name else {
        return Err(ApiError::validation(
            "The parameter 'TableName' is required but was not present in the request",
        ));
    };
    if name.len() < 3 || name.len() > 255 {
        return Err(ApiError::validation(
            "TableName must be at least 3 characters long and at most 255 characters long",
        ));
    }
    Ok(name)
}

fn scalar(ty: &str) -> ScalarType {
    // Only called after the enum constraint has passed.
    ScalarType::parse(ty).unwrap_or(ScalarType::S)
}

fn billing_mode(s: &str) -> BillingMode {
    if s == "PAY_PER_REQUEST" {
        BillingMode::PayPerRequest
    } else {
        BillingMode::Provisioned
    }
}

const PPR_WITH_THROUGHPUT: &str = "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST";

fn validate_create(
    app: &App,
    input: &CreateTableInput,
) -> Result<tarn_engine::CreateTable, ApiError> {
    let name = control_table_name(input.table_name.as_deref())?;
    // Constraint violations are listed in DynamoDB's order (dynalite's
    // validations/createTable.js): attribute definitions, table name,
    // billing mode, throughput, key schema, then the indexes.
    let mut c = Constraints::default();
    match &input.attribute_definitions {
        None => c.null("attributeDefinitions"),
        Some(defs) => check_definitions(&mut c, defs),
    }
    c.table_name_pattern(name, "tableName");
    if let Some(mode) = &input.billing_mode {
        c.one_of(mode, "billingMode", "[PROVISIONED, PAY_PER_REQUEST]");
    }
    if let Some(pt) = &input.provisioned_throughput {
        check_throughput(&mut c, pt, "provisionedThroughput");
    }
    indexes::check_key_schema(&mut c, input.key_schema.as_deref(), "keySchema", Some(2));
    indexes::create_constraints(
        &mut c,
        input.local_secondary_indexes.as_deref(),
        input.global_secondary_indexes.as_deref(),
    );
    if let Some(sse) = &input.sse_specification {
        settings::sse_constraints(&mut c, sse, "sSESpecification");
    }
    if let Some(spec) = &input.stream_specification {
        stream_constraints(&mut c, spec);
    }
    c.finish()?;
    let stream = input
        .stream_specification
        .as_ref()
        .map(|s| stream_request(s, true))
        .transpose()?
        .flatten();
    // Shapes are valid; now the rules between members.
    let ks = input.key_schema.as_deref().unwrap_or_default();
    let defs = input.attribute_definitions.as_deref().unwrap_or_default();
    let key_name = |el: &KeySchemaElement| el.attribute_name.clone().unwrap_or_default();
    let is = |el: &KeySchemaElement, t: &str| el.key_type.as_deref() == Some(t);
    if !is(&ks[0], "HASH") {
        return Err(ApiError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if ks.len() == 2 {
        if key_name(&ks[0]) == key_name(&ks[1]) {
            // With fewer than two definitions DynamoDB reports the missing
            // one first.
            return Err(ApiError::validation(if defs.len() < 2 {
                "Invalid KeySchema: Some index key attribute have no definition"
            } else {
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            }));
        }
        if !is(&ks[1], "RANGE") {
            return Err(ApiError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
    }
    let def_of = |name: &str| {
        defs.iter()
            .find(|d| d.attribute_name.as_deref() == Some(name))
            .and_then(|d| d.attribute_type.as_deref())
    };
    check_unique_definitions(defs)?;
    let has_indexes =
        input.local_secondary_indexes.is_some() || input.global_secondary_indexes.is_some();
    let undefined = ks.iter().any(|el| def_of(&key_name(el)).is_none());
    if undefined {
        if ks.len() == 2 || defs.is_empty() {
            return Err(ApiError::validation(
                "Invalid KeySchema: Some index key attribute have no definition",
            ));
        }
        let names: Vec<String> = defs
            .iter()
            .filter_map(|d| d.attribute_name.clone())
            .collect();
        return Err(ApiError::validation(format!(
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            key_name(&ks[0]),
            names.join(", ")
        )));
    }
    if !has_indexes && defs.len() != ks.len() {
        return Err(ApiError::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let mode = billing_mode(input.billing_mode.as_deref().unwrap_or("PROVISIONED"));
    let throughput = match (mode, &input.provisioned_throughput) {
        (BillingMode::Provisioned, None) => {
            return Err(ApiError::validation(
                "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ))
        }
        (BillingMode::Provisioned, Some(pt)) => Some(throughput_bounds(pt)?),
        (BillingMode::PayPerRequest, Some(_)) => return Err(ApiError::validation(PPR_WITH_THROUGHPUT)),
        (BillingMode::PayPerRequest, None) => None,
    };
    let definitions = Definitions(
        defs.iter()
            .map(|d| {
                (
                    d.attribute_name.as_deref().unwrap_or_default(),
                    d.attribute_type.as_deref().unwrap_or("S"),
                )
            })
            .collect(),
    );
    let table_keys: Vec<&str> = ks
        .iter()
        .map(|el| el.attribute_name.as_deref().unwrap_or_default())
        .collect();
    let new_indexes = if has_indexes {
        indexes::validate_create(
            input.local_secondary_indexes.as_deref(),
            input.global_secondary_indexes.as_deref(),
            table_keys[0],
            table_keys.get(1).copied(),
            &table_keys,
            &definitions,
            mode,
        )?
    } else {
        Vec::new()
    };
    let key_attr = |el: &KeySchemaElement| {
        let name = key_name(el);
        let ty = scalar(def_of(&name).unwrap_or("S"));
        KeyAttr { name, ty }
    };
    let table_settings = create_settings(app, input, mode)?;
    Ok(tarn_engine::CreateTable {
        name: name.to_owned(),
        key_schema: KeySchema {
            hash: key_attr(&ks[0]),
            range: ks.get(1).map(key_attr),
        },
        attribute_definitions: defs
            .iter()
            .map(|d| KeyAttr {
                name: d.attribute_name.clone().unwrap_or_default(),
                ty: scalar(d.attribute_type.as_deref().unwrap_or("S")),
            })
            .collect(),
        billing_mode: mode,
        throughput,
        indexes: new_indexes,
        settings: table_settings,
        stream,
    })
}

/// The settings members of a CreateTable, validated.
fn create_settings(
    app: &App,
    input: &CreateTableInput,
    mode: BillingMode,
) -> Result<tarn_engine::TableSettings, ApiError> {
    let tags = match input.tags.as_deref() {
        None | Some([]) => Vec::new(),
        Some(t) => settings::tags(t)?,
    };
    let table_class = input
        .table_class
        .as_deref()
        .map(settings::table_class)
        .transpose()?
        .map(|c| (c, 0));
    let sse_kms_key = match &input.sse_specification {
        Some(sse) => settings::sse_key(app, sse)?,
        None => None,
    };
    let on_demand = match &input.on_demand_throughput {
        Some(od) => {
            let (r, w) = settings::on_demand(od, mode == BillingMode::Provisioned)?;
            let (r, w) = (r.unwrap_or(-1), w.unwrap_or(-1));
            (r != -1 || w != -1).then_some((r, w))
        }
        None => None,
    };
    Ok(tarn_engine::TableSettings {
        tags,
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        table_class,
        sse_kms_key,
        on_demand,
        ..Default::default()
    })
}

/// The shape constraints of an AttributeDefinitions list.
fn check_definitions(c: &mut Constraints, defs: &[AttributeDefinition]) {
    for (i, def) in defs.iter().enumerate() {
        let p = format!("attributeDefinitions.{}.member", i + 1);
        indexes::check_key_attribute_name(
            c,
            def.attribute_name.as_deref(),
            &format!("{p}.attributeName"),
        );
        match &def.attribute_type {
            None => c.null(&format!("{p}.attributeType")),
            Some(t) => c.one_of(t, &format!("{p}.attributeType"), "[B, N, S]"),
        }
    }
}

/// Refuses an AttributeDefinitions list that names one attribute twice:
/// DynamoDB cannot know which type was meant.
fn check_unique_definitions(defs: &[AttributeDefinition]) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    for n in defs.iter().filter_map(|d| d.attribute_name.as_deref()) {
        if !seen.insert(n) {
            return Err(ApiError::validation(format!(
                "Attribute Name is duplicated: {n}"
            )));
        }
    }
    Ok(())
}

/// TableClass, DeletionProtectionEnabled and SSESpecification must each
/// be an UpdateTable's only change; OnDemandThroughput goes only with
/// BillingMode.
fn check_exclusive_settings(input: &UpdateTableInput) -> Result<(), ApiError> {
    let changes = [
        input.billing_mode.is_some(),
        input.provisioned_throughput.is_some(),
        input.global_secondary_index_updates.is_some(),
        input.table_class.is_some(),
        input.deletion_protection_enabled.is_some(),
        input.sse_specification.is_some(),
        input.on_demand_throughput.is_some(),
        input.stream_specification.is_some(),
    ];
    let count = changes.iter().filter(|c| **c).count();
    let alone = [
        (
            input.deletion_protection_enabled.is_some(),
            "DeletionProtection",
        ),
        (input.sse_specification.is_some(), "Server-Side Encryption"),
        (input.table_class.is_some(), "TableClass"),
    ];
    for (present, what) in alone {
        if present && count > 1 {
            return Err(ApiError::validation(format!(
                "One or more parameter values were invalid: {what} modification must be the only operation in the request"
            )));
        }
    }
    if input.on_demand_throughput.is_some() && count > 1 + usize::from(input.billing_mode.is_some())
    {
        return Err(ApiError::validation(
            "One or more parameter values were invalid: OnDemandThroughput can only be combined with BillingMode in an UpdateTable request",
        ));
    }
    Ok(())
}

// ---- responses ----

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinitionOut<'a> {
    attribute_name: &'a str,
    attribute_type: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeySchemaOut<'a> {
    attribute_name: &'a str,
    key_type: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ThroughputOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    last_increase_date_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_decrease_date_time: Option<f64>,
    number_of_decreases_today: u32,
    read_capacity_units: u64,
    write_capacity_units: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BillingModeSummaryOut {
    billing_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_update_to_pay_per_request_date_time: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableDescription<'a> {
    attribute_definitions: Vec<AttributeDefinitionOut<'a>>,
    table_name: &'a str,
    key_schema: Vec<KeySchemaOut<'a>>,
    table_status: &'static str,
    creation_date_time: f64,
    provisioned_throughput: ThroughputOut,
    table_size_bytes: u64,
    item_count: u64,
    table_arn: String,
    table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_mode_summary: Option<BillingModeSummaryOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    global_secondary_indexes: Option<Vec<indexes::GlobalIndexOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_secondary_indexes: Option<Vec<indexes::LocalIndexOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table_class_summary: Option<settings::TableClassSummaryOut>,
    #[serde(rename = "SSEDescription", skip_serializing_if = "Option::is_none")]
    sse_description: Option<settings::SseDescriptionOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_demand_throughput: Option<settings::OnDemandThroughputOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_specification: Option<StreamSpecificationOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_stream_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_stream_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restore_summary: Option<RestoreSummaryOut>,
    deletion_protection_enabled: bool,
}

/// Where a restored table came from.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RestoreSummaryOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    source_backup_arn: Option<String>,
    source_table_arn: String,
    restore_date_time: f64,
    restore_in_progress: bool,
}

/// DeleteTable's TableDescription: DynamoDB leaves out the schema, the
/// indexes and the settings (`docs/research/backups-and-lifecycle.md`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DeletedTableOut<'a> {
    table_name: &'a str,
    table_status: &'static str,
    provisioned_throughput: ThroughputOut,
    table_size_bytes: u64,
    item_count: u64,
    table_arn: String,
    table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_mode_summary: Option<BillingModeSummaryOut>,
}

impl<'a> DeletedTableOut<'a> {
    fn new(app: &App, info: &'a TableInfo) -> Self {
        let def = &info.def;
        DeletedTableOut {
            table_name: &def.name,
            table_status: "DELETING",
            provisioned_throughput: throughput_out(&def.throughput),
            table_size_bytes: info.size_bytes,
            item_count: info.item_count,
            table_arn: app.arns.table(&def.name),
            table_id: app.table_uuid(def.id, def.created_ms),
            billing_mode_summary: billing_summary(def),
        }
    }
}

fn throughput_out(t: &tarn_engine::Throughput) -> ThroughputOut {
    ThroughputOut {
        last_increase_date_time: nonzero_seconds(t.last_increase_ms),
        last_decrease_date_time: nonzero_seconds(t.last_decrease_ms),
        number_of_decreases_today: t.decreases_today,
        read_capacity_units: t.read_units,
        write_capacity_units: t.write_units,
    }
}

fn billing_summary(def: &tarn_engine::TableDef) -> Option<BillingModeSummaryOut> {
    def.pay_per_request_since_ms
        .map(|ms| BillingModeSummaryOut {
            billing_mode: match def.billing_mode {
                BillingMode::PayPerRequest => "PAY_PER_REQUEST",
                BillingMode::Provisioned => "PROVISIONED",
            },
            last_update_to_pay_per_request_date_time: Some(seconds(ms)),
        })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamSpecificationOut {
    stream_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_view_type: Option<&'static str>,
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn nonzero_seconds(ms: u64) -> Option<f64> {
    (ms != 0).then(|| seconds(ms))
}

impl<'a> TableDescription<'a> {
    pub(super) fn new(app: &App, info: &'a TableInfo, status: &'static str) -> Self {
        let def = &info.def;
        let mut key_schema = vec![KeySchemaOut {
            attribute_name: &def.key_schema.hash.name,
            key_type: "HASH",
        }];
        if let Some(r) = &def.key_schema.range {
            key_schema.push(KeySchemaOut {
                attribute_name: &r.name,
                key_type: "RANGE",
            });
        }
        let (globals, locals) = indexes::describe(app, def, &info.indexes, status == "CREATING");
        let described = settings::describe(&def.settings);
        let enabled_stream = def.enabled_stream();
        let latest_stream = def.streams.last();
        TableDescription {
            attribute_definitions: def
                .attribute_definitions
                .iter()
                .map(|a| AttributeDefinitionOut {
                    attribute_name: &a.name,
                    attribute_type: a.ty.as_str(),
                })
                .collect(),
            table_name: &def.name,
            key_schema,
            table_status: status,
            creation_date_time: seconds(def.created_ms),
            provisioned_throughput: throughput_out(&def.throughput),
            table_size_bytes: info.size_bytes,
            item_count: info.item_count,
            table_arn: app.arns.table(&def.name),
            table_id: app.table_uuid(def.id, def.created_ms),
            billing_mode_summary: billing_summary(def),
            global_secondary_indexes: (!globals.is_empty()).then_some(globals),
            local_secondary_indexes: (!locals.is_empty()).then_some(locals),
            table_class_summary: described.table_class_summary,
            sse_description: described.sse_description,
            on_demand_throughput: described.on_demand_throughput,
            stream_specification: enabled_stream.map(|s| StreamSpecificationOut {
                stream_enabled: true,
                stream_view_type: Some(s.view_type.as_str()),
            }),
            latest_stream_label: latest_stream.map(|s| tarn_streams::label(s.created_ms)),
            latest_stream_arn: latest_stream
                .map(|s| app.stream_names().stream_arn(&def.name, s.created_ms)),
            restore_summary: def.restore.as_ref().map(|r| RestoreSummaryOut {
                source_backup_arn: match r.source {
                    tarn_engine::RestoreSource::Backup { id, created_ms } => {
                        Some(app.arns.backup(&r.source_table, created_ms, id))
                    }
                    tarn_engine::RestoreSource::PointInTime { .. } => None,
                },
                source_table_arn: app.arns.table(&r.source_table),
                restore_date_time: seconds(r.restore_ms),
                restore_in_progress: r.in_progress,
            }),
            deletion_protection_enabled: def.settings.deletion_protection,
        }
    }
}

pub(super) fn status_of(info: &TableInfo) -> &'static str {
    match info.def.status {
        TableStatus::Active => "ACTIVE",
        TableStatus::Deleting => "DELETING",
        TableStatus::Creating => "CREATING",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableDescriptionReply<'a> {
    pub(super) table_description: TableDescription<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TableReply<'a> {
    table: TableDescription<'a>,
}

// ---- operations ----

pub(super) async fn create_table(app: &App, input: CreateTableInput) -> Result<Vec<u8>, ApiError> {
    let req = validate_create(app, &input)?;
    let info = blocking(app, move |e| e.create_table(req)).await?;
    // DynamoDB answers CREATING; Tarn's table is usable at once and is
    // ACTIVE from the next DescribeTable on.
    reply(&TableDescriptionReply {
        table_description: TableDescription::new(app, &info, "CREATING"),
    })
}

pub(super) async fn describe_table(app: &App, input: TableNameInput) -> Result<Vec<u8>, ApiError> {
    let name = control_table_name(input.table_name.as_deref())?.to_owned();
    let mut c = Constraints::default();
    c.table_name_pattern(&name, "tableName");
    c.finish()?;
    let info = blocking(app, move |e| e.describe_table(&name)).await?;
    reply(&TableReply {
        table: TableDescription::new(app, &info, status_of(&info)),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListTablesReply {
    table_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_evaluated_table_name: Option<String>,
}

pub(super) async fn list_tables(app: &App, input: ListTablesInput) -> Result<Vec<u8>, ApiError> {
    let mut c = Constraints::default();
    if let Some(limit) = input.limit {
        if limit < 1 {
            c.violated(
                &limit,
                "limit",
                "Member must have value greater than or equal to 1",
            );
        }
        if limit > 100 {
            c.violated(
                &limit,
                "limit",
                "Member must have value less than or equal to 100",
            );
        }
    }
    if let Some(start) = &input.exclusive_start_table_name {
        c.table_name(start, "exclusiveStartTableName");
    }
    c.finish()?;
    let limit = input.limit.unwrap_or(100) as usize;
    let (table_names, last_evaluated_table_name) = app
        .engine
        .list_tables(input.exclusive_start_table_name.as_deref(), limit);
    reply(&ListTablesReply {
        table_names,
        last_evaluated_table_name,
    })
}

pub(super) async fn delete_table(app: &App, input: TableNameInput) -> Result<Vec<u8>, ApiError> {
    let name = control_table_name(input.table_name.as_deref())?.to_owned();
    let mut c = Constraints::default();
    c.table_name_pattern(&name, "tableName");
    c.finish()?;
    let info = blocking(app, move |e| e.delete_table(&name)).await?;
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Reply<'a> {
        table_description: DeletedTableOut<'a>,
    }
    reply(&Reply {
        table_description: DeletedTableOut::new(app, &info),
    })
}

pub(super) async fn update_table(app: &App, input: UpdateTableInput) -> Result<Vec<u8>, ApiError> {
    let name = control_table_name(input.table_name.as_deref())?.to_owned();
    let mut c = Constraints::default();
    c.table_name_pattern(&name, "tableName");
    if let Some(mode) = &input.billing_mode {
        c.one_of(mode, "billingMode", "[PROVISIONED, PAY_PER_REQUEST]");
    }
    if let Some(pt) = &input.provisioned_throughput {
        check_throughput(&mut c, pt, "provisionedThroughput");
    }
    if let Some(defs) = &input.attribute_definitions {
        check_definitions(&mut c, defs);
    }
    if let Some(updates) = &input.global_secondary_index_updates {
        indexes::update_constraints(&mut c, updates);
    }
    if let Some(sse) = &input.sse_specification {
        settings::sse_constraints(&mut c, sse, "sSESpecification");
    }
    if let Some(spec) = &input.stream_specification {
        stream_constraints(&mut c, spec);
    }
    c.finish()?;
    for (present, member) in [
        (input.replica_updates.is_some(), "ReplicaUpdates"),
        (input.warm_throughput.is_some(), "WarmThroughput"),
    ] {
        if present {
            return Err(unsupported(member));
        }
    }
    check_exclusive_settings(&input)?;
    if let Some(defs) = &input.attribute_definitions {
        check_unique_definitions(defs)?;
    }
    let table_class = input
        .table_class
        .as_deref()
        .map(settings::table_class)
        .transpose()?;
    let sse_kms_key = input
        .sse_specification
        .as_ref()
        .map(|sse| settings::sse_key(app, sse))
        .transpose()?;
    let updates_empty = input
        .global_secondary_index_updates
        .as_ref()
        .is_some_and(Vec::is_empty);
    let index_updates = input.global_secondary_index_updates.unwrap_or_default();
    let stream = input
        .stream_specification
        .as_ref()
        .map(|s| stream_request(s, false))
        .transpose()?;
    if stream.is_some() {
        if input.provisioned_throughput.is_some()
            || input.billing_mode.as_deref() == Some("PROVISIONED")
        {
            return Err(ApiError::validation(
                "One or more parameter values were invalid: You cannot modify stream status while updating table IOPS",
            ));
        }
        if !index_updates.is_empty() {
            return Err(ApiError::validation(
                "One or more parameter values were invalid: You cannot create or delete index while changing stream status",
            ));
        }
    }
    let settings_change = input.deletion_protection_enabled.is_some()
        || input.table_class.is_some()
        || input.sse_specification.is_some()
        || input.on_demand_throughput.is_some()
        || stream.is_some();
    if input.billing_mode.is_none() && input.provisioned_throughput.is_none() {
        if index_updates.is_empty() && !settings_change {
            return Err(ApiError::validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
            ));
        }
    } else if updates_empty {
        return Err(ApiError::validation(
            "One or more parameter values were invalid: List of GlobalSecondaryIndexUpdates is empty",
        ));
    }
    indexes::check_updates(&index_updates, input.provisioned_throughput.is_some())?;
    let throughput = input
        .provisioned_throughput
        .as_ref()
        .map(throughput_bounds)
        .transpose()?;
    let new_mode = input.billing_mode.as_deref().map(billing_mode);
    let needs_table =
        !index_updates.is_empty() || new_mode.is_some() || input.on_demand_throughput.is_some();
    let mut on_demand = None;
    let index_updates = if !needs_table {
        Vec::new()
    } else {
        let lookup = name.clone();
        let info = blocking(app, move |e| e.describe_table(&lookup)).await?;
        if let Some(od) = &input.on_demand_throughput {
            let mode = new_mode.unwrap_or(info.def.billing_mode);
            on_demand = Some(settings::on_demand(od, mode == BillingMode::Provisioned)?);
        }
        let defs: Vec<(&str, &str)> = input
            .attribute_definitions
            .iter()
            .flatten()
            .map(|d| {
                (
                    d.attribute_name.as_deref().unwrap_or_default(),
                    d.attribute_type.as_deref().unwrap_or("S"),
                )
            })
            .collect();
        let mode = new_mode.unwrap_or(info.def.billing_mode);
        indexes::resolve_updates(index_updates, &info.def, &Definitions(defs), mode)?
    };
    let update = tarn_engine::UpdateTable {
        billing_mode: new_mode,
        throughput,
        index_updates,
        deletion_protection: input.deletion_protection_enabled,
        table_class,
        sse_kms_key,
        on_demand,
        stream,
    };
    let info = blocking(app, move |e| e.update_table(&name, update)).await?;
    reply(&TableDescriptionReply {
        table_description: TableDescription::new(app, &info, status_of(&info)),
    })
}

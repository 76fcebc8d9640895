//! Secondary indexes on the wire: the LocalSecondaryIndexes and
//! GlobalSecondaryIndexes of CreateTable, the GlobalSecondaryIndexUpdates of
//! UpdateTable, their validation in DynamoDB's order with its messages
//! (`docs/research/index-errors.md`), and their DescribeTable shapes.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tarn_engine::{
    BillingMode, IndexDef, IndexInfo, IndexKind, IndexProjection, IndexStatus, IndexUpdate,
    KeyAttr, NewIndex, ProjectionType, TableDef, GLOBAL_INDEXES_MAX, LOCAL_INDEXES_MAX,
};
use tarn_expr::ScalarType;

use super::schema::{
    check_throughput, render_key_schema, throughput_bounds, KeySchemaElement, ProvisionedThroughput,
};
use crate::app::App;
use crate::error::{ApiError, Constraints, ErrorCode};

// Structures in a request reject a JSON array, as DynamoDB does.
map_only!(
    ProjectionIn,
    LocalIndexIn,
    GlobalIndexIn,
    UpdateIndexIn,
    DeleteIndexIn,
    IndexUpdateIn
);

/// Attributes in one part of a multi-attribute GSI key.
const KEY_PART_ATTRS_MAX: usize = 4;
/// NonKeyAttributes of one index.
const NON_KEY_ATTRIBUTES_MAX: usize = 20;
/// Projected non-key attributes summed over every index of a table.
const PROJECTED_ATTRIBUTES_MAX: usize = 100;

const INVALID: &str = "One or more parameter values were invalid:";

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct ProjectionIn {
    projection_type: Option<String>,
    non_key_attributes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct LocalIndexIn {
    index_name: Option<String>,
    key_schema: Option<Vec<KeySchemaElement>>,
    projection: Option<ProjectionIn>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct GlobalIndexIn {
    index_name: Option<String>,
    key_schema: Option<Vec<KeySchemaElement>>,
    projection: Option<ProjectionIn>,
    provisioned_throughput: Option<ProvisionedThroughput>,
    #[allow(dead_code)]
    on_demand_throughput: Option<IgnoredAny>,
    #[allow(dead_code)]
    warm_throughput: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct UpdateIndexIn {
    index_name: Option<String>,
    provisioned_throughput: Option<ProvisionedThroughput>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct DeleteIndexIn {
    index_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase")]
pub(super) struct IndexUpdateIn {
    create: Option<GlobalIndexIn>,
    update: Option<UpdateIndexIn>,
    delete: Option<DeleteIndexIn>,
}

fn invalid(detail: impl std::fmt::Display) -> ApiError {
    ApiError::validation(format!("{INVALID} {detail}"))
}

/// Checks an index name member's pattern and length.
fn check_name(c: &mut Constraints, name: Option<&str>, path: &str) {
    match name {
        None => c.null(path),
        Some(n) => c.table_name(n, path),
    }
}

/// Longest key attribute name, in UTF-16 units as DynamoDB's model counts
/// (`KeySchemaAttributeName`, `NonKeyAttributeName`: 1 to 255).
const KEY_ATTRIBUTE_NAME_MAX: usize = 255;

/// The constraints of an attribute name that a key schema, an attribute
/// definition or a projection gives: present, 1 to 255 long.
pub(super) fn check_key_attribute_name(c: &mut Constraints, name: Option<&str>, path: &str) {
    let Some(name) = name else {
        c.null(path);
        return;
    };
    let len = name.encode_utf16().count();
    if len < 1 {
        c.violated(
            &name,
            path,
            "Member must have length greater than or equal to 1",
        );
    }
    if len > KEY_ATTRIBUTE_NAME_MAX {
        c.violated(
            &name,
            path,
            &format!("Member must have length less than or equal to {KEY_ATTRIBUTE_NAME_MAX}"),
        );
    }
}

pub(super) fn check_key_schema(
    c: &mut Constraints,
    ks: Option<&[KeySchemaElement]>,
    path: &str,
    max: Option<usize>,
) {
    let Some(ks) = ks else {
        c.null(path);
        return;
    };
    if ks.is_empty() {
        c.violated(
            &"[]",
            path,
            "Member must have length greater than or equal to 1",
        );
    }
    if let Some(max) = max.filter(|m| ks.len() > *m) {
        c.violated(
            &render_key_schema(ks),
            path,
            &format!("Member must have length less than or equal to {max}"),
        );
    }
    for (i, el) in ks.iter().enumerate() {
        let p = format!("{path}.{}.member", i + 1);
        check_key_attribute_name(
            c,
            el.attribute_name.as_deref(),
            &format!("{p}.attributeName"),
        );
        match &el.key_type {
            None => c.null(&format!("{p}.keyType")),
            Some(k) => c.one_of(k, &format!("{p}.keyType"), "[HASH, RANGE]"),
        }
    }
}

fn check_projection(c: &mut Constraints, p: Option<&ProjectionIn>, path: &str) {
    let Some(p) = p else {
        c.null(path);
        return;
    };
    if let Some(t) = &p.projection_type {
        c.one_of(
            t,
            &format!("{path}.projectionType"),
            "[ALL, INCLUDE, KEYS_ONLY]",
        );
    }
    if let Some(attrs) = &p.non_key_attributes {
        let ap = format!("{path}.nonKeyAttributes");
        if attrs.is_empty() {
            c.violated(
                &"[]",
                &ap,
                "Member must have length greater than or equal to 1",
            );
        }
        if attrs.len() > NON_KEY_ATTRIBUTES_MAX {
            c.violated(
                &format!("[{}]", attrs.join(", ")),
                &ap,
                &format!("Member must have length less than or equal to {NON_KEY_ATTRIBUTES_MAX}"),
            );
        }
        // One violation for the list, naming every constraint its members
        // carry, as DynamoDB words a list member's violation.
        let bad_member = |a: &String| {
            let len = a.encode_utf16().count();
            !(1..=KEY_ATTRIBUTE_NAME_MAX).contains(&len)
        };
        if attrs.iter().any(bad_member) {
            c.violated(
                &format!("[{}]", attrs.join(", ")),
                &ap,
                &format!("Member must satisfy constraint: [Member must have length less than or equal to {KEY_ATTRIBUTE_NAME_MAX}, Member must have length greater than or equal to 1]"),
            );
        }
    }
}

/// The shape constraints of CreateTable's index lists, collected with the
/// request's other constraint violations.
pub(super) fn create_constraints(
    c: &mut Constraints,
    locals: Option<&[LocalIndexIn]>,
    globals: Option<&[GlobalIndexIn]>,
) {
    for (i, l) in locals.into_iter().flatten().enumerate() {
        let p = format!("localSecondaryIndexes.{}.member", i + 1);
        check_name(c, l.index_name.as_deref(), &format!("{p}.indexName"));
        check_key_schema(
            c,
            l.key_schema.as_deref(),
            &format!("{p}.keySchema"),
            Some(2),
        );
        check_projection(c, l.projection.as_ref(), &format!("{p}.projection"));
    }
    for (i, g) in globals.into_iter().flatten().enumerate() {
        let p = format!("globalSecondaryIndexes.{}.member", i + 1);
        global_constraints(c, g, &p);
    }
}

fn global_constraints(c: &mut Constraints, g: &GlobalIndexIn, p: &str) {
    check_name(c, g.index_name.as_deref(), &format!("{p}.indexName"));
    check_key_schema(c, g.key_schema.as_deref(), &format!("{p}.keySchema"), None);
    check_projection(c, g.projection.as_ref(), &format!("{p}.projection"));
    if let Some(pt) = &g.provisioned_throughput {
        check_throughput(c, pt, &format!("{p}.provisionedThroughput"));
    }
}

fn key_name(el: &KeySchemaElement) -> &str {
    el.attribute_name.as_deref().unwrap_or_default()
}

fn is(el: &KeySchemaElement, t: &str) -> bool {
    el.key_type.as_deref() == Some(t)
}

/// The attribute definitions a request gives, by name.
pub(super) struct Definitions<'a>(pub(super) Vec<(&'a str, &'a str)>);

impl Definitions<'_> {
    fn ty(&self, name: &str) -> Option<ScalarType> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, t)| ScalarType::parse(t))
    }

    fn names(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| *n).collect();
        format!("[{}]", names.join(", "))
    }
}

/// The checks one index's key schema and projection share, local or
/// global, in DynamoDB's order; returns the parsed index.
fn parse_index(
    name: &str,
    ks: &[KeySchemaElement],
    projection: &ProjectionIn,
    defs: &Definitions<'_>,
    kind: IndexKind,
) -> Result<NewIndex, ApiError> {
    let undefined: Vec<&str> = ks
        .iter()
        .map(key_name)
        .filter(|n| defs.ty(n).is_none())
        .collect();
    if !undefined.is_empty() {
        return Err(invalid(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: {}",
            undefined.join(", "),
            defs.names()
        )));
    }
    if let Some(dup) = duplicate_key(ks) {
        return Err(duplicate_key_error(ks, dup, kind));
    }
    if !is(&ks[0], "HASH") {
        return Err(ApiError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    let hash_count = ks.iter().take_while(|el| is(el, "HASH")).count();
    let attr = |el: &KeySchemaElement| KeyAttr {
        name: key_name(el).to_owned(),
        ty: defs.ty(key_name(el)).unwrap_or(ScalarType::S),
    };
    match kind {
        IndexKind::Local => {
            if ks.len() == 2 && !is(&ks[1], "RANGE") {
                return Err(ApiError::validation(
                    "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
                ));
            }
            if ks.len() < 2 {
                return Err(invalid(format!(
                    "Index KeySchema does not have a range key for index: {name}"
                )));
            }
        }
        IndexKind::Global => {
            if ks[hash_count..].iter().any(|el| is(el, "HASH")) {
                return Err(invalid(
                    "All HASH key attributes must precede RANGE key attributes in the KeySchema",
                ));
            }
            if hash_count > KEY_PART_ATTRS_MAX {
                return Err(invalid(
                    "The KeySchema exceeds the maximum allowed number of HASH key attributes",
                ));
            }
            if ks.len() - hash_count > KEY_PART_ATTRS_MAX {
                return Err(invalid(
                    "The KeySchema exceeds the maximum allowed number of RANGE key attributes",
                ));
            }
        }
    }
    let kind_of_projection = match projection.projection_type.as_deref() {
        None => return Err(invalid("Unknown ProjectionType: null")),
        Some("ALL") => ProjectionType::All,
        Some("INCLUDE") => ProjectionType::Include,
        _ => ProjectionType::KeysOnly,
    };
    let non_key = projection.non_key_attributes.clone();
    match (kind_of_projection, &non_key) {
        (ProjectionType::Include, None) => {
            return Err(invalid(
                "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
            ))
        }
        (ProjectionType::All | ProjectionType::KeysOnly, Some(_)) => {
            return Err(invalid(format!(
                "ProjectionType is {}, but NonKeyAttributes is specified",
                kind_of_projection.as_str()
            )))
        }
        _ => {}
    }
    let non_key = non_key.unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = non_key.iter().find(|a| !seen.insert(a.as_str())) {
        return Err(invalid(format!(
            "Duplicate element in NonKeyAttributes: {dup}"
        )));
    }
    Ok(NewIndex {
        name: name.to_owned(),
        kind,
        hash: ks[..hash_count].iter().map(attr).collect(),
        range: ks[hash_count..].iter().map(attr).collect(),
        projection: IndexProjection {
            kind: kind_of_projection,
            non_key_attributes: non_key,
        },
        throughput: None,
    })
}

/// The first key element whose attribute an earlier element names too.
fn duplicate_key(ks: &[KeySchemaElement]) -> Option<usize> {
    (1..ks.len()).find(|&i| ks[..i].iter().any(|e| key_name(e) == key_name(&ks[i])))
}

/// The error for a key schema that names attribute `ks[dup]` twice.
/// A global index key that repeats an attribute within its partition or
/// its sort part says the attribute is duplicated; otherwise a two-element
/// key (and any local index key) has DynamoDB's long-standing text, and a
/// longer global key that uses an attribute in both parts says so
/// (`docs/research/index-errors.md` §5.2).
fn duplicate_key_error(ks: &[KeySchemaElement], dup: usize, kind: IndexKind) -> ApiError {
    let first = ks[..dup]
        .iter()
        .find(|e| key_name(e) == key_name(&ks[dup]))
        .map_or("", |e| e.key_type.as_deref().unwrap_or_default());
    let same_part = first == ks[dup].key_type.as_deref().unwrap_or_default();
    if kind == IndexKind::Global && same_part {
        ApiError::validation(format!(
            "Attribute Name is duplicated: {}",
            key_name(&ks[dup])
        ))
    } else if ks.len() == 2 || kind == IndexKind::Local {
        ApiError::validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        )
    } else {
        ApiError::validation("The KeySchema contains multiple key attributes with the same name")
    }
}

/// A global index's throughput rules for the table's billing mode.
fn global_throughput(
    name: &str,
    pt: Option<&ProvisionedThroughput>,
    mode: BillingMode,
    create_time: bool,
) -> Result<Option<(u64, u64)>, ApiError> {
    match (mode, pt) {
        (BillingMode::PayPerRequest, Some(_)) if create_time => Err(invalid(format!(
            "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
        ))),
        (BillingMode::PayPerRequest, Some(_)) => Err(invalid(format!(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
        ))),
        (BillingMode::PayPerRequest, None) => Ok(None),
        (BillingMode::Provisioned, None) if create_time => Err(invalid(format!(
            "ProvisionedThroughput is not specified for index: {name}"
        ))),
        (BillingMode::Provisioned, None) => Err(invalid(format!(
            "Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: {name}"
        ))),
        (BillingMode::Provisioned, Some(pt)) => Ok(Some(throughput_bounds(pt)?)),
    }
}

fn projected_count(indexes: &[NewIndex]) -> usize {
    indexes
        .iter()
        .filter(|i| i.projection.kind == ProjectionType::Include)
        .map(|i| i.projection.non_key_attributes.len())
        .sum()
}

/// The key attribute names of index lists, local then global, in request
/// order (repeats included).
fn index_key_names<'a>(
    locals: Option<&'a [LocalIndexIn]>,
    globals: Option<&'a [GlobalIndexIn]>,
) -> impl Iterator<Item = &'a str> {
    locals
        .into_iter()
        .flatten()
        .flat_map(|l| l.key_schema.iter().flatten())
        .chain(
            globals
                .into_iter()
                .flatten()
                .flat_map(|g| g.key_schema.iter().flatten()),
        )
        .map(key_name)
}

/// CreateTable's index rules, after the table's own key checks: the LSI
/// list, unused attribute definitions, each LSI, their count, then the GSI
/// list likewise, names unique across both, and the projection total.
pub(super) fn validate_create(
    locals: Option<&[LocalIndexIn]>,
    globals: Option<&[GlobalIndexIn]>,
    table_hash: &str,
    table_range: Option<&str>,
    table_keys: &[&str],
    defs: &Definitions<'_>,
    mode: BillingMode,
) -> Result<Vec<NewIndex>, ApiError> {
    if locals.is_some_and(|l| l.is_empty()) {
        return Err(invalid("List of LocalSecondaryIndexes is empty"));
    }
    if locals.is_some() && table_range.is_none() {
        return Err(invalid(
            "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
        ));
    }
    if globals.is_some_and(|g| g.is_empty()) {
        return Err(invalid("List of GlobalSecondaryIndexes is empty"));
    }
    // Every definition must be used by some key.
    let mut used: Vec<&str> = table_keys.to_vec();
    for name in index_key_names(locals, globals) {
        if !used.contains(&name) {
            used.push(name);
        }
    }
    if defs.0.iter().any(|(n, _)| !used.contains(n)) {
        return Err(invalid(format!(
            "Some AttributeDefinitions are not used. AttributeDefinitions: {}, keys used: [{}]",
            defs.names(),
            used.join(", ")
        )));
    }
    let mut out: Vec<NewIndex> = Vec::new();
    let duplicate = |out: &[NewIndex], name: &str| out.iter().any(|i| i.name == name);
    for l in locals.into_iter().flatten() {
        let name = l.index_name.as_deref().unwrap_or_default();
        let ks = l.key_schema.as_deref().unwrap_or_default();
        let projection = l
            .projection
            .as_ref()
            .ok_or_else(|| invalid("Unknown ProjectionType: null"))?;
        let index = parse_index(name, ks, projection, defs, IndexKind::Local)?;
        if index.hash[0].name != table_hash {
            return Err(invalid(format!(
                "Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {table_hash}",
                index.hash[0].name
            )));
        }
        if duplicate(&out, name) {
            return Err(invalid(format!("Duplicate index name: {name}")));
        }
        out.push(index);
    }
    if out.len() > LOCAL_INDEXES_MAX {
        return Err(invalid(format!(
            "Number of LocalSecondaryIndexes exceeds per-table limit of {LOCAL_INDEXES_MAX}"
        )));
    }
    let mut global_count = 0;
    for g in globals.into_iter().flatten() {
        let name = g.index_name.as_deref().unwrap_or_default();
        let mut index = parse_global(g, defs)?;
        index.throughput = global_throughput(name, g.provisioned_throughput.as_ref(), mode, true)?;
        if duplicate(&out, name) {
            return Err(invalid(format!("Duplicate index name: {name}")));
        }
        out.push(index);
        global_count += 1;
    }
    if global_count > GLOBAL_INDEXES_MAX {
        return Err(invalid(format!(
            "GlobalSecondaryIndex count exceeds the per-table limit of {GLOBAL_INDEXES_MAX}"
        )));
    }
    if projected_count(&out) > PROJECTED_ATTRIBUTES_MAX {
        return Err(invalid(format!(
            "Number of projected attributes in all indexes exceeds limit of {PROJECTED_ATTRIBUTES_MAX}"
        )));
    }
    Ok(out)
}

fn parse_global(g: &GlobalIndexIn, defs: &Definitions<'_>) -> Result<NewIndex, ApiError> {
    let name = g.index_name.as_deref().unwrap_or_default();
    let ks = g.key_schema.as_deref().unwrap_or_default();
    let projection = g
        .projection
        .as_ref()
        .ok_or_else(|| invalid("Unknown ProjectionType: null"))?;
    parse_index(name, ks, projection, defs, IndexKind::Global)
}

/// The shape constraints of UpdateTable's GlobalSecondaryIndexUpdates.
pub(super) fn update_constraints(c: &mut Constraints, updates: &[IndexUpdateIn]) {
    for (i, u) in updates.iter().enumerate() {
        let p = format!("globalSecondaryIndexUpdates.{}.member", i + 1);
        if let Some(g) = &u.create {
            // UpdateTable's Create lists its members in its own order
            // (dynalite's validations/updateTable.js).
            let p = format!("{p}.create");
            check_projection(c, g.projection.as_ref(), &format!("{p}.projection"));
            check_name(c, g.index_name.as_deref(), &format!("{p}.indexName"));
            if let Some(pt) = &g.provisioned_throughput {
                check_throughput(c, pt, &format!("{p}.provisionedThroughput"));
            }
            check_key_schema(c, g.key_schema.as_deref(), &format!("{p}.keySchema"), None);
        }
        if let Some(update) = &u.update {
            check_name(
                c,
                update.index_name.as_deref(),
                &format!("{p}.update.indexName"),
            );
            match &update.provisioned_throughput {
                None => c.null(&format!("{p}.update.provisionedThroughput")),
                Some(pt) => check_throughput(c, pt, &format!("{p}.update.provisionedThroughput")),
            }
        }
        if let Some(delete) = &u.delete {
            check_name(
                c,
                delete.index_name.as_deref(),
                &format!("{p}.delete.indexName"),
            );
        }
    }
}

/// UpdateTable's index rules that need no table: one action per entry,
/// one entry per index, one create or delete per call, and a create only
/// beside index updates or a billing mode change. The rules that need the
/// table (existence, types, limits) are checked against it by
/// [`resolve_updates`].
pub(super) fn check_updates(
    updates: &[IndexUpdateIn],
    changes_throughput: bool,
) -> Result<(), ApiError> {
    let mut names = std::collections::HashSet::new();
    let mut online = 0;
    for u in updates {
        let actions = usize::from(u.create.is_some())
            + usize::from(u.update.is_some())
            + usize::from(u.delete.is_some());
        if actions == 0 {
            return Err(invalid(
                "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
            ));
        }
        if actions > 1 {
            return Err(invalid(
                "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object",
            ));
        }
        let name = u
            .create
            .as_ref()
            .and_then(|c| c.index_name.as_deref())
            .or(u.update.as_ref().and_then(|c| c.index_name.as_deref()))
            .or(u.delete.as_ref().and_then(|c| c.index_name.as_deref()))
            .unwrap_or_default();
        if !names.insert(name) {
            return Err(invalid(format!(
                "Only one global secondary index update per index is allowed simultaneously. Index: {name}"
            )));
        }
        if u.create.is_some() || u.delete.is_some() {
            online += 1;
        }
    }
    if online > 1 {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
        ));
    }
    if online == 1 && changes_throughput {
        return Err(invalid(
            "You cannot create or delete index while updating table IOPS",
        ));
    }
    Ok(())
}

/// Turns the updates into engine changes, checking them against the
/// table as it is: a created index's definitions and throughput, and that
/// updated or deleted indexes exist and are global.
pub(super) fn resolve_updates(
    updates: Vec<IndexUpdateIn>,
    def: &TableDef,
    defs: &Definitions<'_>,
    mode: BillingMode,
) -> Result<Vec<IndexUpdate>, ApiError> {
    let mut out = Vec::with_capacity(updates.len());
    let known = |name: &str| -> Result<&IndexDef, ApiError> {
        def.index(name).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFound,
                format!(
                    "Requested resource not found: Index {name} for table {}",
                    def.name
                ),
            )
        })
    };
    for u in updates {
        if let Some(create) = u.create {
            let name = create.index_name.clone().unwrap_or_default();
            if def.indexes.iter().any(|i| i.name == name) {
                return Err(ApiError::validation(
                    "Attempting to create an index which already exists",
                ));
            }
            let ks = create.key_schema.as_deref().unwrap_or_default();
            if ks.iter().any(|el| defs.ty(key_name(el)).is_none()) {
                return Err(invalid(format!(
                    "AttributeDefinitions is not specified for index: {name}"
                )));
            }
            for el in ks {
                let n = key_name(el);
                let existing = def.attribute_definitions.iter().find(|a| a.name == n);
                if let (Some(existing), Some(ty)) = (existing, defs.ty(n)) {
                    if existing.ty != ty {
                        return Err(invalid(format!(
                            "Attributes cannot be redefined. Please check that your attribute has the same type as previously defined. Existing schema: Schema:[SchemaElement: key{{{n}:{}:HASH}}] New schema: Schema:[SchemaElement: key{{{n}:{}:HASH}}]",
                            existing.ty.as_str(),
                            ty.as_str()
                        )));
                    }
                }
            }
            let mut index = parse_global(&create, defs)?;
            index.throughput =
                global_throughput(&name, create.provisioned_throughput.as_ref(), mode, false)?;
            out.push(IndexUpdate::Create(index));
        } else if let Some(update) = u.update {
            let name = update.index_name.unwrap_or_default();
            let index = known(&name)?;
            if index.kind != IndexKind::Global {
                return Err(ApiError::validation(format!(
                    "Cannot update an index that is not a GlobalSecondaryIndex: {name}"
                )));
            }
            if mode == BillingMode::PayPerRequest {
                return Err(invalid(format!(
                    "The only Updates for index: {name} when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"
                )));
            }
            let pt = update
                .provisioned_throughput
                .as_ref()
                .map(throughput_bounds)
                .transpose()?
                .unwrap_or((1, 1));
            if index.status == IndexStatus::Deleting {
                return Err(ApiError::new(
                    ErrorCode::ResourceInUse,
                    format!("Attempt to change a resource which is still in use: Index is being deleted. Table: {} Index: {name}", def.name),
                ));
            }
            if (index.read_units, index.write_units) == pt {
                return Err(ApiError::validation(format!(
                    "The provisioned throughput for the index {name} will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for index {name}: {}. Requested ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for index {name}: {}. Requested WriteCapacityUnits: {}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                    index.read_units, pt.0, index.write_units, pt.1
                )));
            }
            out.push(IndexUpdate::Update {
                name,
                throughput: pt,
            });
        } else if let Some(delete) = u.delete {
            let name = delete.index_name.unwrap_or_default();
            let index = known(&name)?;
            if index.kind != IndexKind::Global {
                return Err(ApiError::validation(format!(
                    "Cannot delete an index that is not a GlobalSecondaryIndex: {name}"
                )));
            }
            out.push(IndexUpdate::Delete { name });
        }
    }
    // A table that becomes provisioned needs throughput for every GSI.
    if mode == BillingMode::Provisioned && def.billing_mode == BillingMode::PayPerRequest {
        let missing: Vec<&str> = def
            .indexes
            .iter()
            .filter(|i| i.kind == IndexKind::Global && i.maintained())
            .filter(|i| {
                !out.iter()
                    .any(|u| matches!(u, IndexUpdate::Update { name, .. } if *name == i.name))
            })
            .map(|i| i.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "ProvisionedThroughput must be specified for index: {}",
                missing.join(",")
            )));
        }
    }
    Ok(out)
}

// ---- DescribeTable ----

/// One KeySchemaElement of a reply.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct KeyOut<'a> {
    pub(super) attribute_name: &'a str,
    pub(super) key_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProjectionOut<'a> {
    projection_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    non_key_attributes: Option<&'a [String]>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct IndexThroughputOut {
    number_of_decreases_today: u32,
    read_capacity_units: u64,
    write_capacity_units: u64,
}

/// One GlobalSecondaryIndexDescription.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GlobalIndexOut<'a> {
    index_name: &'a str,
    key_schema: Vec<KeyOut<'a>>,
    projection: ProjectionOut<'a>,
    index_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    backfilling: Option<bool>,
    provisioned_throughput: IndexThroughputOut,
    index_size_bytes: u64,
    item_count: u64,
    index_arn: String,
}

/// One LocalSecondaryIndexDescription.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct LocalIndexOut<'a> {
    index_name: &'a str,
    key_schema: Vec<KeyOut<'a>>,
    projection: ProjectionOut<'a>,
    index_size_bytes: u64,
    item_count: u64,
    index_arn: String,
}

fn key_out(index: &IndexDef) -> Vec<KeyOut<'_>> {
    index
        .hash
        .iter()
        .map(|a| KeyOut {
            attribute_name: &a.name,
            key_type: "HASH",
        })
        .chain(index.range.iter().map(|a| KeyOut {
            attribute_name: &a.name,
            key_type: "RANGE",
        }))
        .collect()
}

fn projection_out(index: &IndexDef) -> ProjectionOut<'_> {
    ProjectionOut {
        projection_type: index.projection.kind.as_str(),
        non_key_attributes: (index.projection.kind == ProjectionType::Include)
            .then_some(index.projection.non_key_attributes.as_slice()),
    }
}

/// The index descriptions of a table: global and local, in creation
/// order. `creating` reports every global index as CREATING (the
/// CreateTable reply).
pub(super) fn describe<'a>(
    app: &App,
    def: &'a TableDef,
    counters: &[IndexInfo],
    creating: bool,
) -> (Vec<GlobalIndexOut<'a>>, Vec<LocalIndexOut<'a>>) {
    let mut globals = Vec::new();
    let mut locals = Vec::new();
    for index in &def.indexes {
        let (item_count, index_size_bytes) = counters
            .iter()
            .find(|c| c.name == index.name)
            .map_or((0, 0), |c| (c.item_count, c.size_bytes));
        let index_arn = app.arns.index(&def.name, &index.name);
        match index.kind {
            IndexKind::Global => globals.push(GlobalIndexOut {
                index_name: &index.name,
                key_schema: key_out(index),
                projection: projection_out(index),
                index_status: if creating {
                    "CREATING"
                } else {
                    index.status.as_str()
                },
                backfilling: (index.status == IndexStatus::Creating && index.backfilling)
                    .then_some(true),
                provisioned_throughput: IndexThroughputOut {
                    number_of_decreases_today: 0,
                    read_capacity_units: index.read_units,
                    write_capacity_units: index.write_units,
                },
                index_size_bytes,
                item_count,
                index_arn,
            }),
            IndexKind::Local => locals.push(LocalIndexOut {
                index_name: &index.name,
                key_schema: key_out(index),
                projection: projection_out(index),
                index_size_bytes,
                item_count,
                index_arn,
            }),
        }
    }
    (globals, locals)
}

// ---- backups and restores ----

/// A restore's index lists, local then global; `None` keeps the source's.
pub(super) type Overridden = (Option<Vec<NewIndex>>, Option<Vec<NewIndex>>);

/// A restore's GlobalSecondaryIndexOverride and LocalSecondaryIndexOverride,
/// validated as CreateTable's index lists against the source table's key
/// and attribute definitions: `(locals, globals)`, each `None` when not
/// overridden.
pub(super) fn validate_override(
    locals: Option<&[LocalIndexIn]>,
    globals: Option<&[GlobalIndexIn]>,
    source: &TableDef,
    mode: BillingMode,
) -> Result<Overridden, ApiError> {
    if locals.is_none() && globals.is_none() {
        return Ok((None, None));
    }
    let ks = &source.key_schema;
    let mut table_keys = vec![ks.hash.name.as_str()];
    table_keys.extend(ks.range.as_ref().map(|r| r.name.as_str()));
    let named: Vec<&str> = index_key_names(locals, globals).collect();
    let defs = Definitions(
        source
            .attribute_definitions
            .iter()
            .filter(|a| table_keys.contains(&a.name.as_str()) || named.contains(&a.name.as_str()))
            .map(|a| (a.name.as_str(), a.ty.as_str()))
            .collect(),
    );
    let (given_locals, given_globals) = (locals.is_some(), globals.is_some());
    // An empty override list means "no indexes of that kind".
    let locals = locals.filter(|l| !l.is_empty());
    let globals = globals.filter(|g| !g.is_empty());
    let made = validate_create(
        locals,
        globals,
        table_keys[0],
        table_keys.get(1).copied(),
        &table_keys,
        &defs,
        mode,
    )?;
    let (l, g): (Vec<NewIndex>, Vec<NewIndex>) =
        made.into_iter().partition(|i| i.kind == IndexKind::Local);
    // A kind without an override keeps the source's indexes.
    Ok((given_locals.then_some(l), given_globals.then_some(g)))
}

/// One GlobalSecondaryIndexInfo of a backup's SourceTableFeatureDetails.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GlobalIndexInfoOut<'a> {
    index_name: &'a str,
    key_schema: Vec<KeyOut<'a>>,
    projection: ProjectionOut<'a>,
    provisioned_throughput: UnitsOut,
}

/// A ProvisionedThroughput of read and write units alone (a
/// GlobalSecondaryIndexInfo's, a backup's source table's).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UnitsOut {
    pub(super) read_capacity_units: u64,
    pub(super) write_capacity_units: u64,
}

/// One LocalSecondaryIndexInfo of a backup's SourceTableFeatureDetails.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct LocalIndexInfoOut<'a> {
    index_name: &'a str,
    key_schema: Vec<KeyOut<'a>>,
    projection: ProjectionOut<'a>,
}

/// The index infos of a backed-up table: global and local.
pub(super) fn infos(def: &TableDef) -> (Vec<GlobalIndexInfoOut<'_>>, Vec<LocalIndexInfoOut<'_>>) {
    let mut globals = Vec::new();
    let mut locals = Vec::new();
    for index in def.indexes.iter().filter(|i| i.maintained()) {
        match index.kind {
            IndexKind::Global => globals.push(GlobalIndexInfoOut {
                index_name: &index.name,
                key_schema: key_out(index),
                projection: projection_out(index),
                provisioned_throughput: UnitsOut {
                    read_capacity_units: index.read_units,
                    write_capacity_units: index.write_units,
                },
            }),
            IndexKind::Local => locals.push(LocalIndexInfoOut {
                index_name: &index.name,
                key_schema: key_out(index),
                projection: projection_out(index),
            }),
        }
    }
    (globals, locals)
}

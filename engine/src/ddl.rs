//! Table DDL: CreateTable, DescribeTable, ListTables, UpdateTable,
//! DeleteTable, and the table settings changed by tags.

use std::sync::Arc;

use crate::catalog::{
    catalog_key, drop_key, BillingMode, TableClass, TableDef, TableSettings, TableStatus,
    Throughput, CATALOG_NEXT_ID,
};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::guard::{lock, write_lock};
use crate::index::{IndexDef, IndexKind, IndexStatus, NewIndex, GLOBAL_INDEXES_MAX};
use crate::invalid::Invalid;
use crate::jobs::{Backfill, Job};
use crate::schema::{KeyAttr, KeySchema};
use crate::shared::Shared;
use crate::stream::{state_key, StreamDef, StreamState, StreamViewType};
use crate::table::{Table, TableInfo};

/// DynamoDB's limit on tags per table.
pub const TAGS_MAX: usize = 50;

/// What CreateTable asks for, already validated for shape by the caller.
#[derive(Clone, Debug)]
pub struct CreateTable {
    /// Table name.
    pub name: String,
    /// Primary key.
    pub key_schema: KeySchema,
    /// Attribute definitions.
    pub attribute_definitions: Vec<KeyAttr>,
    /// Billing mode.
    pub billing_mode: BillingMode,
    /// Read and write units for provisioned tables.
    pub throughput: Option<(u64, u64)>,
    /// Local and global secondary indexes, validated for shape.
    pub indexes: Vec<NewIndex>,
    /// Tags, deletion protection, table class, encryption and on-demand
    /// maxima (TTL is set by UpdateTimeToLive).
    pub settings: TableSettings,
    /// A stream to enable, with its view type.
    pub stream: Option<StreamViewType>,
}

/// What UpdateTable asks to change.
#[derive(Clone, Debug, Default)]
pub struct UpdateTable {
    /// New billing mode.
    pub billing_mode: Option<BillingMode>,
    /// New provisioned read and write units.
    pub throughput: Option<(u64, u64)>,
    /// Global secondary index changes.
    pub index_updates: Vec<IndexUpdate>,
    /// New deletion protection.
    pub deletion_protection: Option<bool>,
    /// New table class.
    pub table_class: Option<TableClass>,
    /// New encryption: `Some(None)` for the default key, `Some(Some(arn))`
    /// for a KMS key.
    pub sse_kms_key: Option<Option<String>>,
    /// New on-demand maxima, read and write (-1 removes one; `None` keeps
    /// a member as it is).
    pub on_demand: Option<(Option<i64>, Option<i64>)>,
    /// `Some(Some(view))` enables a stream, `Some(None)` disables the
    /// enabled one.
    pub stream: Option<Option<StreamViewType>>,
}

/// One member of UpdateTable's `GlobalSecondaryIndexUpdates`.
#[derive(Clone, Debug)]
pub enum IndexUpdate {
    /// Create a global index online; existing items are backfilled.
    Create(NewIndex),
    /// Change an index's provisioned throughput.
    Update {
        /// Index name.
        name: String,
        /// New read and write units.
        throughput: (u64, u64),
    },
    /// Delete a global index.
    Delete {
        /// Index name.
        name: String,
    },
}

impl Shared {
    /// Creates a table. It is usable as soon as this returns.
    pub(crate) fn create_table(&self, req: CreateTable) -> Result<TableInfo> {
        let s = self;
        let mut tables = write_lock(&s.tables);
        if tables.contains_key(&req.name) {
            return Err(Error::TableExists(req.name));
        }
        let mut next_id = lock(&s.next_table_id);
        let id = *next_id;
        let now = now_ms();
        let (read_units, write_units) = req.throughput.unwrap_or((0, 0));
        let exhausted =
            || Error::LimitExceeded("Subscriber limit exceeded: table ids exhausted".into());
        let mut new_next = id.checked_add(1).ok_or_else(exhausted)?;
        let mut indexes = Vec::with_capacity(req.indexes.len());
        for index in req.indexes {
            indexes.push(new_index_def(index, new_next, IndexStatus::Active, now));
            new_next = new_next.checked_add(1).ok_or_else(exhausted)?;
        }
        let def = TableDef {
            id,
            name: req.name.clone(),
            status: TableStatus::Active,
            created_ms: now,
            key_schema: req.key_schema,
            attribute_definitions: req.attribute_definitions,
            billing_mode: req.billing_mode,
            throughput: Throughput {
                read_units,
                write_units,
                ..Default::default()
            },
            pay_per_request_since_ms: (req.billing_mode == BillingMode::PayPerRequest)
                .then_some(now),
            indexes,
            settings: TableSettings {
                ttl: None,
                ttl_changed_ms: 0,
                pitr: None,
                ..req.settings
            },
            streams: Vec::new(),
            backups_creating: Vec::new(),
            restore: None,
        };
        let mut def = def;
        let mut states = Vec::new();
        if let Some(view_type) = req.stream {
            let created_ms = now.max(s.stream_label_floor(&def.name, &def));
            states.push(enable_stream(&mut def, new_next, view_type, created_ms));
            new_next = new_next.checked_add(1).ok_or_else(exhausted)?;
        }
        let mut batch = s.db.batch();
        batch.insert(&s.catalog, catalog_key(&def.name), def.encode());
        batch.insert(&s.catalog, CATALOG_NEXT_ID, new_next.to_be_bytes());
        for state in &states {
            batch.insert(&s.catalog, state_key(state.stream), state.encode());
        }
        s.commit.commit(batch)?;
        *next_id = new_next;
        for state in &states {
            s.feed.register(state.stream, 0);
        }
        let table = Table::new(def);
        *lock(&table.streams) = states;
        let info = table.info();
        tables.insert(req.name, table);
        Ok(info)
    }

    /// The definition of a table (a cheaper [`describe_table`](Shared::describe_table)
    /// for requests that need only the schema).
    pub(crate) fn table_def(&self, name: &str) -> Result<TableDef> {
        Ok(self.table(name)?.read().clone())
    }

    /// Describes a table, including one that is being deleted.
    pub(crate) fn describe_table(&self, name: &str) -> Result<TableInfo> {
        Ok(self.table(name)?.info())
    }

    /// Lists table names in order, starting after `exclusive_start`, at most
    /// `limit` of them. The second value is the last name returned when more
    /// tables follow it.
    pub(crate) fn list_tables(
        &self,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        let tables = self.read_tables();
        let mut names = Vec::with_capacity(limit.min(tables.len()));
        let range = match exclusive_start {
            Some(start) => tables
                .range::<str, _>((std::ops::Bound::Excluded(start), std::ops::Bound::Unbounded)),
            None => tables.range::<str, _>(..),
        };
        let mut more = false;
        for (name, _) in range {
            if names.len() == limit {
                more = true;
                break;
            }
            names.push(name.clone());
        }
        let last = if more { names.last().cloned() } else { None };
        (names, last)
    }

    /// Deletes a table: marks it `DELETING`, moves its record from its name
    /// to its id (durably, one batch) and takes it out of the name map, so
    /// that from the return on the name is free and nothing finds the
    /// table; its data is dropped in the background. Returns the table as
    /// it was marked.
    pub(crate) fn delete_table(&self, name: &str) -> Result<TableInfo> {
        let s = self;
        let table = s.table(name)?;
        {
            // The write lock waits for in-flight item writes, so none lands
            // in the table after it is marked.
            let mut def = table.write();
            match def.status {
                TableStatus::Active => {}
                // A concurrent DeleteTable got there first.
                TableStatus::Deleting => return Err(Error::TableNotFound(name.to_owned())),
                TableStatus::Creating => return Err(being_created(name)),
            }
            if def.settings.deletion_protection {
                return Err(Error::Validation(Invalid::DeletionProtected));
            }
            if def.indexes.iter().any(|i| i.status != IndexStatus::Active) {
                return Err(Error::ResourceInUse(
                    "Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.".into(),
                ));
            }
            let mut marked = def.clone();
            marked.status = TableStatus::Deleting;
            let mut batch = s.db.batch();
            batch.remove(&s.catalog, catalog_key(name));
            batch.insert(&s.catalog, drop_key(marked.id), marked.encode());
            // The streams outlive the table, readable until retention.
            let mut states = lock(&table.streams);
            let mut closed = states.clone();
            let retired = s.retire_streams(&def, &mut closed, now_ms(), &mut batch);
            s.commit.commit(batch)?;
            *states = closed;
            drop(states);
            s.publish_retired(retired);
            *def = marked;
        }
        {
            let mut tables = write_lock(&s.tables);
            if tables.get(name).is_some_and(|t| Arc::ptr_eq(t, &table)) {
                tables.remove(name);
            }
        }
        let info = table.info();
        self.jobs.submit(Job::DropTable(table));
        Ok(info)
    }

    /// Changes billing mode, provisioned throughput and global indexes. A
    /// created index is maintained by every write from the moment this
    /// returns and backfilled in the background; a deleted one stops being
    /// maintained at once and its entries are dropped in the background.
    pub(crate) fn update_table(&self, name: &str, update: UpdateTable) -> Result<TableInfo> {
        let s = self;
        let table = s.table(name)?;
        let mut jobs = Vec::new();
        {
            // The write lock waits for in-flight item writes: every write
            // after it sees the new index list.
            let mut def = table.write();
            match def.status {
                TableStatus::Active => {}
                TableStatus::Deleting => return Err(Error::TableNotFound(name.to_owned())),
                TableStatus::Creating => return Err(being_created(name)),
            }
            let now = now_ms();
            let mut new = def.clone();
            if update.billing_mode.is_some() || update.throughput.is_some() {
                apply_update(&mut new, &update, now)?;
            }
            apply_settings(&mut new.settings, &update, now);
            if new.billing_mode == BillingMode::Provisioned {
                // On-demand maxima do not survive a switch to provisioned.
                new.settings.on_demand = None;
            }
            let mut next_id = lock(&s.next_table_id);
            let mut new_next = *next_id;
            for change in &update.index_updates {
                match change {
                    IndexUpdate::Create(index) => {
                        check_index_create(&new, index)?;
                        for attr in index.hash.iter().chain(&index.range) {
                            if !new
                                .attribute_definitions
                                .iter()
                                .any(|a| a.name == attr.name)
                            {
                                new.attribute_definitions.push(attr.clone());
                            }
                        }
                        let id = new_next;
                        new_next = new_next.checked_add(1).ok_or_else(|| {
                            Error::LimitExceeded("Subscriber limit exceeded: ids exhausted".into())
                        })?;
                        let mut index_def =
                            new_index_def(index.clone(), id, IndexStatus::Creating, now);
                        index_def.backfilling = true;
                        new.indexes.push(index_def);
                        jobs.push(Job::Backfill(Arc::clone(&table), Backfill::Index(id)));
                    }
                    IndexUpdate::Update {
                        name: index,
                        throughput,
                    } => {
                        let i = find_global(&new, index)?;
                        let d = &mut new.indexes[i];
                        d.read_units = throughput.0;
                        d.write_units = throughput.1;
                    }
                    IndexUpdate::Delete { name: index } => {
                        let i = find_global(&new, index)?;
                        // A backfilling index may itself be deleted.
                        if new
                            .indexes
                            .iter()
                            .enumerate()
                            .any(|(j, x)| j != i && x.status != IndexStatus::Active)
                        {
                            check_one_online_change(&new)?;
                        }
                        // A backfill in progress stops at its next batch.
                        new.indexes[i].status = IndexStatus::Deleting;
                        jobs.push(Job::DropIndex(Arc::clone(&table), new.indexes[i].id));
                    }
                }
            }
            let mut streams = lock(&table.streams);
            let mut new_states = streams.clone();
            let mut enabled = None;
            match update.stream {
                Some(Some(view_type)) => {
                    if new.enabled_stream().is_some() {
                        return Err(Error::Validation(Invalid::StreamAlreadyEnabled {
                            table: name.to_owned(),
                        }));
                    }
                    let created_ms = now.max(s.stream_label_floor(name, &new));
                    new_states.push(enable_stream(&mut new, new_next, view_type, created_ms));
                    enabled = Some(new_next);
                    new_next = new_next.checked_add(1).ok_or_else(|| {
                        Error::LimitExceeded("Subscriber limit exceeded: ids exhausted".into())
                    })?;
                }
                Some(None) => {
                    let Some(i) = new.streams.iter().rposition(|s| s.enabled) else {
                        return Err(Error::Validation(Invalid::NoStreamToDisable {
                            table: name.to_owned(),
                        }));
                    };
                    new.streams[i].enabled = false;
                    new.streams[i].disabled_ms = now;
                    let id = new.streams[i].id;
                    if let Some(state) = new_states.iter_mut().find(|s| s.stream == id) {
                        state.close_all(now);
                    }
                }
                None => {}
            }
            let mut batch = s.db.batch();
            batch.insert(&s.catalog, catalog_key(name), new.encode());
            if new_next != *next_id {
                batch.insert(&s.catalog, CATALOG_NEXT_ID, new_next.to_be_bytes());
            }
            for state in &new_states {
                if !streams.contains(state) {
                    batch.insert(&s.catalog, state_key(state.stream), state.encode());
                }
            }
            s.commit.commit(batch)?;
            *next_id = new_next;
            // Registered before any write can reach the stream: writes
            // wait for this definition's write lock.
            if let Some(stream) = enabled {
                s.feed.register(stream, 0);
            }
            *def = new;
            *streams = new_states;
        }
        // The reply shows the table as this call left it, before any
        // background job can move it on.
        let info = table.info();
        for job in jobs {
            self.jobs.submit(job);
        }
        Ok(info)
    }

    /// TagResource: sets `tags` on the table, replacing the values of keys
    /// it has; at most 50 tags in all.
    pub(crate) fn tag_table(&self, name: &str, tags: &[(String, String)]) -> Result<()> {
        self.change_settings(name, |settings| {
            for (k, v) in tags {
                match settings.tags.iter_mut().find(|(key, _)| key == k) {
                    Some(existing) => existing.1 = v.clone(),
                    None => settings.tags.push((k.clone(), v.clone())),
                }
            }
            if settings.tags.len() > TAGS_MAX {
                return Err(Error::Validation(Invalid::TooManyTags));
            }
            Ok(())
        })
    }

    /// UntagResource: removes the tags with these keys (absent keys are
    /// ignored).
    pub(crate) fn untag_table(&self, name: &str, keys: &[String]) -> Result<()> {
        self.change_settings(name, |settings| {
            settings.tags.retain(|(k, _)| !keys.contains(k));
            Ok(())
        })
    }

    /// Applies `change` to a table's settings and stores them.
    pub(crate) fn change_settings(
        &self,
        name: &str,
        change: impl FnOnce(&mut TableSettings) -> Result<()>,
    ) -> Result<()> {
        let s = self;
        let table = s.table(name)?;
        let mut def = table.write();
        if def.status != TableStatus::Active {
            return Err(Error::TableNotFound(def.name.clone()));
        }
        let mut new = def.clone();
        change(&mut new.settings)?;
        if new == *def {
            return Ok(());
        }
        let mut batch = s.db.batch();
        batch.insert(&s.catalog, catalog_key(name), new.encode());
        s.commit.commit(batch)?;
        *def = new;
        Ok(())
    }
}

/// UpdateTable's settings changes: deletion protection, table class,
/// encryption and on-demand maxima (merged member by member; -1 clears).
fn apply_settings(settings: &mut TableSettings, update: &UpdateTable, now: u64) {
    if let Some(p) = update.deletion_protection {
        settings.deletion_protection = p;
    }
    if let Some(class) = update.table_class {
        // Setting STANDARD on a table that never had a class changes
        // nothing DynamoDB reports.
        if settings.table_class.is_some() || class != TableClass::Standard {
            settings.table_class = Some((class, now));
        }
    }
    if let Some(key) = &update.sse_kms_key {
        settings.sse_kms_key = key.clone();
    }
    if let Some((read, write)) = update.on_demand {
        let (mut r, mut w) = settings.on_demand.unwrap_or((-1, -1));
        if let Some(read) = read {
            r = read;
        }
        if let Some(write) = write {
            w = write;
        }
        settings.on_demand = (r != -1 || w != -1).then_some((r, w));
    }
}

/// Adds an enabled stream with id `id`, created at `created_ms` (its
/// label), to `def`; returns its state.
fn enable_stream(
    def: &mut TableDef,
    id: u32,
    view_type: StreamViewType,
    created_ms: u64,
) -> StreamState {
    def.streams.push(StreamDef {
        id,
        created_ms,
        view_type,
        enabled: true,
        disabled_ms: 0,
    });
    StreamState::new(id, created_ms)
}

/// The definition of a new index with id `id`.
pub(crate) fn new_index_def(index: NewIndex, id: u32, status: IndexStatus, now: u64) -> IndexDef {
    let (read_units, write_units) = index.throughput.unwrap_or((0, 0));
    IndexDef {
        id,
        name: index.name,
        kind: index.kind,
        hash: index.hash,
        range: index.range,
        projection: index.projection,
        status,
        backfilling: false,
        read_units,
        write_units,
        created_ms: now,
    }
}

/// The position of the global index `name` in the table's list.
fn find_global(def: &TableDef, name: &str) -> Result<usize> {
    def.indexes
        .iter()
        .position(|i| i.name == name && i.kind == IndexKind::Global && i.maintained())
        .ok_or_else(|| {
            Error::ResourceNotFound(format!(
                "Requested resource not found: Index {name} for table {}",
                def.name
            ))
        })
}

/// Only one index may be created or deleted at a time per table.
fn check_one_online_change(def: &TableDef) -> Result<()> {
    if def.indexes.iter().any(|i| i.status != IndexStatus::Active) {
        return Err(Error::LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
        ));
    }
    Ok(())
}

/// The rules for creating a global index on an existing table that need
/// the table's state: one index change at a time, unique names, the index
/// limit, and key attribute types that agree with the table's definitions.
fn check_index_create(def: &TableDef, index: &NewIndex) -> Result<()> {
    check_one_online_change(def)?;
    if def.indexes.iter().any(|i| i.name == index.name) {
        return Err(Error::Validation(Invalid::IndexExists));
    }
    let globals = def
        .indexes
        .iter()
        .filter(|i| i.kind == IndexKind::Global)
        .count();
    if globals >= GLOBAL_INDEXES_MAX {
        return Err(Error::LimitExceeded(format!(
            "Subscriber limit exceeded: Number of global secondary indexes exceeds per-table limit of {GLOBAL_INDEXES_MAX}"
        )));
    }
    for attr in index.hash.iter().chain(&index.range) {
        if let Some(existing) = def
            .attribute_definitions
            .iter()
            .find(|a| a.name == attr.name)
        {
            if existing.ty != attr.ty {
                return Err(Error::Validation(Invalid::AttributeRedefined {
                    attr: attr.name.clone(),
                    existing: existing.ty,
                    requested: attr.ty,
                }));
            }
        }
    }
    Ok(())
}

fn apply_update(def: &mut TableDef, update: &UpdateTable, now: u64) -> Result<()> {
    let mode = update.billing_mode.unwrap_or(def.billing_mode);
    if mode == BillingMode::PayPerRequest {
        if update.throughput.is_some() {
            return Err(Error::Validation(Invalid::ThroughputWithPayPerRequest));
        }
        if def.billing_mode != BillingMode::PayPerRequest {
            def.billing_mode = BillingMode::PayPerRequest;
            def.pay_per_request_since_ms = Some(now);
            def.throughput.read_units = 0;
            def.throughput.write_units = 0;
        }
        return Ok(());
    }
    let switching = def.billing_mode != BillingMode::Provisioned;
    let Some((read, write)) = update.throughput else {
        if switching {
            return Err(Error::Validation(Invalid::ThroughputRequired));
        }
        return Ok(());
    };
    let t = &mut def.throughput;
    if !switching && read == t.read_units && write == t.write_units {
        return Err(Error::Validation(Invalid::ThroughputUnchanged {
            read_now: t.read_units,
            read,
            write_now: t.write_units,
            write,
        }));
    }
    if !switching {
        if read > t.read_units || write > t.write_units {
            t.last_increase_ms = now;
        }
        if read < t.read_units || write < t.write_units {
            t.last_decrease_ms = now;
            t.decreases_today += 1;
        }
    }
    t.read_units = read;
    t.write_units = write;
    def.billing_mode = BillingMode::Provisioned;
    Ok(())
}

/// DeleteTable's and UpdateTable's answer for a table being restored.
pub(crate) fn being_created(name: &str) -> Error {
    Error::ResourceInUse(format!(
        "Attempt to change a resource which is still in use: Table is being created: {name}"
    ))
}

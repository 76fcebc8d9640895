//! Table definitions, their stored records and their keys in the
//! `catalog` keyspace (`docs/storage.md`, "Table records").

use crate::codec::{put_bytes, DecodeError, Reader};
use crate::error::{Error, Result};
use crate::index::{IndexDef, IndexKind};
use crate::schema::{decode_key_attr, key_attr_payload, KeyAttr, KeySchema};
use crate::stream::StreamDef;

/// Catalog prefix of the records of live tables, keyed by name.
pub(crate) const CATALOG_TABLE_PREFIX: u8 = b'T';
/// Prefix of the records of deleted tables whose data is being dropped,
/// keyed by table id.
pub(crate) const CATALOG_DROP_PREFIX: u8 = b'D';
/// The catalog key of the id counter: the next table, index, stream, TTL
/// or recovery id.
pub(crate) const CATALOG_NEXT_ID: &[u8] = b"N";

/// The catalog key of a live table's record.
pub(crate) fn catalog_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(CATALOG_TABLE_PREFIX);
    k.extend_from_slice(name.as_bytes());
    k
}

/// The catalog key of a deleted table's record while its data is dropped.
pub(crate) fn drop_key(table_id: u32) -> [u8; 5] {
    let mut k = [CATALOG_DROP_PREFIX, 0, 0, 0, 0];
    k[1..].copy_from_slice(&table_id.to_be_bytes());
    k
}

/// The backup and recovery operations' answer for a table that is not
/// `ACTIVE`: one being deleted is not found, one being created is in use.
pub(crate) fn check_backup_source(status: TableStatus, name: &str) -> Result<()> {
    match status {
        TableStatus::Active => Ok(()),
        TableStatus::Deleting => Err(Error::BackupTableNotFound(name.to_owned())),
        TableStatus::Creating => Err(Error::TableInUse(format!("Table is being created: {name}"))),
    }
}

/// Version byte of table records.
const TABLE_VERSION: u8 = 1;

const F_ID: u8 = 1;
const F_NAME: u8 = 2;
const F_STATUS: u8 = 3;
const F_CREATED: u8 = 4;
const F_HASH_KEY: u8 = 5;
const F_RANGE_KEY: u8 = 6;
const F_ATTR_DEF: u8 = 7;
const F_BILLING: u8 = 8;
const F_THROUGHPUT: u8 = 9;
const F_THROUGHPUT_HISTORY: u8 = 10;
const F_PPR_SWITCH: u8 = 11;
const F_INDEX: u8 = 12;
const F_TAG: u8 = 13;
const F_DELETION_PROTECTION: u8 = 14;
const F_TABLE_CLASS: u8 = 15;
const F_SSE_KMS_KEY: u8 = 16;
const F_ON_DEMAND: u8 = 17;
const F_TTL: u8 = 18;
const F_TTL_CHANGED: u8 = 19;
const F_STREAM: u8 = 20;
const F_PITR: u8 = 21;
const F_BACKUP_CREATING: u8 = 22;
const F_RESTORE: u8 = 23;

/// How a table is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillingMode {
    /// Provisioned read and write capacity units.
    Provisioned,
    /// On demand.
    PayPerRequest,
}

/// The lifecycle state of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableStatus {
    /// Usable.
    Active,
    /// Deleted; its data is being dropped in the background.
    Deleting,
    /// Restored from a backup or a point in time; filled in the background
    /// and refusing every item operation until it is `Active`.
    Creating,
}

/// Provisioned capacity and its change history, as DescribeTable reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Throughput {
    /// Read capacity units (0 for on-demand tables).
    pub read_units: u64,
    /// Write capacity units (0 for on-demand tables).
    pub write_units: u64,
    /// When capacity was last raised, ms since the epoch, 0 if never.
    pub last_increase_ms: u64,
    /// When capacity was last lowered, ms since the epoch, 0 if never.
    pub last_decrease_ms: u64,
    /// Decreases made during the current UTC day.
    pub decreases_today: u32,
}

/// Everything the catalog knows about one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDef {
    /// Numeric id, the prefix of every key of the table; never reused.
    pub id: u32,
    /// Table name.
    pub name: String,
    /// Lifecycle state.
    pub status: TableStatus,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
    /// Primary key.
    pub key_schema: KeySchema,
    /// Attribute definitions in request order.
    pub attribute_definitions: Vec<KeyAttr>,
    /// Billing mode.
    pub billing_mode: BillingMode,
    /// Provisioned capacity (zero for on-demand).
    pub throughput: Throughput,
    /// When the table last switched to on-demand, ms since the epoch, if ever
    /// (including at creation).
    pub pay_per_request_since_ms: Option<u64>,
    /// Secondary indexes, local and global, in creation order (those being
    /// deleted included until their entries are gone).
    pub indexes: Vec<IndexDef>,
    /// Tags, TTL and the other settings DescribeTable reports.
    pub settings: TableSettings,
    /// Streams, oldest first: at most one enabled (the last), and earlier
    /// disabled ones whose records are still kept.
    pub streams: Vec<StreamDef>,
    /// Backups of this table still being copied: every write keeps the old
    /// image of an item for each of them (`docs/storage.md`, "Backups").
    pub backups_creating: Vec<u32>,
    /// Where the table was restored from, if it was.
    pub restore: Option<RestoreDef>,
}

/// Point-in-time recovery, while enabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PitrDef {
    /// Id of this enablement's recovery log (from the id counter; a new one
    /// each time recovery is enabled).
    pub id: u32,
    /// When it was enabled, ms since the epoch.
    pub enabled_ms: u64,
    /// How many days back the table can be restored (1-35).
    pub period_days: u8,
}

/// What a restored table was restored from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreDef {
    /// A backup or a point in time.
    pub source: RestoreSource,
    /// The restore point (the backup's creation, or the point in time), ms
    /// since the epoch.
    pub restore_ms: u64,
    /// Name of the table the data came from.
    pub source_table: String,
    /// True until the table is filled.
    pub in_progress: bool,
}

/// The data a restore reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreSource {
    /// A backup.
    Backup {
        /// Backup id.
        id: u32,
        /// When the backup was made, ms since the epoch.
        created_ms: u64,
    },
    /// A table's items and its recovery log.
    PointInTime {
        /// Source table id.
        table_id: u32,
        /// The source's recovery log id.
        pitr_id: u32,
    },
}

/// A table's storage class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableClass {
    /// STANDARD.
    Standard,
    /// STANDARD_INFREQUENT_ACCESS.
    StandardInfrequentAccess,
}

impl TableClass {
    /// DynamoDB's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            TableClass::Standard => "STANDARD",
            TableClass::StandardInfrequentAccess => "STANDARD_INFREQUENT_ACCESS",
        }
    }
}

/// Time to live, while enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TtlDef {
    /// The attribute holding each item's expiry, epoch seconds.
    pub attribute: String,
    /// Id of the expiry index of this enablement (from the id counter; a
    /// new one each time TTL is enabled, so a disabled one's entries are
    /// never read again).
    pub id: u32,
    /// True once every item that existed when TTL was enabled has its
    /// expiry recorded (writes since then record their own).
    pub backfilled: bool,
}

/// Settings that do not change how items are stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableSettings {
    /// Tags, in the order first set.
    pub tags: Vec<(String, String)>,
    /// DeleteTable is refused while set.
    pub deletion_protection: bool,
    /// The table class and when UpdateTable last changed it (ms since the
    /// epoch, 0 if set at creation); `None` if never set.
    pub table_class: Option<(TableClass, u64)>,
    /// The KMS key of customer-managed encryption; `None` for the default.
    pub sse_kms_key: Option<String>,
    /// OnDemandThroughput maxima, read and write request units (-1 for no
    /// maximum); `None` if never set.
    pub on_demand: Option<(i64, i64)>,
    /// Time to live, when enabled.
    pub ttl: Option<TtlDef>,
    /// When TTL was last enabled or disabled, ms since the epoch.
    pub ttl_changed_ms: u64,
    /// Point-in-time recovery, when enabled.
    pub pitr: Option<PitrDef>,
}

impl TableDef {
    /// The index called `name`, unless it is being deleted.
    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes
            .iter()
            .find(|i| i.name == name && i.maintained())
    }

    /// The enabled stream, if any.
    pub fn enabled_stream(&self) -> Option<&StreamDef> {
        self.streams.iter().rev().find(|s| s.enabled)
    }

    /// True when the table has local secondary indexes, which bound its
    /// item collections to 10 GB.
    pub fn has_local_indexes(&self) -> bool {
        self.indexes.iter().any(|i| i.kind == IndexKind::Local)
    }
}

fn put_field(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    out.push(tag);
    put_bytes(out, payload);
}

impl TableDef {
    /// Encodes the table record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![TABLE_VERSION];
        put_field(&mut out, F_ID, &self.id.to_be_bytes());
        put_field(&mut out, F_NAME, self.name.as_bytes());
        let status = match self.status {
            TableStatus::Active => 1u8,
            TableStatus::Deleting => 2,
            TableStatus::Creating => 3,
        };
        put_field(&mut out, F_STATUS, &[status]);
        put_field(&mut out, F_CREATED, &self.created_ms.to_be_bytes());
        put_field(
            &mut out,
            F_HASH_KEY,
            &key_attr_payload(&self.key_schema.hash),
        );
        if let Some(range) = &self.key_schema.range {
            put_field(&mut out, F_RANGE_KEY, &key_attr_payload(range));
        }
        for def in &self.attribute_definitions {
            put_field(&mut out, F_ATTR_DEF, &key_attr_payload(def));
        }
        let billing = match self.billing_mode {
            BillingMode::Provisioned => 1u8,
            BillingMode::PayPerRequest => 2,
        };
        put_field(&mut out, F_BILLING, &[billing]);
        let t = &self.throughput;
        let mut p = Vec::with_capacity(16);
        p.extend_from_slice(&t.read_units.to_be_bytes());
        p.extend_from_slice(&t.write_units.to_be_bytes());
        put_field(&mut out, F_THROUGHPUT, &p);
        let mut h = Vec::with_capacity(20);
        h.extend_from_slice(&t.last_increase_ms.to_be_bytes());
        h.extend_from_slice(&t.last_decrease_ms.to_be_bytes());
        h.extend_from_slice(&t.decreases_today.to_be_bytes());
        put_field(&mut out, F_THROUGHPUT_HISTORY, &h);
        if let Some(ms) = self.pay_per_request_since_ms {
            put_field(&mut out, F_PPR_SWITCH, &ms.to_be_bytes());
        }
        for index in &self.indexes {
            put_field(&mut out, F_INDEX, &index.encode());
        }
        let t = &self.settings;
        for (k, v) in &t.tags {
            let mut p = Vec::with_capacity(k.len() + v.len() + 4);
            put_bytes(&mut p, k.as_bytes());
            put_bytes(&mut p, v.as_bytes());
            put_field(&mut out, F_TAG, &p);
        }
        if t.deletion_protection {
            put_field(&mut out, F_DELETION_PROTECTION, &[1]);
        }
        if let Some((class, ms)) = t.table_class {
            let mut p = vec![match class {
                TableClass::Standard => 1u8,
                TableClass::StandardInfrequentAccess => 2,
            }];
            p.extend_from_slice(&ms.to_be_bytes());
            put_field(&mut out, F_TABLE_CLASS, &p);
        }
        if let Some(key) = &t.sse_kms_key {
            put_field(&mut out, F_SSE_KMS_KEY, key.as_bytes());
        }
        if let Some((read, write)) = t.on_demand {
            let mut p = Vec::with_capacity(16);
            p.extend_from_slice(&read.to_be_bytes());
            p.extend_from_slice(&write.to_be_bytes());
            put_field(&mut out, F_ON_DEMAND, &p);
        }
        if let Some(ttl) = &t.ttl {
            let mut p = Vec::with_capacity(ttl.attribute.len() + 8);
            p.extend_from_slice(&ttl.id.to_be_bytes());
            put_bytes(&mut p, ttl.attribute.as_bytes());
            p.push(u8::from(ttl.backfilled));
            put_field(&mut out, F_TTL, &p);
        }
        if t.ttl_changed_ms != 0 {
            put_field(&mut out, F_TTL_CHANGED, &t.ttl_changed_ms.to_be_bytes());
        }
        for stream in &self.streams {
            put_field(&mut out, F_STREAM, &stream.encode());
        }
        if let Some(p) = &t.pitr {
            let mut b = Vec::with_capacity(13);
            b.extend_from_slice(&p.id.to_be_bytes());
            b.extend_from_slice(&p.enabled_ms.to_be_bytes());
            b.push(p.period_days);
            put_field(&mut out, F_PITR, &b);
        }
        for id in &self.backups_creating {
            put_field(&mut out, F_BACKUP_CREATING, &id.to_be_bytes());
        }
        if let Some(r) = &self.restore {
            let (kind, id, pitr_id, created_ms) = match r.source {
                RestoreSource::Backup { id, created_ms } => (1u8, id, 0, created_ms),
                RestoreSource::PointInTime { table_id, pitr_id } => (2, table_id, pitr_id, 0),
            };
            let mut b = vec![kind];
            b.extend_from_slice(&id.to_be_bytes());
            b.extend_from_slice(&pitr_id.to_be_bytes());
            b.extend_from_slice(&created_ms.to_be_bytes());
            b.extend_from_slice(&r.restore_ms.to_be_bytes());
            put_bytes(&mut b, r.source_table.as_bytes());
            b.push(u8::from(r.in_progress));
            put_field(&mut out, F_RESTORE, &b);
        }
        out
    }

    /// Decodes a table record, skipping fields it does not know.
    pub fn decode(buf: &[u8]) -> Result<TableDef, DecodeError> {
        let mut r = Reader::new(buf);
        if r.u8()? != TABLE_VERSION {
            return Err(DecodeError("unknown table record version"));
        }
        let mut id = None;
        let mut name = None;
        let mut status = TableStatus::Active;
        let mut created_ms = 0;
        let mut hash = None;
        let mut range = None;
        let mut attribute_definitions = Vec::new();
        let mut billing_mode = BillingMode::Provisioned;
        let mut throughput = Throughput::default();
        let mut pay_per_request_since_ms = None;
        let mut indexes = Vec::new();
        let mut settings = TableSettings::default();
        let mut streams = Vec::new();
        let mut backups_creating = Vec::new();
        let mut restore = None;
        while !r.is_empty() {
            let tag = r.u8()?;
            let mut f = Reader::new(r.bytes()?);
            match tag {
                F_ID => id = Some(f.u32()?),
                F_NAME => {
                    let rest = f.take(payload_len(&f))?;
                    let s = std::str::from_utf8(rest).map_err(|_| DecodeError("invalid utf-8"))?;
                    name = Some(s.to_owned());
                }
                F_STATUS => {
                    status = match f.u8()? {
                        1 => TableStatus::Active,
                        2 => TableStatus::Deleting,
                        3 => TableStatus::Creating,
                        _ => return Err(DecodeError("unknown table status")),
                    }
                }
                F_CREATED => created_ms = f.u64()?,
                F_HASH_KEY => hash = Some(decode_key_attr(f.take(payload_len(&f))?)?),
                F_RANGE_KEY => range = Some(decode_key_attr(f.take(payload_len(&f))?)?),
                F_ATTR_DEF => {
                    attribute_definitions.push(decode_key_attr(f.take(payload_len(&f))?)?)
                }
                F_BILLING => {
                    billing_mode = match f.u8()? {
                        1 => BillingMode::Provisioned,
                        2 => BillingMode::PayPerRequest,
                        _ => return Err(DecodeError("unknown billing mode")),
                    }
                }
                F_THROUGHPUT => {
                    throughput.read_units = f.u64()?;
                    throughput.write_units = f.u64()?;
                }
                F_THROUGHPUT_HISTORY => {
                    throughput.last_increase_ms = f.u64()?;
                    throughput.last_decrease_ms = f.u64()?;
                    throughput.decreases_today = f.u32()?;
                }
                F_PPR_SWITCH => pay_per_request_since_ms = Some(f.u64()?),
                F_INDEX => indexes.push(IndexDef::decode(f.take(payload_len(&f))?)?),
                F_TAG => {
                    let k = f.str()?.to_owned();
                    let v = f.str()?.to_owned();
                    settings.tags.push((k, v));
                }
                F_DELETION_PROTECTION => settings.deletion_protection = f.u8()? != 0,
                F_TABLE_CLASS => {
                    let class = match f.u8()? {
                        1 => TableClass::Standard,
                        2 => TableClass::StandardInfrequentAccess,
                        _ => return Err(DecodeError("unknown table class")),
                    };
                    settings.table_class = Some((class, f.u64()?));
                }
                F_SSE_KMS_KEY => {
                    let rest = f.take(payload_len(&f))?;
                    let s = std::str::from_utf8(rest).map_err(|_| DecodeError("invalid utf-8"))?;
                    settings.sse_kms_key = Some(s.to_owned());
                }
                F_ON_DEMAND => {
                    let read = f.u64()? as i64;
                    let write = f.u64()? as i64;
                    settings.on_demand = Some((read, write));
                }
                F_TTL => {
                    let id = f.u32()?;
                    let attribute = f.str()?.to_owned();
                    let backfilled = f.u8()? != 0;
                    settings.ttl = Some(TtlDef {
                        attribute,
                        id,
                        backfilled,
                    });
                }
                F_TTL_CHANGED => settings.ttl_changed_ms = f.u64()?,
                F_STREAM => streams.push(StreamDef::decode(f.take(payload_len(&f))?)?),
                F_PITR => {
                    let id = f.u32()?;
                    let enabled_ms = f.u64()?;
                    let period_days = f.u8()?;
                    if !(1..=35).contains(&period_days) {
                        return Err(DecodeError("recovery period out of range"));
                    }
                    settings.pitr = Some(PitrDef {
                        id,
                        enabled_ms,
                        period_days,
                    });
                }
                F_BACKUP_CREATING => backups_creating.push(f.u32()?),
                F_RESTORE => {
                    let kind = f.u8()?;
                    let id = f.u32()?;
                    let pitr_id = f.u32()?;
                    let created_ms = f.u64()?;
                    let restore_ms = f.u64()?;
                    let source_table = f.str()?.to_owned();
                    let in_progress = f.u8()? != 0;
                    let source = match kind {
                        1 => RestoreSource::Backup { id, created_ms },
                        2 => RestoreSource::PointInTime {
                            table_id: id,
                            pitr_id,
                        },
                        _ => return Err(DecodeError("unknown restore source")),
                    };
                    restore = Some(RestoreDef {
                        source,
                        restore_ms,
                        source_table,
                        in_progress,
                    });
                }
                _ => continue,
            }
        }
        Ok(TableDef {
            id: id.ok_or(DecodeError("table record without id"))?,
            name: name.ok_or(DecodeError("table record without name"))?,
            status,
            created_ms,
            key_schema: KeySchema {
                hash: hash.ok_or(DecodeError("table record without hash key"))?,
                range,
            },
            attribute_definitions,
            billing_mode,
            throughput,
            pay_per_request_since_ms,
            indexes,
            settings,
            streams,
            backups_creating,
            restore,
        })
    }
}

/// All that is left of a field payload reader.
fn payload_len(r: &Reader<'_>) -> usize {
    r.remaining()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tarn_expr::ScalarType;

    pub(crate) fn sample() -> TableDef {
        TableDef {
            id: 7,
            name: "Music".into(),
            status: TableStatus::Active,
            created_ms: 1_700_000_000_123,
            key_schema: KeySchema {
                hash: KeyAttr {
                    name: "Artist".into(),
                    ty: ScalarType::S,
                },
                range: Some(KeyAttr {
                    name: "Year".into(),
                    ty: ScalarType::N,
                }),
            },
            attribute_definitions: vec![
                KeyAttr {
                    name: "Year".into(),
                    ty: ScalarType::N,
                },
                KeyAttr {
                    name: "Artist".into(),
                    ty: ScalarType::S,
                },
            ],
            billing_mode: BillingMode::PayPerRequest,
            throughput: Throughput {
                read_units: 0,
                write_units: 0,
                ..Default::default()
            },
            pay_per_request_since_ms: Some(1_700_000_000_123),
            indexes: vec![crate::index::IndexDef {
                id: 8,
                name: "byTitle".into(),
                kind: IndexKind::Local,
                hash: vec![KeyAttr {
                    name: "Artist".into(),
                    ty: ScalarType::S,
                }],
                range: vec![KeyAttr {
                    name: "Title".into(),
                    ty: ScalarType::S,
                }],
                projection: crate::index::IndexProjection {
                    kind: crate::index::ProjectionType::KeysOnly,
                    non_key_attributes: vec![],
                },
                status: crate::index::IndexStatus::Active,
                backfilling: false,
                read_units: 0,
                write_units: 0,
                created_ms: 1_700_000_000_123,
            }],
            settings: TableSettings {
                tags: vec![("team".into(), "audio".into()), ("env".into(), "".into())],
                deletion_protection: true,
                table_class: Some((TableClass::StandardInfrequentAccess, 5)),
                sse_kms_key: Some("arn:aws:kms:us-east-1:000000000000:key/k".into()),
                on_demand: Some((-1, 200)),
                ttl: Some(TtlDef {
                    attribute: "expires".into(),
                    id: 9,
                    backfilled: true,
                }),
                ttl_changed_ms: 1_700_000_000_999,
                pitr: Some(PitrDef {
                    id: 12,
                    enabled_ms: 1_700_000_000_700,
                    period_days: 35,
                }),
            },
            streams: vec![StreamDef {
                id: 11,
                created_ms: 1_700_000_000_500,
                view_type: crate::stream::StreamViewType::NewImage,
                enabled: true,
                disabled_ms: 0,
            }],
            backups_creating: vec![13, 14],
            restore: Some(RestoreDef {
                source: RestoreSource::Backup {
                    id: 3,
                    created_ms: 1_600_000_000_000,
                },
                restore_ms: 1_600_000_000_000,
                source_table: "Songs".into(),
                in_progress: true,
            }),
        }
    }

    #[test]
    fn table_records_round_trip() {
        let def = sample();
        assert_eq!(TableDef::decode(&def.encode()), Ok(def));
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let def = sample();
        let mut buf = def.encode();
        put_field(&mut buf, 200, b"from the future");
        assert_eq!(TableDef::decode(&buf), Ok(def));
    }

    #[test]
    fn truncated_records_never_panic_and_lose_required_fields() {
        let buf = sample().encode();
        // A cut inside the first fields loses the id or the name.
        for cut in 0..12 {
            assert!(
                TableDef::decode(&buf[..cut]).is_err(),
                "prefix of {cut} bytes decoded"
            );
        }
        for cut in 12..buf.len() {
            let _ = TableDef::decode(&buf[..cut]);
        }
    }
}

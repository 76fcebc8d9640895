//! Function state in the store: records, keys and their encoding
//! (`docs/storage.md`, "Functions").

use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tarn_engine::store::{Direction, KeyRange, Keyspace};
use tarn_engine::{Store, StoreBatch};

use crate::Error;

/// The store keyspace of every function record.
pub const KEYSPACE: &str = "lambda_functions";
const VERSION: u8 = 1;

/// What `$LATEST` or a published version runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `python3.12`, `nodejs20.x`, `provided.al2023`, ...
    pub runtime: String,
    /// The execution role's ARN (stored, not enforced).
    pub role: String,
    /// `module.function` (or anything, for `provided`).
    pub handler: String,
    /// Free text.
    pub description: String,
    /// Seconds an invocation may run (1 to 900).
    pub timeout_s: u32,
    /// Megabytes (128 to 10240), reported to the function.
    pub memory_mb: u32,
    /// The function's environment variables.
    pub environment: BTreeMap<String, String>,
    /// Base64 of the code's SHA-256, as Lambda reports `CodeSha256`.
    pub code_sha256: String,
    /// Bytes of the zip (or 0 for a local directory).
    pub code_size: u64,
    /// Where the unpacked code is.
    pub code_dir: String,
    /// Whether `code_dir` is the user's own directory (Tarn extension).
    pub code_local: bool,
    /// Changes with every update (a UUID-shaped string).
    pub revision_id: String,
    /// Last change, ms since the epoch.
    pub last_modified_ms: u64,
    /// `x86_64` or `arm64`, reported only.
    pub architectures: Vec<String>,
}

/// A function: its `$LATEST` configuration and what belongs to the whole
/// function.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionRecord {
    /// The name.
    pub name: String,
    /// `$LATEST`.
    pub latest: Config,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Reserved concurrency, if set.
    pub reserved_concurrency: Option<u32>,
    /// The next version PublishVersion hands out (from 1).
    pub next_version: u64,
    /// When the function was created, ms since the epoch.
    pub created_ms: u64,
}

/// A published version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VersionRecord {
    /// Its number.
    pub version: u64,
    /// Its frozen configuration.
    pub config: Config,
}

/// An alias.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AliasRecord {
    /// Its name.
    pub name: String,
    /// The version it points at (`$LATEST` or a number).
    pub function_version: String,
    /// Free text.
    pub description: String,
    /// Changes with every update.
    pub revision_id: String,
}

/// An event invoke config: how asynchronous invokes of one qualifier are
/// retried and where their results go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvokeConfigRecord {
    /// `$LATEST`, a version or an alias.
    pub qualifier: String,
    /// 0 to 2 (default 2).
    pub maximum_retry_attempts: Option<u32>,
    /// 60 to 21600 seconds (default 21600).
    pub maximum_event_age_s: Option<u32>,
    /// ARN of the on-success destination.
    pub on_success: Option<String>,
    /// ARN of the on-failure destination.
    pub on_failure: Option<String>,
    /// Last change, ms since the epoch.
    pub last_modified_ms: u64,
}

/// The kinds of record under one function's prefix.
#[derive(Clone, Copy)]
enum Kind {
    Function = b'F' as isize,
    Version = b'V' as isize,
    Alias = b'A' as isize,
    InvokeConfig = b'E' as isize,
}

fn prefix(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 2);
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    k
}

fn key(name: &str, kind: Kind, rest: &[u8]) -> Vec<u8> {
    let mut k = prefix(name);
    k.push(kind as u8);
    k.extend_from_slice(rest);
    k
}

fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    let mut out = vec![VERSION];
    // Serializing plain structs of strings and numbers cannot fail.
    out.extend_from_slice(&serde_json::to_vec(record).unwrap_or_default());
    out
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    match bytes.split_first() {
        Some((&VERSION, json)) => {
            serde_json::from_slice(json).map_err(|_| Error::Corrupt("function record"))
        }
        _ => Err(Error::Corrupt("function record version")),
    }
}

/// Reads and writes function records.
#[derive(Clone)]
pub struct Records {
    store: Store,
    keyspace: Keyspace,
}

impl Records {
    /// Opens the keyspace.
    pub fn open(store: &Store) -> Result<Records, Error> {
        Ok(Records {
            store: store.clone(),
            keyspace: store.keyspace(KEYSPACE)?,
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, Error> {
        match self.store.get(&self.keyspace, key)? {
            Some(v) => Ok(Some(decode(&v)?)),
            None => Ok(None),
        }
    }

    /// A function.
    pub fn function(&self, name: &str) -> Result<Option<FunctionRecord>, Error> {
        self.get(&key(name, Kind::Function, b""))
    }

    /// A published version.
    pub fn version(&self, name: &str, version: u64) -> Result<Option<VersionRecord>, Error> {
        self.get(&key(name, Kind::Version, &version.to_be_bytes()))
    }

    /// Every published version, in order.
    pub fn versions(&self, name: &str) -> Result<Vec<VersionRecord>, Error> {
        self.scan(&key(name, Kind::Version, b""))
    }

    /// An alias.
    pub fn alias(&self, name: &str, alias: &str) -> Result<Option<AliasRecord>, Error> {
        self.get(&key(name, Kind::Alias, alias.as_bytes()))
    }

    /// Every alias, by name.
    pub fn aliases(&self, name: &str) -> Result<Vec<AliasRecord>, Error> {
        self.scan(&key(name, Kind::Alias, b""))
    }

    /// The event invoke config of a qualifier.
    pub fn invoke_config(
        &self,
        name: &str,
        qualifier: &str,
    ) -> Result<Option<InvokeConfigRecord>, Error> {
        self.get(&key(name, Kind::InvokeConfig, qualifier.as_bytes()))
    }

    /// Every event invoke config of a function, by qualifier.
    pub fn invoke_configs(&self, name: &str) -> Result<Vec<InvokeConfigRecord>, Error> {
        self.scan(&key(name, Kind::InvokeConfig, b""))
    }

    fn scan<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        for e in self.store.iter(
            &self.keyspace,
            &KeyRange::prefix(prefix),
            Direction::Forward,
        ) {
            let e = e?;
            out.push(decode(&e.value)?);
        }
        Ok(out)
    }

    /// Functions in name order after `after` (exclusive), at most `max`.
    pub fn functions(&self, after: Option<&str>, max: usize) -> Result<Vec<FunctionRecord>, Error> {
        let mut out = Vec::new();
        let range = match after {
            Some(a) => KeyRange::all().after(&prefix(a)),
            None => KeyRange::all(),
        };
        for e in self.store.iter(&self.keyspace, &range, Direction::Forward) {
            let e = e?;
            if out.len() >= max {
                break;
            }
            if e.key.ends_with(&[0, Kind::Function as u8]) {
                let f: FunctionRecord = decode(&e.value)?;
                if after.is_some_and(|a| f.name.as_str() <= a) {
                    continue;
                }
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Adds a function (or its new state) to `batch`.
    pub fn put_function(&self, batch: &mut StoreBatch, f: &FunctionRecord) -> Result<(), Error> {
        Ok(batch.insert(
            &self.keyspace,
            &key(&f.name, Kind::Function, b""),
            &encode(f),
        )?)
    }

    /// Adds a version to `batch`.
    pub fn put_version(
        &self,
        batch: &mut StoreBatch,
        name: &str,
        v: &VersionRecord,
    ) -> Result<(), Error> {
        Ok(batch.insert(
            &self.keyspace,
            &key(name, Kind::Version, &v.version.to_be_bytes()),
            &encode(v),
        )?)
    }

    /// Removes a version.
    pub fn remove_version(
        &self,
        batch: &mut StoreBatch,
        name: &str,
        version: u64,
    ) -> Result<(), Error> {
        Ok(batch.remove(
            &self.keyspace,
            &key(name, Kind::Version, &version.to_be_bytes()),
        )?)
    }

    /// Adds an alias to `batch`.
    pub fn put_alias(
        &self,
        batch: &mut StoreBatch,
        name: &str,
        a: &AliasRecord,
    ) -> Result<(), Error> {
        Ok(batch.insert(
            &self.keyspace,
            &key(name, Kind::Alias, a.name.as_bytes()),
            &encode(a),
        )?)
    }

    /// Removes an alias.
    pub fn remove_alias(
        &self,
        batch: &mut StoreBatch,
        name: &str,
        alias: &str,
    ) -> Result<(), Error> {
        Ok(batch.remove(&self.keyspace, &key(name, Kind::Alias, alias.as_bytes()))?)
    }

    /// Adds an event invoke config to `batch`.
    pub fn put_invoke_config(
        &self,
        batch: &mut StoreBatch,
        name: &str,
        c: &InvokeConfigRecord,
    ) -> Result<(), Error> {
        Ok(batch.insert(
            &self.keyspace,
            &key(name, Kind::InvokeConfig, c.qualifier.as_bytes()),
            &encode(c),
        )?)
    }

    /// Removes an event invoke config.
    pub fn remove_invoke_config(
        &self,
        batch: &mut StoreBatch,
        name: &str,
        qualifier: &str,
    ) -> Result<(), Error> {
        Ok(batch.remove(
            &self.keyspace,
            &key(name, Kind::InvokeConfig, qualifier.as_bytes()),
        )?)
    }

    /// Removes everything of a function.
    pub fn remove_all(&self, batch: &mut StoreBatch, name: &str) -> Result<(), Error> {
        for e in self.store.iter(
            &self.keyspace,
            &KeyRange::prefix(&prefix(name)),
            Direction::Forward,
        ) {
            let e = e?;
            batch.remove(&self.keyspace, &e.key)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_other_versions_are_refused() {
        let f = FunctionRecord {
            name: "f".into(),
            next_version: 3,
            ..FunctionRecord::default()
        };
        let bytes = encode(&f);
        assert_eq!(decode::<FunctionRecord>(&bytes).expect("decodes"), f);
        let mut bad = bytes.clone();
        bad[0] = 2;
        assert!(matches!(
            decode::<FunctionRecord>(&bad),
            Err(Error::Corrupt(_))
        ));
        assert!(matches!(
            decode::<FunctionRecord>(&bytes[..bytes.len() - 1]),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn a_functions_records_share_its_prefix_and_no_other_functions() {
        let a = key("ab", Kind::Function, b"");
        let b = key("a", Kind::Alias, b"b");
        assert!(a.starts_with(&prefix("ab")));
        assert!(!b.starts_with(&prefix("ab")));
        assert!(!a.starts_with(&prefix("a")));
    }
}

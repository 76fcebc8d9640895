//! Function records against a `BTreeMap` model: random puts and deletes
//! of functions, versions and aliases, with the database closed and
//! reopened along the way; what the store lists must be the model.

use std::collections::BTreeMap;

use tarn_lambda::model::{AliasRecord, FunctionRecord, Records, VersionRecord};

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Default, Clone, PartialEq, Debug)]
struct Model {
    functions: BTreeMap<String, FunctionRecord>,
    versions: BTreeMap<String, BTreeMap<u64, VersionRecord>>,
    aliases: BTreeMap<String, BTreeMap<String, AliasRecord>>,
}

fn open(dir: &std::path::Path) -> (tarn_engine::Engine, Records) {
    let engine = tarn_engine::Engine::open(tarn_engine::Options {
        data_dir: Some(dir.to_path_buf()),
        ..tarn_engine::Options::default()
    })
    .expect("engine");
    let records = Records::open(&engine.store()).expect("records");
    (engine, records)
}

fn check(records: &Records, model: &Model) {
    let listed = records.functions(None, 10_000).expect("list");
    let names: Vec<&str> = listed.iter().map(|f| f.name.as_str()).collect();
    let want: Vec<&str> = model.functions.keys().map(String::as_str).collect();
    assert_eq!(names, want);
    for f in &listed {
        assert_eq!(Some(f), model.functions.get(&f.name));
        let versions = records.versions(&f.name).expect("versions");
        let want: Vec<VersionRecord> = model
            .versions
            .get(&f.name)
            .map(|v| v.values().cloned().collect())
            .unwrap_or_default();
        assert_eq!(versions, want, "versions of {}", f.name);
        let aliases = records.aliases(&f.name).expect("aliases");
        let want: Vec<AliasRecord> = model
            .aliases
            .get(&f.name)
            .map(|v| v.values().cloned().collect())
            .unwrap_or_default();
        assert_eq!(aliases, want, "aliases of {}", f.name);
    }
    // Paging in name order after a marker.
    if let Some(first) = model.functions.keys().next() {
        let rest = records.functions(Some(first), 10_000).expect("page");
        assert_eq!(rest.len(), model.functions.len() - 1);
        assert!(rest.iter().all(|f| f.name.as_str() > first.as_str()));
    }
}

#[test]
fn records_match_a_model_across_reopens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(7);
    let mut model = Model::default();
    // Names that prefix each other, to catch prefix scans that leak.
    let names = ["a", "ab", "abc", "b", "b-1", "b_1"];
    let (mut engine, mut records) = open(dir.path());
    for step in 0..400 {
        let name = names[rng.below(names.len() as u64) as usize].to_owned();
        let mut batch = records.store().batch();
        match rng.below(5) {
            0 | 1 => {
                let f = FunctionRecord {
                    name: name.clone(),
                    next_version: rng.below(100),
                    created_ms: step,
                    ..FunctionRecord::default()
                };
                records.put_function(&mut batch, &f).expect("put");
                model.functions.insert(name, f);
            }
            2 if model.functions.contains_key(&name) => {
                let v = VersionRecord {
                    version: rng.below(300) + 1,
                    ..VersionRecord::default()
                };
                records.put_version(&mut batch, &name, &v).expect("version");
                model.versions.entry(name).or_default().insert(v.version, v);
            }
            3 if model.functions.contains_key(&name) => {
                let a = AliasRecord {
                    name: format!("al{}", rng.below(5)),
                    function_version: rng.below(9).to_string(),
                    ..AliasRecord::default()
                };
                records.put_alias(&mut batch, &name, &a).expect("alias");
                model
                    .aliases
                    .entry(name)
                    .or_default()
                    .insert(a.name.clone(), a);
            }
            _ => {
                records.remove_all(&mut batch, &name).expect("remove");
                model.functions.remove(&name);
                model.versions.remove(&name);
                model.aliases.remove(&name);
            }
        }
        batch
            .commit()
            .expect("commit")
            .wait(&engine)
            .expect("durable");
        if step % 50 == 49 {
            drop(records);
            drop(engine);
            (engine, records) = open(dir.path());
        }
        if step % 10 == 0 {
            check(&records, &model);
        }
    }
    check(&records, &model);
}

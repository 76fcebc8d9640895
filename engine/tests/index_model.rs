//! Model-based test of index maintenance: random puts, updates and deletes
//! (some with index key attributes of the wrong type, which must be refused
//! and change nothing) against a `BTreeMap` model of the table. After every
//! step, every readable index must equal the index recomputed from the
//! model, read back through Scan (paged) and Query, and its live counters
//! must match. The engine is reopened from disk now and then, and a global
//! index is created online in the middle of the run while writes go on.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::Rng;
use tarn_engine::{
    BillingMode, CreateTable, Durability, Engine, Error, IndexKind, IndexProjection, IndexStatus,
    IndexUpdate, Invalid, KeyAttr, KeySchema, NewIndex, Options, PageOptions, ProjectionType,
    QueryRequest, ScanRequest, UpdateTable,
};
use tarn_expr::ast::{
    Name, Path, PathElement, SetOperand, SetValue, Update, UpdateAction, ValueRef,
};
use tarn_expr::{size, AttributeValue, Item, Number, ScalarType};

const TABLE: &str = "model";
const STEPS: usize = 400;
const SEEDS: [u64; 3] = [1, 7, 2026];
/// Page size for reading indexes back, small so that paging is exercised.
const PAGE_ITEMS: usize = 7;
const PAGES_MAX: usize = 1000;

fn attr(name: &str, ty: ScalarType) -> KeyAttr {
    KeyAttr {
        name: name.into(),
        ty,
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(Number::from_i64(v))
}

fn index(
    name: &str,
    kind: IndexKind,
    hash: Vec<KeyAttr>,
    range: Vec<KeyAttr>,
    projection: ProjectionType,
    non_key: &[&str],
) -> NewIndex {
    NewIndex {
        name: name.into(),
        kind,
        hash,
        range,
        projection: IndexProjection {
            kind: projection,
            non_key_attributes: non_key.iter().map(|a| a.to_string()).collect(),
        },
        throughput: None,
    }
}

fn indexes() -> Vec<NewIndex> {
    use ScalarType::{N, S};
    vec![
        index(
            "lsi_keys",
            IndexKind::Local,
            vec![attr("pk", S)],
            vec![attr("ls", S)],
            ProjectionType::KeysOnly,
            &[],
        ),
        index(
            "lsi_inc",
            IndexKind::Local,
            vec![attr("pk", S)],
            vec![attr("ln", N)],
            ProjectionType::Include,
            &["a"],
        ),
        index(
            "g_all",
            IndexKind::Global,
            vec![attr("g", S)],
            vec![attr("gn", N)],
            ProjectionType::All,
            &[],
        ),
        index(
            "g_hash",
            IndexKind::Global,
            vec![attr("gn", N)],
            vec![],
            ProjectionType::KeysOnly,
            &[],
        ),
        index(
            "g_multi",
            IndexKind::Global,
            vec![attr("g", S), attr("h", N)],
            vec![attr("ls", S), attr("gn", N)],
            ProjectionType::Include,
            &["b"],
        ),
    ]
}

/// The global index created online during the run.
fn late_index() -> NewIndex {
    index(
        "g_late",
        IndexKind::Global,
        vec![attr("ln", ScalarType::N)],
        vec![attr("ls", ScalarType::S)],
        ProjectionType::Include,
        &["a", "b"],
    )
}

fn table() -> CreateTable {
    let mut defs = vec![attr("pk", ScalarType::S), attr("sk", ScalarType::N)];
    for i in indexes() {
        for a in i.hash.iter().chain(&i.range) {
            if !defs.iter().any(|d| d.name == a.name) {
                defs.push(a.clone());
            }
        }
    }
    CreateTable {
        name: TABLE.into(),
        key_schema: KeySchema {
            hash: attr("pk", ScalarType::S),
            range: Some(attr("sk", ScalarType::N)),
        },
        attribute_definitions: defs,
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        indexes: indexes(),
        settings: Default::default(),
        stream: None,
    }
}

fn open(dir: &std::path::Path) -> Engine {
    Engine::open(Options {
        data_dir: Some(dir.to_path_buf()),
        durability: Durability::Buffered,
        // Slow enough that writes overlap the online backfill.
        backfill_pause_ms: 2,
        ..Options::default()
    })
    .expect("open")
}

type Key = (String, i64);

fn key_item(k: &Key) -> Item {
    Item::from([("pk".to_owned(), s(&k.0)), ("sk".to_owned(), n(k.1))])
}

/// A random value for attribute `name`: usually of its index key type,
/// sometimes of another type (which a write must refuse).
fn value_for(rng: &mut Rng, name: &str, wrong_type_percent: u64) -> AttributeValue {
    let numeric = matches!(name, "ln" | "gn" | "h");
    let wrong = rng.chance(wrong_type_percent);
    let as_number = numeric != wrong;
    if as_number {
        n(rng.below(4) as i64)
    } else {
        s(["x", "y", "z", "xy"][rng.below(4) as usize])
    }
}

const OPTIONAL: [&str; 7] = ["ls", "ln", "g", "gn", "h", "a", "b"];

fn random_item(rng: &mut Rng, k: &Key, wrong_type_percent: u64) -> Item {
    let mut item = key_item(k);
    for name in OPTIONAL {
        if rng.chance(60) {
            item.insert(name.to_owned(), value_for(rng, name, wrong_type_percent));
        }
    }
    if rng.chance(30) {
        item.insert("c".into(), s("unindexed"));
    }
    item
}

fn path(name: &str) -> Path {
    Path {
        elements: vec![PathElement::Attr(Name::Resolved(name.into()))],
    }
}

/// A random update and what it does to the model's item.
fn random_update(rng: &mut Rng, wrong_type_percent: u64) -> Update {
    let mut actions = Vec::new();
    let mut used = Vec::new();
    for _ in 0..=rng.below(3) {
        let name = OPTIONAL[rng.below(OPTIONAL.len() as u64) as usize];
        if used.contains(&name) {
            continue;
        }
        used.push(name);
        if rng.chance(30) {
            actions.push(UpdateAction::Remove(path(name)));
        } else {
            let v = value_for(rng, name, wrong_type_percent);
            actions.push(UpdateAction::Set(
                path(name),
                SetValue::Operand(SetOperand::Value(ValueRef::Resolved(v))),
            ));
        }
    }
    Update { actions }
}

fn apply(update: &Update, item: &mut Item) {
    for a in &update.actions {
        match a {
            UpdateAction::Set(p, SetValue::Operand(SetOperand::Value(ValueRef::Resolved(v)))) => {
                let PathElement::Attr(name) = &p.elements[0] else {
                    unreachable!("top-level paths only")
                };
                item.insert(name.as_str().to_owned(), v.clone());
            }
            UpdateAction::Remove(p) => {
                let PathElement::Attr(name) = &p.elements[0] else {
                    unreachable!("top-level paths only")
                };
                item.remove(name.as_str());
            }
            other => unreachable!("not generated: {other:?}"),
        }
    }
}

/// Whether every index key attribute present in `item` has its type, as
/// the engine must require of every write.
fn well_typed(item: &Item, all: &[NewIndex]) -> bool {
    all.iter().all(|i| {
        i.hash.iter().chain(&i.range).all(|a| {
            item.get(&a.name)
                .is_none_or(|v| v.scalar_type() == Some(a.ty))
        })
    })
}

/// The index recomputed from the model: one projected entry per item that
/// has every key attribute. Written independently of the engine's code.
fn expected_entries(model: &BTreeMap<Key, Item>, index: &NewIndex) -> Vec<Item> {
    let keys: Vec<&str> = index
        .hash
        .iter()
        .chain(&index.range)
        .map(|a| a.name.as_str())
        .collect();
    let mut out: Vec<Item> = model
        .values()
        .filter(|item| keys.iter().all(|k| item.contains_key(*k)))
        .map(|item| match index.projection.kind {
            ProjectionType::All => item.clone(),
            kind => item
                .iter()
                .filter(|(name, _)| {
                    matches!(name.as_str(), "pk" | "sk")
                        || keys.contains(&name.as_str())
                        || (kind == ProjectionType::Include
                            && index.projection.non_key_attributes.contains(name))
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
        .collect();
    sort(&mut out);
    out
}

fn sort(items: &mut [Item]) {
    items.sort_by_cached_key(|i| format!("{i:?}"));
}

/// Every entry of an index, read through paged Scans.
fn scan_index(e: &Engine, name: &str) -> Vec<Item> {
    let mut out = Vec::new();
    let mut start: Option<Item> = None;
    for _ in 0..PAGES_MAX {
        let page = e
            .scan(
                TABLE,
                &ScanRequest {
                    index: Some(name),
                    segment: 0,
                    total_segments: 1,
                    page: PageOptions {
                        limit: Some(PAGE_ITEMS),
                        exclusive_start_key: start.as_ref(),
                        ..PageOptions::default()
                    },
                },
            )
            .expect("scan index");
        out.extend(page.items);
        match page.last_evaluated_key {
            Some(k) => start = Some(k),
            None => {
                sort(&mut out);
                return out;
            }
        }
    }
    panic!("index {name} did not end within {PAGES_MAX} pages");
}

/// One index partition through Query, in index order.
fn query_index(e: &Engine, name: &str, partition: &[AttributeValue], forward: bool) -> Vec<Item> {
    let mut out = Vec::new();
    let mut start: Option<Item> = None;
    for _ in 0..PAGES_MAX {
        let page = e
            .query(
                TABLE,
                &QueryRequest {
                    index: Some(name),
                    partition,
                    sort_prefix: &[],
                    sort: None,
                    forward,
                    page: PageOptions {
                        limit: Some(PAGE_ITEMS),
                        exclusive_start_key: start.as_ref(),
                        ..PageOptions::default()
                    },
                },
            )
            .expect("query index");
        out.extend(page.items);
        match page.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return out,
        }
    }
    panic!("query of {name} did not end within {PAGES_MAX} pages");
}

/// The sort order of `g_all` entries within a partition: gn, then the
/// table key.
fn g_all_order(i: &Item) -> (String, String, String) {
    let num = |name: &str| match i.get(name) {
        Some(AttributeValue::N(x)) => format!("{:>20}", x.to_string()),
        other => panic!("{name} = {other:?}"),
    };
    let pk = match i.get("pk") {
        Some(AttributeValue::S(x)) => x.clone(),
        other => panic!("pk = {other:?}"),
    };
    (num("gn"), pk, num("sk"))
}

fn check_indexes(e: &Engine, model: &BTreeMap<Key, Item>, step: usize, counters: bool) {
    let info = e.describe_table(TABLE).expect("describe");
    let mut all = indexes();
    all.push(late_index());
    for index in &all {
        let Some(def) = info.def.indexes.iter().find(|d| d.name == index.name) else {
            continue;
        };
        if def.status != IndexStatus::Active {
            continue;
        }
        let expected = expected_entries(model, index);
        let actual = scan_index(e, &index.name);
        assert_eq!(
            actual, expected,
            "step {step}: index {} differs from the model",
            index.name
        );
        if counters {
            let c = info
                .indexes
                .iter()
                .find(|c| c.name == index.name)
                .expect("counters");
            let bytes: usize = expected.iter().map(size::item_size).sum();
            assert_eq!(
                (c.item_count, c.size_bytes),
                (expected.len() as u64, bytes as u64),
                "step {step}: counters of {}",
                index.name
            );
        }
    }
    // Query returns a partition in index order, both ways.
    for g in ["x", "y"] {
        let mut expected: Vec<Item> = model
            .values()
            .filter(|i| i.get("g") == Some(&s(g)) && i.contains_key("gn"))
            .cloned()
            .collect();
        expected.sort_by_key(g_all_order);
        assert_eq!(
            query_index(e, "g_all", &[s(g)], true),
            expected,
            "step {step}: g_all partition {g}"
        );
        expected.reverse();
        assert_eq!(
            query_index(e, "g_all", &[s(g)], false),
            expected,
            "step {step}: g_all partition {g} reversed"
        );
    }
}

/// Counters are recounted in the background after a reopen; wait for them
/// (bounded) before checking.
fn check_after_reopen(e: &Engine, model: &BTreeMap<Key, Item>, step: usize) {
    for _ in 0..200 {
        let info = e.describe_table(TABLE).expect("describe");
        if info.item_count == model.len() as u64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(50));
    check_indexes(e, model, step, true);
}

fn run(seed: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut e = open(dir.path());
    e.create_table(table()).expect("create");
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut model: BTreeMap<Key, Item> = BTreeMap::new();
    let mut all = indexes();
    all.push(late_index());
    for step in 0..STEPS {
        let k: Key = (format!("p{}", rng.below(3)), rng.below(8) as i64);
        match rng.below(10) {
            0..=4 => {
                let item = random_item(&mut rng, &k, 10);
                let result = e.put_item(TABLE, item.clone(), None);
                if well_typed(&item, &all) {
                    result.unwrap_or_else(|err| panic!("step {step}: put failed: {err}"));
                    model.insert(k.clone(), item);
                } else {
                    assert!(
                        matches!(result, Err(Error::Validation(Invalid::IndexKeyType { .. }))),
                        "step {step}: mistyped put gave {result:?}"
                    );
                }
            }
            5..=7 => {
                let update = random_update(&mut rng, 10);
                let mut new = model.get(&k).cloned().unwrap_or_else(|| key_item(&k));
                apply(&update, &mut new);
                let creates_nothing =
                    !model.contains_key(&k) && new == key_item(&k) && !update.actions.is_empty();
                let result = e.update_item(TABLE, &key_item(&k), Some(&update), None);
                if well_typed(&new, &all) {
                    result.unwrap_or_else(|err| panic!("step {step}: update failed: {err}"));
                    if !creates_nothing {
                        model.insert(k.clone(), new);
                    }
                } else {
                    assert!(
                        matches!(result, Err(Error::Validation(_))),
                        "step {step}: mistyped update gave {result:?}"
                    );
                }
            }
            _ => {
                e.delete_item(TABLE, &key_item(&k), None)
                    .unwrap_or_else(|err| panic!("step {step}: delete failed: {err}"));
                model.remove(&k);
            }
        }
        assert_eq!(
            e.get_item(TABLE, &key_item(&k), true)
                .map(|g| g.item)
                .expect("get"),
            model.get(&k).cloned(),
            "step {step}: item {k:?}"
        );
        if step == STEPS / 4 {
            e.update_table(
                TABLE,
                UpdateTable {
                    index_updates: vec![IndexUpdate::Create(late_index())],
                    ..UpdateTable::default()
                },
            )
            .expect("create index online");
        }
        if step % 97 == 96 {
            drop(e);
            e = open(dir.path());
            check_after_reopen(&e, &model, step);
        } else {
            check_indexes(&e, &model, step, true);
        }
    }
    // The online index must have finished and match.
    for _ in 0..500 {
        let info = e.describe_table(TABLE).expect("describe");
        let late = info.def.indexes.iter().find(|i| i.name == "g_late");
        if late.is_some_and(|i| i.status == IndexStatus::Active) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let info = e.describe_table(TABLE).expect("describe");
    assert!(
        info.def
            .indexes
            .iter()
            .any(|i| i.name == "g_late" && i.status == IndexStatus::Active),
        "g_late never became ACTIVE"
    );
    check_indexes(&e, &model, STEPS, true);
}

#[test]
fn indexes_equal_the_model_after_every_step() {
    let handles: Vec<_> = SEEDS
        .iter()
        .map(|&seed| std::thread::spawn(move || run(seed)))
        .collect();
    for h in handles {
        h.join().expect("model run");
    }
}

/// A global index created on a table of thousands of items while another
/// thread keeps writing: every write races some backfill batch, and the
/// finished index must still equal the one recomputed from the table.
#[test]
fn online_index_creation_races_with_writes() {
    const ITEMS: i64 = 3000;
    const WRITES_MAX: usize = 20_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let e = Engine::open(Options {
        data_dir: Some(dir.path().to_path_buf()),
        durability: Durability::Buffered,
        backfill_pause_ms: 5,
        ..Options::default()
    })
    .expect("open");
    e.create_table(table()).expect("create");
    let mut rng = Rng(42);
    let mut model: BTreeMap<Key, Item> = BTreeMap::new();
    for i in 0..ITEMS {
        let k: Key = (format!("p{}", i / 10), i % 10);
        let item = random_item(&mut rng, &k, 0);
        e.put_item(TABLE, item.clone(), None).expect("put");
        model.insert(k, item);
    }
    e.update_table(
        TABLE,
        UpdateTable {
            index_updates: vec![IndexUpdate::Create(late_index())],
            ..UpdateTable::default()
        },
    )
    .expect("create index online");
    let active = |e: &Engine| {
        e.describe_table(TABLE)
            .expect("describe")
            .def
            .indexes
            .iter()
            .any(|i| i.name == "g_late" && i.status == IndexStatus::Active)
    };
    let mut writes_during_backfill = 0;
    for _ in 0..WRITES_MAX {
        if active(&e) {
            break;
        }
        let i = rng.below(ITEMS as u64 + 200) as i64;
        let k: Key = (format!("p{}", i / 10), i % 10);
        if rng.chance(20) {
            e.delete_item(TABLE, &key_item(&k), None).expect("delete");
            model.remove(&k);
        } else {
            let item = random_item(&mut rng, &k, 0);
            e.put_item(TABLE, item.clone(), None).expect("put");
            model.insert(k, item);
        }
        writes_during_backfill += 1;
    }
    for _ in 0..1000 {
        if active(&e) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(active(&e), "g_late never became ACTIVE");
    assert!(
        writes_during_backfill > 100,
        "only {writes_during_backfill} writes overlapped the backfill"
    );
    check_indexes(&e, &model, 0, true);
}

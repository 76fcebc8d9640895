use std::path::Path;

use super::*;
use crate::catalog::{catalog_key, drop_key};
use crate::clock::now_ms;
use crate::guard::lock;
use crate::stream::state_key;
use tarn_expr::{size, AttributeValue, Number, ScalarType};

fn open(dir: &Path) -> Engine {
    Engine::open(Options {
        data_dir: Some(dir.to_path_buf()),
        durability: Durability::Sync,
        ..Options::default()
    })
    .expect("open")
}

fn music(name: &str) -> CreateTable {
    CreateTable {
        name: name.into(),
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
                name: "Artist".into(),
                ty: ScalarType::S,
            },
            KeyAttr {
                name: "Year".into(),
                ty: ScalarType::N,
            },
        ],
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        indexes: Vec::new(),
        settings: Default::default(),
        stream: None,
    }
}

fn song(artist: &str, year: i64, title: &str) -> Item {
    let mut item = Item::new();
    item.insert("Artist".into(), AttributeValue::S(artist.into()));
    item.insert("Year".into(), AttributeValue::N(Number::from_i64(year)));
    item.insert("Title".into(), AttributeValue::S(title.into()));
    item
}

fn key_of(item: &Item) -> Item {
    item.iter()
        .filter(|(k, _)| k.as_str() != "Title")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn items_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = song("Acme", 1999, "Road Runner");
    {
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        assert_eq!(e.put_item("Music", a.clone(), None).expect("put").old, None);
    }
    let e = open(dir.path());
    assert_eq!(
        e.get_item("Music", &key_of(&a), true)
            .map(|g| g.item)
            .expect("get"),
        Some(a.clone())
    );
    let old = e
        .delete_item("Music", &key_of(&a), None)
        .expect("delete")
        .old;
    assert_eq!(old, Some(a.clone()));
    assert_eq!(
        e.get_item("Music", &key_of(&a), true)
            .map(|g| g.item)
            .expect("get"),
        None
    );
}

#[test]
fn flushed_memtables_reach_disk_segments_and_reopen_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let songs: Vec<Item> = (0..200)
        .map(|i| song(&format!("Artist{}", i % 7), 1900 + i, "Title"))
        .collect();
    {
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        for item in &songs {
            e.put_item("Music", item.clone(), None).expect("put");
        }
        // Far below the memtable's size: everything is still in memory.
        assert_eq!(e.shared.items.table_count(), 0);
        let done = e
            .flush_memtables(std::time::Duration::from_secs(30))
            .expect("flush");
        assert!(done, "flush did not finish");
        assert!(e.shared.items.table_count() > 0);
        assert_eq!(e.shared.items.sealed_memtable_count(), 0);
    }
    let e = open(dir.path());
    for item in &songs {
        assert_eq!(
            e.get_item("Music", &key_of(item), true)
                .map(|g| g.item)
                .expect("get"),
            Some(item.clone())
        );
    }
}

#[test]
fn put_returns_the_replaced_item_and_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    e.create_table(music("Music")).expect("create");
    let a = song("Acme", 1999, "one");
    let b = song("Acme", 1999, "two");
    e.put_item("Music", a.clone(), None).expect("put");
    assert_eq!(e.put_item("Music", b, None).expect("put").old, Some(a));
    let info = e.describe_table("Music").expect("describe");
    assert_eq!(info.item_count, 1);
    assert_eq!(
        info.size_bytes,
        size::item_size(&song("Acme", 1999, "two")) as u64
    );
}

#[test]
fn deleted_table_ids_are_never_reused_and_data_is_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    let first = e.create_table(music("Music")).expect("create").def.id;
    for year in 0..2500 {
        e.put_item("Music", song("Acme", year, "x"), None)
            .expect("put");
    }
    e.delete_table("Music").expect("delete");
    // The name leaves at once: a second delete finds nothing, and the
    // name is free for a new table whose fresh id sees none of the old
    // items, while the old ones are still being dropped.
    assert!(matches!(
        e.delete_table("Music"),
        Err(Error::TableNotFound(_))
    ));
    assert!(matches!(
        e.describe_table("Music"),
        Err(Error::TableNotFound(_))
    ));
    assert!(matches!(
        e.get_item("Music", &key_of(&song("Acme", 1, "x")), true)
            .map(|g| g.item),
        Err(Error::TableNotFound(_))
    ));
    let recreated = e.create_table(music("Music")).expect("name free at once");
    assert!(recreated.def.id > first);
    assert_eq!(
        e.get_item("Music", &key_of(&song("Acme", 1, "x")), true)
            .map(|g| g.item)
            .expect("get"),
        None
    );
    let mut left = usize::MAX;
    for _ in 0..500 {
        left = e.shared.items.prefix(keys::table_prefix(first)).count();
        if left == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(left, 0, "old items dropped within 5 s");
}

/// A table name and a stream label name one stream, so a stream enabled
/// in the same millisecond as an earlier one of a table of that name
/// (disabled, or of a deleted table) still gets a later label.
#[test]
fn stream_labels_of_a_table_name_never_repeat() {
    use crate::changelog::StreamViewType;
    // In memory, so that several changes fall in one millisecond.
    let e = Engine::open(Options::default()).expect("open");
    let streamed = || CreateTable {
        stream: Some(StreamViewType::KeysOnly),
        ..music("Music")
    };
    e.create_table(streamed()).expect("create");
    let toggle = |view: Option<StreamViewType>| UpdateTable {
        stream: Some(view),
        ..Default::default()
    };
    for _ in 0..20 {
        e.update_table("Music", toggle(None)).expect("disable");
        e.update_table("Music", toggle(Some(StreamViewType::KeysOnly)))
            .expect("enable");
    }
    e.delete_table("Music").expect("delete");
    let mut recreated = false;
    for _ in 0..500 {
        match e.create_table(streamed()) {
            Ok(_) => {
                recreated = true;
                break;
            }
            Err(Error::TableExists(_)) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert!(recreated, "table name freed within 5 s");
    let streams = e.list_streams(Some("Music"));
    // The 21 streams of the deleted table are retired, not dropped.
    assert_eq!(streams.len(), 22);
    assert_eq!(streams.iter().filter(|s| s.def.enabled).count(), 1);
    let labels: Vec<u64> = streams.iter().map(|s| s.def.created_ms).collect();
    assert!(
        labels.windows(2).all(|w| w[0] < w[1]),
        "labels repeat: {labels:?}"
    );
}

/// A table's drop removes its streams' states before its record, and the
/// sweeper removes a retired stream's state once its retention has
/// passed: a table left `DELETING` by a stop in between still opens.
#[test]
fn a_deleting_table_that_lost_its_stream_states_still_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let e = open(dir.path());
        let info = e
            .create_table(CreateTable {
                stream: Some(crate::changelog::StreamViewType::KeysOnly),
                ..music("Music")
            })
            .expect("create");
        let mut def = info.def;
        def.status = TableStatus::Deleting;
        let s = &e.shared;
        s.catalog
            .insert(catalog_key("Music"), def.encode())
            .expect("mark");
        s.catalog
            .remove(state_key(def.streams[0].id))
            .expect("remove state");
    }
    let e = open(dir.path());
    assert!(e.list_streams(Some("Music")).is_empty());
}

#[test]
fn key_validation_uses_dynamodb_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    e.create_table(music("Music")).expect("create");
    let mut missing = song("Acme", 1, "x");
    missing.remove("Year");
    let err = e.put_item("Music", missing, None).unwrap_err().to_string();
    assert_eq!(
        err,
        "One or more parameter values were invalid: Missing the key Year in the item"
    );
    let mut wrong = song("Acme", 1, "x");
    wrong.insert("Year".into(), AttributeValue::S("1".into()));
    let err = e.put_item("Music", wrong, None).unwrap_err().to_string();
    assert_eq!(
        err,
        "One or more parameter values were invalid: Type mismatch for key Year expected: N actual: S"
    );
    let err = e
        .get_item("Music", &song("Acme", 1, "x"), true)
        .map(|g| g.item)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "The provided key element does not match the schema");
    let empty = song("", 1, "x");
    let err = e.put_item("Music", empty, None).unwrap_err().to_string();
    assert!(
        err.ends_with("cannot contain an empty string value. Key: Artist"),
        "{err}"
    );
    let big = song(&"x".repeat(2049), 1, "x");
    let err = e.put_item("Music", big, None).unwrap_err().to_string();
    assert!(err.contains("Size of hashkey has exceeded"), "{err}");
}

#[test]
fn concurrent_writers_share_syncs_and_all_land() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    e.create_table(music("Music")).expect("create");
    std::thread::scope(|scope| {
        for t in 0..8 {
            let e = e.clone();
            scope.spawn(move || {
                for i in 0..50 {
                    e.put_item("Music", song(&format!("w{t}"), i, "x"), None)
                        .expect("put");
                }
            });
        }
    });
    assert_eq!(e.describe_table("Music").expect("describe").item_count, 400);
    // 401 commits (the table and 400 items); without group commit every one
    // would sync on its own.
    let stats = e.commit_stats();
    assert_eq!(stats.commits, 401);
    assert!(stats.syncs < stats.commits, "no sync was shared: {stats:?}");
    drop(e);
    let e = open(dir.path());
    for t in 0..8 {
        for i in 0..50 {
            let k = key_of(&song(&format!("w{t}"), i, "x"));
            assert!(e
                .get_item("Music", &k, true)
                .map(|g| g.item)
                .expect("get")
                .is_some());
        }
    }
}

#[test]
fn list_tables_pages_in_name_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    for name in ["ccc", "aaa", "bbb", "ddd"] {
        e.create_table(music(name)).expect("create");
    }
    assert_eq!(
        e.list_tables(None, 2),
        (vec!["aaa".into(), "bbb".into()], Some("bbb".into()))
    );
    assert_eq!(
        e.list_tables(Some("bbb"), 2),
        (vec!["ccc".into(), "ddd".into()], None)
    );
    assert_eq!(e.list_tables(Some("ddd"), 2), (vec![], None));
}

#[test]
fn update_table_switches_billing_modes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    e.create_table(music("Music")).expect("create");
    let err = e
        .update_table(
            "Music",
            UpdateTable {
                billing_mode: Some(BillingMode::Provisioned),
                throughput: None,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)));
    let info = e
        .update_table(
            "Music",
            UpdateTable {
                billing_mode: Some(BillingMode::Provisioned),
                throughput: Some((5, 7)),
                ..Default::default()
            },
        )
        .expect("update");
    assert_eq!(info.def.billing_mode, BillingMode::Provisioned);
    assert_eq!(
        (
            info.def.throughput.read_units,
            info.def.throughput.write_units
        ),
        (5, 7)
    );
    let err = e.update_table(
        "Music",
        UpdateTable {
            billing_mode: None,
            throughput: Some((5, 7)),
            ..Default::default()
        },
    );
    assert!(err
        .unwrap_err()
        .to_string()
        .starts_with("The provisioned throughput for the table will not change"));
    drop(e);
    let e = open(dir.path());
    assert_eq!(
        e.describe_table("Music")
            .expect("describe")
            .def
            .throughput
            .write_units,
        7
    );
}

mod conditional {
    use super::*;
    use tarn_expr::ast::{
        Condition, Name, Path, PathElement, SetOperand, SetValue, Update, UpdateAction, ValueRef,
    };

    fn path(name: &str) -> Path {
        Path {
            elements: vec![PathElement::Attr(Name::Resolved(name.into()))],
        }
    }

    fn num(n: i64) -> AttributeValue {
        AttributeValue::N(Number::from_i64(n))
    }

    /// SET plays = if_not_exists(plays, 0) + 1
    fn increment() -> Update {
        Update {
            actions: vec![UpdateAction::Set(
                path("plays"),
                SetValue::Plus(
                    SetOperand::IfNotExists(
                        path("plays"),
                        Box::new(SetOperand::Value(ValueRef::Resolved(num(0)))),
                    ),
                    SetOperand::Value(ValueRef::Resolved(num(1))),
                ),
            )],
        }
    }

    #[test]
    fn concurrent_increments_are_not_lost() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        let key = key_of(&song("Acme", 1, "x"));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                let (e, key) = (e.clone(), key.clone());
                scope.spawn(move || {
                    for _ in 0..25 {
                        e.update_item("Music", &key, Some(&increment()), None)
                            .expect("update");
                    }
                });
            }
        });
        let item = e
            .get_item("Music", &key, true)
            .map(|g| g.item)
            .expect("get")
            .expect("created by the first update");
        assert_eq!(item.get("plays"), Some(&num(200)));
    }

    #[test]
    fn exactly_one_of_racing_creators_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        let only_if_new = Condition::AttributeNotExists(path("Artist"));
        let wins = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|scope| {
            for t in 0..8 {
                let (e, cond, wins) = (e.clone(), only_if_new.clone(), &wins);
                scope.spawn(move || {
                    match e.put_item("Music", song("Acme", 1, &format!("t{t}")), Some(&cond)) {
                        Ok(_) => {
                            wins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(Error::ConditionalCheckFailed(Some(_))) => {}
                        Err(other) => panic!("unexpected {other}"),
                    }
                });
            }
        });
        assert_eq!(wins.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn failed_conditions_change_nothing_and_return_the_old_item() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        let a = song("Acme", 1, "old");
        e.put_item("Music", a.clone(), None).expect("put");
        let never = Condition::AttributeNotExists(path("Title"));
        let err = e
            .put_item("Music", song("Acme", 1, "new"), Some(&never))
            .unwrap_err();
        assert!(
            matches!(&err, Error::ConditionalCheckFailed(Some(old)) if *old == a),
            "{err:?}"
        );
        let err = e
            .delete_item("Music", &key_of(&a), Some(&never))
            .unwrap_err();
        assert!(matches!(err, Error::ConditionalCheckFailed(_)));
        let err = e
            .update_item("Music", &key_of(&a), Some(&increment()), Some(&never))
            .unwrap_err();
        assert!(matches!(err, Error::ConditionalCheckFailed(_)));
        assert_eq!(
            e.get_item("Music", &key_of(&a), true)
                .map(|g| g.item)
                .expect("get"),
            Some(a)
        );
        // On a missing item the condition sees an empty item.
        let missing = key_of(&song("Nobody", 2, "x"));
        let err = e
            .delete_item(
                "Music",
                &missing,
                Some(&Condition::AttributeExists(path("Artist"))),
            )
            .unwrap_err();
        assert!(matches!(err, Error::ConditionalCheckFailed(None)));
    }

    #[test]
    fn updating_a_key_attribute_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        let update = Update {
            actions: vec![UpdateAction::Remove(path("Year"))],
        };
        let err = e
            .update_item("Music", &key_of(&song("Acme", 1, "x")), Some(&update), None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "One or more parameter values were invalid: Cannot update attribute Year. This attribute is part of the key"
        );
        assert_eq!(e.describe_table("Music").expect("describe").item_count, 0);
    }

    #[test]
    fn update_without_actions_creates_the_key_only_item() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        let key = key_of(&song("Acme", 1, "x"));
        let w = e.update_item("Music", &key, None, None).expect("update");
        let (old, new) = (w.old, w.new);
        assert_eq!((old, new), (None, Some(key.clone())));
        assert_eq!(
            e.get_item("Music", &key, true)
                .map(|g| g.item)
                .expect("get"),
            Some(key)
        );
    }

    #[test]
    fn remove_only_update_of_a_missing_item_creates_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        let key = key_of(&song("Acme", 1, "x"));
        let update = Update {
            actions: vec![UpdateAction::Remove(path("plays"))],
        };
        let w = e
            .update_item("Music", &key, Some(&update), None)
            .expect("update");
        let (old, new) = (w.old, w.new);
        assert_eq!((old, new), (None, None));
        assert_eq!(
            e.get_item("Music", &key, true)
                .map(|g| g.item)
                .expect("get"),
            None
        );
    }
}

mod reads {
    use super::*;

    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(Number::from_i64(v))
    }

    /// Three partitions of 40 songs each, years 0..40.
    fn filled() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        for artist in ["a", "b", "c"] {
            for year in 0..40 {
                e.put_item(
                    "Music",
                    song(artist, year, &format!("{artist}{year}")),
                    None,
                )
                .expect("put");
            }
        }
        (dir, e)
    }

    fn years(items: &[Item]) -> Vec<i64> {
        items
            .iter()
            .map(|i| match &i["Year"] {
                AttributeValue::N(n) => n.to_string().parse().expect("int"),
                other => panic!("year {other:?}"),
            })
            .collect()
    }

    /// Reads every page of a query and returns all the items.
    fn query_all(
        e: &Engine,
        cond: Option<&SortCondition>,
        forward: bool,
        limit: Option<usize>,
    ) -> Vec<Item> {
        let pk = AttributeValue::S("b".into());
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..1000 {
            let q = QueryRequest {
                index: None,
                partition: std::slice::from_ref(&pk),
                sort_prefix: &[],
                sort: cond,
                forward,
                page: PageOptions {
                    limit,
                    exclusive_start_key: start.as_ref(),
                    filter: None,
                    fetch_items: false,
                    consistent: false,
                },
            };
            let page = e.query("Music", &q).expect("query");
            out.extend(page.items);
            match page.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return out,
            }
        }
        panic!("query did not finish in 1000 pages")
    }

    #[test]
    fn sort_conditions_select_exactly_the_matching_items() {
        let (_dir, e) = filled();
        let all: Vec<i64> = (0..40).collect();
        type Case = (SortCondition, fn(i64) -> bool);
        let cases: Vec<Case> = vec![
            (SortCondition::Eq(n(7)), |y| y == 7),
            (SortCondition::Lt(n(7)), |y| y < 7),
            (SortCondition::Le(n(7)), |y| y <= 7),
            (SortCondition::Gt(n(30)), |y| y > 30),
            (SortCondition::Ge(n(30)), |y| y >= 30),
            (SortCondition::Between(n(5), n(9)), |y| (5..=9).contains(&y)),
            (SortCondition::Between(n(9), n(5)), |_| false),
            (SortCondition::Lt(n(-1)), |_| false),
        ];
        for (cond, want) in &cases {
            let expected: Vec<i64> = all.iter().copied().filter(|y| want(*y)).collect();
            for limit in [None, Some(1), Some(3), Some(40)] {
                assert_eq!(
                    years(&query_all(&e, Some(cond), true, limit)),
                    expected,
                    "{cond:?} {limit:?}"
                );
                let mut reversed = expected.clone();
                reversed.reverse();
                assert_eq!(
                    years(&query_all(&e, Some(cond), false, limit)),
                    reversed,
                    "{cond:?} rev {limit:?}"
                );
            }
        }
        // No sort condition: the whole partition, and nothing of the others.
        let items = query_all(&e, None, true, Some(7));
        assert_eq!(years(&items), all);
        assert!(items
            .iter()
            .all(|i| i["Artist"] == AttributeValue::S("b".into())));
    }

    #[test]
    fn a_limit_reached_names_the_last_item_read_even_at_the_end() {
        let (_dir, e) = filled();
        let pk = AttributeValue::S("a".into());
        let q = QueryRequest {
            index: None,
            partition: std::slice::from_ref(&pk),
            sort_prefix: &[],
            sort: Some(&SortCondition::Ge(n(38))),
            forward: true,
            page: PageOptions {
                limit: Some(2),
                ..Default::default()
            },
        };
        let page = e.query("Music", &q).expect("query");
        assert_eq!(years(&page.items), vec![38, 39]);
        let lek = page.last_evaluated_key.expect("limit reached");
        assert_eq!(lek, key_of(&song("a", 39, "")));
        let q = QueryRequest {
            page: PageOptions {
                limit: Some(2),
                exclusive_start_key: Some(&lek),
                filter: None,
                fetch_items: false,
                consistent: false,
            },
            ..q
        };
        // An empty page still costs the minimum read, eventually consistent.
        assert_eq!(
            e.query("Music", &q).expect("query"),
            Page {
                consumed: Units::table(0.5),
                ..Page::default()
            }
        );
    }

    #[test]
    fn filters_apply_after_the_limit_counts() {
        let (_dir, e) = filled();
        let pk = AttributeValue::S("c".into());
        use tarn_expr::ast::{Comparator, Name, Operand, Path, PathElement, ValueRef};
        let title_is = Condition::Compare {
            left: Operand::Path(Path {
                elements: vec![PathElement::Attr(Name::Resolved("Title".into()))],
            }),
            op: Comparator::Eq,
            right: Operand::Value(ValueRef::Resolved(AttributeValue::S("c15".into()))),
        };
        let q = QueryRequest {
            index: None,
            partition: std::slice::from_ref(&pk),
            sort_prefix: &[],
            sort: None,
            forward: true,
            page: PageOptions {
                limit: Some(10),
                exclusive_start_key: None,
                filter: Some(&title_is),
                fetch_items: false,
                consistent: false,
            },
        };
        let page = e.query("Music", &q).expect("query");
        assert_eq!((page.items.len(), page.scanned_count), (0, 10));
        assert!(page.last_evaluated_key.is_some());
    }

    #[test]
    fn parallel_scan_segments_are_disjoint_and_complete() {
        let (_dir, e) = filled();
        for total in [1u32, 2, 4, 7] {
            let mut seen = Vec::new();
            for segment in 0..total {
                let mut start: Option<Item> = None;
                for _ in 0..1000 {
                    let s = ScanRequest {
                        index: None,
                        segment,
                        total_segments: total,
                        page: PageOptions {
                            limit: Some(9),
                            exclusive_start_key: start.as_ref(),
                            filter: None,
                            fetch_items: false,
                            consistent: false,
                        },
                    };
                    let page = e.scan("Music", &s).expect("scan");
                    seen.extend(
                        page.items
                            .iter()
                            .map(|i| (i["Artist"].clone(), years(std::slice::from_ref(i))[0])),
                    );
                    match page.last_evaluated_key {
                        Some(k) => start = Some(k),
                        None => break,
                    }
                }
            }
            let count = seen.len();
            seen.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            seen.dedup();
            assert_eq!((count, seen.len()), (120, 120), "{total} segments");
        }
    }

    #[test]
    fn pages_stop_once_a_megabyte_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        for year in 0..30 {
            e.put_item("Music", song("big", year, &"x".repeat(100_000)), None)
                .expect("put");
        }
        let pk = AttributeValue::S("big".into());
        let q = QueryRequest {
            index: None,
            partition: std::slice::from_ref(&pk),
            sort_prefix: &[],
            sort: None,
            forward: true,
            page: PageOptions::default(),
        };
        let page = e.query("Music", &q).expect("query");
        // Items of about 100 KB: the page ends with the item that reaches
        // 1 MB.
        assert_eq!(page.items.len(), 11);
        assert!(page.read_bytes >= PAGE_BYTES_MAX);
        assert!(page.read_bytes - 100_100 < PAGE_BYTES_MAX);
        assert!(page.last_evaluated_key.is_some());
    }

    #[test]
    fn key_types_must_match_the_schema() {
        let (_dir, e) = filled();
        let wrong = AttributeValue::N(Number::from_i64(1));
        let q = QueryRequest {
            index: None,
            partition: std::slice::from_ref(&wrong),
            sort_prefix: &[],
            sort: None,
            forward: true,
            page: PageOptions::default(),
        };
        let err = e.query("Music", &q).unwrap_err().to_string();
        assert_eq!(err, "One or more parameter values were invalid: Condition parameter type does not match schema type");
        let pk = AttributeValue::S("a".into());
        let bad_start = key_of(&song("a", 1, ""));
        let mut bad_start = bad_start;
        bad_start.insert("Extra".into(), n(1));
        let q = QueryRequest {
            index: None,
            partition: std::slice::from_ref(&pk),
            sort_prefix: &[],
            sort: None,
            forward: true,
            page: PageOptions {
                exclusive_start_key: Some(&bad_start),
                ..Default::default()
            },
        };
        let err = e.query("Music", &q).unwrap_err().to_string();
        assert_eq!(err, "The provided starting key is invalid");
        let other_partition = key_of(&song("b", 1, ""));
        let q = QueryRequest {
            index: None,
            partition: std::slice::from_ref(&pk),
            sort_prefix: &[],
            sort: None,
            forward: true,
            page: PageOptions {
                exclusive_start_key: Some(&other_partition),
                ..Default::default()
            },
        };
        let err = e.query("Music", &q).unwrap_err().to_string();
        assert_eq!(
            err,
            "The provided starting key is outside query boundaries based on provided conditions"
        );
        let mut mistyped = other_partition.clone();
        mistyped.insert("Year".into(), AttributeValue::S("1".into()));
        let q = QueryRequest {
            page: PageOptions {
                exclusive_start_key: Some(&mistyped),
                ..Default::default()
            },
            ..q
        };
        let err = e.query("Music", &q).unwrap_err().to_string();
        assert_eq!(err, "The provided key element does not match the schema");
    }
}

#[test]
fn batch_writes_validate_everything_first_and_commit_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    e.create_table(music("Music")).expect("create");
    e.create_table(music("Other")).expect("create");
    e.put_item("Music", song("Old", 1, "x"), None).expect("put");
    let put = |table: &str, year| BatchWrite::Put {
        table: table.into(),
        item: song("Acme", year, "t"),
    };
    // A duplicate anywhere refuses the whole batch.
    let dup = vec![put("Music", 1), put("Other", 1), put("Music", 1)];
    assert_eq!(
        e.batch_write(&dup).unwrap_err().to_string(),
        "Provided list of item keys contains duplicates"
    );
    // So does a bad key, after valid requests.
    let mut bad = song("Acme", 9, "t");
    bad.remove("Year");
    let invalid = vec![
        put("Music", 2),
        BatchWrite::Put {
            table: "Music".into(),
            item: bad,
        },
    ];
    assert!(matches!(e.batch_write(&invalid), Err(Error::Validation(_))));
    assert_eq!(
        e.get_item("Music", &key_of(&song("Acme", 2, "")), true)
            .map(|g| g.item)
            .expect("get"),
        None
    );
    let before = e.commit_stats();
    let ok: Vec<BatchWrite> = (10..34)
        .map(|y| put(if y % 2 == 0 { "Music" } else { "Other" }, y))
        .chain(std::iter::once(BatchWrite::Delete {
            table: "Music".into(),
            key: key_of(&song("Old", 1, "")),
        }))
        .collect();
    assert_eq!(ok.len(), 25);
    e.batch_write(&ok).expect("batch");
    let after = e.commit_stats();
    // One journal append for the whole batch, and one sync.
    assert_eq!(after.commits - before.commits, 1);
    assert_eq!(after.syncs - before.syncs, 1, "{before:?} -> {after:?}");
    assert!(e
        .get_item("Other", &key_of(&song("Acme", 11, "")), true)
        .map(|g| g.item)
        .expect("get")
        .is_some());
    assert_eq!(
        e.get_item("Music", &key_of(&song("Old", 1, "")), true)
            .map(|g| g.item)
            .expect("get"),
        None
    );
}

mod backups {
    use super::*;

    fn open_paused(dir: &Path, pause_ms: u64) -> Engine {
        Engine::open(Options {
            data_dir: Some(dir.to_path_buf()),
            durability: Durability::Sync,
            backfill_pause_ms: pause_ms,
            ..Options::default()
        })
        .expect("open")
    }

    /// Every item of a table, read from the keyspace, in key order.
    fn contents(e: &Engine, table: &str) -> Vec<Item> {
        let id = e.table_def(table).expect("table").id;
        e.shared
            .items
            .prefix(keys::table_prefix(id))
            .map(|g| {
                let (_, v) = g.into_inner().expect("read");
                codec::decode_item(&v).expect("decode")
            })
            .collect()
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..1000 {
            if done() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("{what} within 10 s");
    }

    fn wait_active(e: &Engine, table: &str) {
        wait_for("restore finished", || {
            e.describe_table(table).expect("describe").def.status == TableStatus::Active
        });
    }

    fn target(name: &str) -> RestoreTarget {
        RestoreTarget {
            name: name.into(),
            ..RestoreTarget::default()
        }
    }

    #[test]
    fn a_backup_holds_the_table_as_it_was_while_writes_go_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Copy batches of 256 items with pauses: the writes below land
        // while the copy runs.
        let e = open_paused(dir.path(), 30);
        e.create_table(music("Music")).expect("create");
        for year in 0..700 {
            e.put_item("Music", song("Acme", year, "old"), None)
                .expect("put");
        }
        let before = contents(&e, "Music");
        let backup = e.create_backup("Music", "b1").expect("backup");
        assert_eq!(backup.status, BackupStatus::Creating);
        assert_eq!(backup.item_count, 700);
        e.put_item("Music", song("Acme", 699, "new"), None)
            .expect("overwrite the last item");
        e.delete_item("Music", &key_of(&song("Acme", 698, "")), None)
            .expect("delete");
        e.put_item("Music", song("Zed", 1, "inserted"), None)
            .expect("insert");
        assert_eq!(
            e.describe_backup(backup.id).expect("describe").status,
            BackupStatus::Creating,
            "the writes ran during the copy"
        );
        wait_for("backup available", || {
            e.describe_backup(backup.id).expect("describe").status == BackupStatus::Available
        });
        e.restore_from_backup(backup.id, target("Copy"))
            .expect("restore");
        wait_active(&e, "Copy");
        assert_eq!(contents(&e, "Copy"), before);
        let info = e.describe_table("Copy").expect("describe");
        assert_eq!(info.item_count, 700);
        assert_eq!(
            info.def.restore.as_ref().map(|r| r.in_progress),
            Some(false)
        );
    }

    #[test]
    fn deleting_a_table_finishes_its_backup_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open_paused(dir.path(), 30);
        e.create_table(music("Music")).expect("create");
        for year in 0..600 {
            e.put_item("Music", song("Acme", year, "x"), None)
                .expect("put");
        }
        let before = contents(&e, "Music");
        let backup = e.create_backup("Music", "last").expect("backup");
        e.delete_table("Music").expect("delete during the copy");
        wait_for("backup available", || {
            e.describe_backup(backup.id).expect("describe").status == BackupStatus::Available
        });
        e.restore_from_backup(backup.id, target("Music"))
            .expect("restore under the old name");
        wait_active(&e, "Music");
        assert_eq!(contents(&e, "Music"), before);
    }

    #[test]
    fn backups_and_restores_refuse_what_dynamodb_refuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        assert!(matches!(
            e.create_backup("Nope", "b"),
            Err(Error::BackupTableNotFound(_))
        ));
        let b = e.create_backup("Music", "b").expect("backup");
        wait_for("backup available", || {
            e.describe_backup(b.id).expect("describe").status == BackupStatus::Available
        });
        assert!(matches!(
            e.restore_from_backup(b.id, target("Music")),
            Err(Error::TableAlreadyExists(_))
        ));
        assert!(matches!(
            e.restore_to_point_in_time("Music", None, target("Other")),
            Err(Error::PitrUnavailable(_))
        ));
        e.delete_backup(b.id).expect("delete backup");
        assert!(matches!(
            e.describe_backup(b.id),
            Err(Error::BackupNotFound(_))
        ));
        assert!(matches!(
            e.delete_backup(b.id),
            Err(Error::BackupNotFound(_))
        ));
        assert!(e.list_backups().expect("list").is_empty());
    }

    #[test]
    fn restore_to_a_point_in_time_gives_exactly_the_earlier_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        e.create_table(music("Music")).expect("create");
        e.put_item("Music", song("Acme", 1, "before"), None)
            .expect("put before enabling");
        let window = e
            .update_continuous_backups("Music", true, None)
            .expect("enable")
            .expect("window");
        assert_eq!(window.period_days, 35);
        e.put_item("Music", song("Acme", 2, "kept"), None)
            .expect("put");
        e.put_item("Music", song("Acme", 1, "first change"), None)
            .expect("update");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let at = now_ms();
        let expected = contents(&e, "Music");
        std::thread::sleep(std::time::Duration::from_millis(5));
        e.put_item("Music", song("Acme", 1, "second change"), None)
            .expect("update again");
        e.put_item("Music", song("Acme", 1, "third change"), None)
            .expect("and again");
        e.delete_item("Music", &key_of(&song("Acme", 2, "")), None)
            .expect("delete");
        e.put_item("Music", song("Acme", 3, "later"), None)
            .expect("insert later");
        e.restore_to_point_in_time("Music", Some(at), target("Then"))
            .expect("restore");
        wait_active(&e, "Then");
        assert_eq!(contents(&e, "Then"), expected);
        assert_eq!(e.describe_table("Then").expect("describe").item_count, 2);
        assert!(
            lock(&e.shared.pitr_pins).is_empty(),
            "a finished restore keeps nothing from being trimmed"
        );
        // Latest: the table as it is.
        e.restore_to_point_in_time("Music", None, target("Now"))
            .expect("restore latest");
        wait_active(&e, "Now");
        assert_eq!(contents(&e, "Now"), contents(&e, "Music"));
        // Before the enablement is outside the window.
        assert!(matches!(
            e.restore_to_point_in_time("Music", Some(window.earliest_ms - 1), target("Never")),
            Err(Error::InvalidRestoreTime(_))
        ));
        // Disabling discards the log; the table no longer restores.
        e.update_continuous_backups("Music", false, None)
            .expect("disable");
        assert!(matches!(
            e.restore_to_point_in_time("Music", None, target("Never")),
            Err(Error::PitrUnavailable(_))
        ));
    }

    #[test]
    fn a_drop_resumes_after_a_reopen_and_the_name_stays_free() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = {
            let e = open(dir.path());
            let id = e.create_table(music("Music")).expect("create").def.id;
            e.put_item("Music", song("Acme", 1, "x"), None)
                .expect("put");
            // Leave a drop record as a crash before the drop would.
            let def = e.table_def("Music").expect("def");
            let mut marked = def.clone();
            marked.status = TableStatus::Deleting;
            let mut batch = e.shared.db.batch();
            batch.remove(&e.shared.catalog, catalog_key("Music"));
            batch.insert(&e.shared.catalog, drop_key(id), marked.encode());
            e.shared.commit.commit(batch).expect("commit");
            id
        };
        let e = open(dir.path());
        assert!(matches!(
            e.describe_table("Music"),
            Err(Error::TableNotFound(_))
        ));
        e.create_table(music("Music")).expect("name free");
        wait_for("old items dropped", || {
            e.shared.items.prefix(keys::table_prefix(first)).count() == 0
                && e.shared
                    .catalog
                    .get(drop_key(first))
                    .expect("get")
                    .is_none()
        });
    }
}

#[test]
fn a_second_open_names_the_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let _first = Engine::open(options.clone()).expect("first open");
    match Engine::open(options) {
        Err(Error::Locked { holder_pid }) => {
            if cfg!(target_os = "linux") {
                assert_eq!(holder_pid, Some(std::process::id()));
            }
        }
        Err(e) => panic!("expected Locked, got {e}"),
        Ok(_) => panic!("a second open of a held directory succeeded"),
    }
}

#[test]
fn store_counters_never_go_back_when_batches_commit_out_of_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    let store = e.store();
    let ks = store.keyspace("records").expect("keyspace");
    let mut first = store.batch();
    let a = first.allocate("ids").expect("allocate");
    let mut second = store.batch();
    let b = second.allocate("ids").expect("allocate");
    assert_eq!((a, b), (1, 2));
    second.insert(&ks, b"b", b"2").expect("insert");
    second.commit().expect("commit").wait(&e).expect("durable");
    // The batch that allocated first commits last: it must not write the
    // counter back to 2.
    first.insert(&ks, b"a", b"1").expect("insert");
    first.commit().expect("commit").wait(&e).expect("durable");
    // A batch dropped after allocating leaves a gap, never a repeat.
    let mut dropped = store.batch();
    assert_eq!(dropped.allocate("ids").expect("allocate"), 3);
    drop(dropped);
    drop((store, ks, e));
    let e = open(dir.path());
    let store = e.store();
    assert_eq!(store.next_id("ids").expect("next"), 3);
    assert_eq!(store.next_id("other").expect("next"), 1);
    assert_eq!(store.keyspace_names(), ["records"]);
    let ks = store.keyspace("records").expect("keyspace");
    assert_eq!(
        store.get(&ks, b"a").expect("get").map(|v| v.to_vec()),
        Some(b"1".to_vec())
    );
}

#[test]
fn the_store_refuses_bad_names_sizes_and_too_many_keyspaces() {
    use crate::store::{STORE_KEYSPACES_MAX, STORE_KEY_BYTES_MAX, STORE_VALUE_BYTES_MAX};
    let e = Engine::open(Options::default()).expect("open");
    let store = e.store();
    assert!(matches!(
        store.keyspace("Bad-Name"),
        Err(Error::Store(StoreError::Name(_)))
    ));
    let ks = store.keyspace("k").expect("keyspace");
    let mut batch = store.batch();
    assert!(matches!(
        batch.insert(&ks, b"", b"v"),
        Err(Error::Store(StoreError::KeySize { bytes: 0, .. }))
    ));
    assert!(matches!(
        batch.insert(&ks, &vec![1; STORE_KEY_BYTES_MAX + 1], b"v"),
        Err(Error::Store(StoreError::KeySize { .. }))
    ));
    assert!(matches!(
        batch.insert(&ks, b"k", &vec![0; STORE_VALUE_BYTES_MAX + 1]),
        Err(Error::Store(StoreError::ValueSize { .. }))
    ));
    assert!(matches!(
        batch.allocate("no way"),
        Err(Error::Store(StoreError::Name(_)))
    ));
    // A refused change leaves the batch as it was: empty.
    assert!(batch.is_empty());
    for i in 1..STORE_KEYSPACES_MAX {
        store.keyspace(&format!("k{i}")).expect("keyspace");
    }
    assert!(matches!(
        store.keyspace("one_more"),
        Err(Error::Store(StoreError::TooManyKeyspaces { .. }))
    ));
    // Existing ones still open.
    store.keyspace("k1").expect("existing keyspace");
}

/// The durable change feed: what consumers see, and when they wake.
mod feed {
    use super::*;
    use crate::changelog::StreamViewType;
    use std::future::Future;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Barrier;
    use std::task::{Context, Poll, Wake};
    use std::time::{Duration, Instant};

    /// A table with a stream, and its stream id.
    fn streamed(e: &Engine) -> u32 {
        let mut req = music("Music");
        req.stream = Some(StreamViewType::NewImage);
        let info = e.create_table(req).expect("create");
        info.def.streams[0].id
    }

    /// Polls `f` on this thread until it is ready or `timeout` passes.
    fn block_on_timeout<F: Future>(f: F, timeout: Duration) -> Option<F::Output> {
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Arc::new(Unpark(std::thread::current())).into();
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        let deadline = Instant::now() + timeout;
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return Some(v);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            std::thread::park_timeout(deadline - now);
        }
    }

    #[test]
    fn records_of_an_unsynced_batch_stay_invisible_until_its_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        let stream = streamed(&e);
        e.put_item("Music", song("Acme", 1, "first"), None)
            .expect("put");
        assert_eq!(e.durable_seq(stream), 1);
        assert_eq!(
            e.read_changes(stream, 0, 1, 10, 1 << 20)
                .expect("read")
                .len(),
            1
        );

        let held = e.shared.commit.hold_syncs();
        let commits = e.commit_stats().commits;
        let writer = {
            let e = e.clone();
            std::thread::spawn(move || e.put_item("Music", song("Acme", 2, "second"), None))
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while e.commit_stats().commits == commits {
            assert!(Instant::now() < deadline, "the write never committed");
            std::thread::sleep(Duration::from_millis(1));
        }
        // Committed: item reads see it. Not synced: the feed does not.
        assert!(e
            .get_item("Music", &key_of(&song("Acme", 2, "")), true)
            .map(|g| g.item)
            .expect("get")
            .is_some());
        assert_eq!(e.durable_seq(stream), 1);
        assert!(e
            .read_changes(stream, 0, 2, 10, 1 << 20)
            .expect("read")
            .is_empty());
        assert!(!e.wait_for_changes(stream, 1, Duration::from_millis(50)));
        assert!(!writer.is_finished(), "acknowledged before its sync");

        drop(held);
        writer.join().expect("writer").expect("put");
        assert_eq!(e.durable_seq(stream), 2);
        let records = e.read_changes(stream, 0, 2, 10, 1 << 20).expect("read");
        assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn a_waiter_wakes_within_milliseconds_of_a_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        let stream = streamed(&e);
        // A wait with nothing coming times out, within its bound.
        let t = Instant::now();
        assert!(!e.wait_for_changes(stream, 0, Duration::from_millis(20)));
        assert!(t.elapsed() < Duration::from_secs(2));
        for round in 0..5u64 {
            let blocking = {
                let e = e.clone();
                std::thread::spawn(move || {
                    let woke = e.wait_for_changes(stream, round, Duration::from_secs(10));
                    (woke, Instant::now())
                })
            };
            let pending = e.changes_after(stream, round);
            let asynchronous = std::thread::spawn(move || {
                block_on_timeout(pending, Duration::from_secs(10)).map(|()| Instant::now())
            });
            std::thread::sleep(Duration::from_millis(20));
            assert!(!blocking.is_finished() && !asynchronous.is_finished());
            e.put_item("Music", song("Acme", round as i64, "x"), None)
                .expect("put");
            let acked = Instant::now();
            let (woke, at) = blocking.join().expect("blocking waiter");
            assert!(woke, "round {round}: the blocking waiter timed out");
            let async_at = asynchronous
                .join()
                .expect("async waiter")
                .expect("the async waiter timed out");
            // Woken by the sync, which comes before the acknowledgement.
            for (what, at) in [("blocking", at), ("async", async_at)] {
                let late = at.saturating_duration_since(acked);
                assert!(
                    late < Duration::from_millis(250),
                    "round {round}: {what} waiter woke {late:?} after the write"
                );
            }
        }
    }

    #[test]
    fn no_wake_up_is_lost_under_concurrent_writers() {
        const WRITERS: usize = 4;
        const WAITERS: usize = 4;
        const EPISODES: u64 = 30;
        const WRITES_PER_EPISODE: u64 = 3;
        let dir = tempfile::tempdir().expect("tempdir");
        let e = open(dir.path());
        let stream = streamed(&e);
        let per_episode = WRITERS as u64 * WRITES_PER_EPISODE;
        // Writers and waiters meet at the start of every episode.
        let start = Arc::new(Barrier::new(WRITERS + WAITERS));
        let written = Arc::new(AtomicU64::new(0));
        let mut threads = Vec::new();
        for w in 0..WRITERS {
            let (e, start, written) = (e.clone(), Arc::clone(&start), Arc::clone(&written));
            threads.push(std::thread::spawn(move || {
                for episode in 0..EPISODES {
                    start.wait();
                    for i in 0..WRITES_PER_EPISODE {
                        let year = (episode * 1000 + i) as i64;
                        e.put_item("Music", song(&format!("w{w}"), year, "x"), None)
                            .expect("put");
                        written.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for waiter in 0..WAITERS {
            let (e, start) = (e.clone(), Arc::clone(&start));
            threads.push(std::thread::spawn(move || {
                for episode in 0..EPISODES {
                    start.wait();
                    // Every record of the episode is one sequence number.
                    let target = (episode + 1) * per_episode;
                    let deadline = Instant::now() + Duration::from_secs(10);
                    // Bounded: each turn waits, and the deadline ends it.
                    loop {
                        let seen = e.durable_seq(stream);
                        if seen >= target {
                            break;
                        }
                        let left = deadline.saturating_duration_since(Instant::now());
                        let woke = if waiter % 2 == 0 {
                            e.wait_for_changes(stream, seen, left)
                        } else {
                            block_on_timeout(e.changes_after(stream, seen), left).is_some()
                        };
                        assert!(
                            woke,
                            "waiter {waiter} missed a wake-up in episode {episode} at {seen}"
                        );
                    }
                }
            }));
        }
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(written.load(Ordering::Relaxed), EPISODES * per_episode);
        assert_eq!(e.durable_seq(stream), EPISODES * per_episode);
    }

    #[test]
    fn watermarks_restart_at_what_is_on_disk_and_follow_new_streams() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stream = {
            let e = open(dir.path());
            let stream = streamed(&e);
            for year in 0..3 {
                e.put_item("Music", song("Acme", year, "x"), None)
                    .expect("put");
            }
            stream
        };
        let e = open(dir.path());
        assert_eq!(e.durable_seq(stream), 3);
        assert_eq!(
            e.read_changes(stream, 0, 1, 10, 1 << 20)
                .expect("read")
                .len(),
            3
        );
        // A stream enabled later starts at nothing durable.
        e.update_table(
            "Music",
            UpdateTable {
                stream: Some(None),
                ..UpdateTable::default()
            },
        )
        .expect("disable");
        let info = e
            .update_table(
                "Music",
                UpdateTable {
                    stream: Some(Some(StreamViewType::KeysOnly)),
                    ..UpdateTable::default()
                },
            )
            .expect("enable");
        let second = info.def.enabled_stream().expect("enabled").id;
        assert_ne!(second, stream);
        assert_eq!(e.durable_seq(second), 0);
        e.put_item("Music", song("Acme", 9, "x"), None)
            .expect("put");
        assert_eq!(e.durable_seq(second), 1);
    }
}

/// Every data operation admits, charges and reports its own units: a
/// handler cannot forget either.
mod capacity {
    use super::*;

    /// A provisioned table with `units` read and write units and one
    /// second of burst, on an engine that enforces throughput.
    fn throttled(units: u64) -> Engine {
        let e = Engine::open(Options {
            enforce_throughput: true,
            burst_seconds: 1,
            ..Options::default()
        })
        .expect("open");
        let mut req = music("Music");
        req.billing_mode = BillingMode::Provisioned;
        req.throughput = Some((units, units));
        e.create_table(req).expect("create");
        e
    }

    #[test]
    fn operations_report_the_units_they_consume() {
        let e = Engine::open(Options::default()).expect("open");
        e.create_table(music("Music")).expect("create");
        let big = {
            let mut s = song("Acme", 1, "x");
            s.insert("Pad".into(), AttributeValue::S("p".repeat(5000)));
            s
        };
        let w = e.put_item("Music", big.clone(), None).expect("put");
        assert_eq!(w.consumed, Units::table(5.0));
        let got = e
            .get_item("Music", &key_of(&song("Acme", 1, "")), true)
            .expect("get");
        assert_eq!(got.consumed, Units::table(2.0));
        let got = e
            .get_item("Music", &key_of(&song("Acme", 1, "")), false)
            .expect("get");
        assert_eq!(got.consumed, Units::table(1.0));
        // Deleting nothing still costs one unit.
        let w = e
            .delete_item("Music", &key_of(&song("None", 1, "")), None)
            .expect("delete");
        assert_eq!(w.consumed, Units::table(1.0));
        let t = e
            .transact_write(
                &[TransactAction::ConditionCheck {
                    table: "Music".into(),
                    key: key_of(&song("Acme", 1, "")),
                    condition: tarn_expr::ast::Condition::AttributeExists(tarn_expr::ast::Path {
                        elements: vec![tarn_expr::ast::PathElement::Attr(
                            tarn_expr::ast::Name::Resolved("Artist".into()),
                        )],
                    }),
                }],
                None,
            )
            .expect("transact");
        // A ConditionCheck is billed as a transactional write of its item.
        assert_eq!(t.consumed, [("Music".to_owned(), Units::table(10.0))]);
        let got = e
            .transact_get(&[("Music".into(), key_of(&song("Acme", 1, "")))])
            .expect("transact get");
        assert_eq!(got.consumed, [("Music".to_owned(), Units::table(4.0))]);
        let b = e
            .batch_write(&[BatchWrite::Put {
                table: "Music".into(),
                item: song("Acme", 2, "y"),
            }])
            .expect("batch");
        assert_eq!(b.consumed, [("Music".to_owned(), Units::table(1.0))]);
        let got = e
            .batch_get(
                &[BatchGet {
                    table: "Music".into(),
                    keys: vec![key_of(&song("Acme", 1, "")), key_of(&song("Acme", 2, ""))],
                    consistent: false,
                }],
                1 << 24,
            )
            .expect("batch get");
        assert_eq!(got[0].consumed, Units::table(1.5));
        assert_eq!(got[0].found.len(), 2);
    }

    #[test]
    fn an_exhausted_table_is_refused_by_every_operation_until_it_refills() {
        let e = throttled(1);
        // Full buckets hold one second: a 5-unit write passes and overdraws.
        let mut big = song("Acme", 1, "x");
        big.insert("Pad".into(), AttributeValue::S("p".repeat(5000)));
        e.put_item("Music", big.clone(), None).expect("put");
        let refused = |r: Result<Written>| matches!(r, Err(Error::Throttled(Throttled::Table)));
        assert!(refused(e.put_item("Music", song("Acme", 2, "y"), None)));
        assert!(refused(e.update_item(
            "Music",
            &key_of(&song("Acme", 1, "")),
            None,
            None
        )));
        assert!(refused(e.delete_item(
            "Music",
            &key_of(&song("Acme", 1, "")),
            None
        )));
        assert!(matches!(
            e.batch_write(&[BatchWrite::Delete {
                table: "Music".into(),
                key: key_of(&song("Acme", 1, "")),
            }]),
            Err(Error::Throttled(Throttled::Table))
        ));
        let canceled = e.transact_write(
            &[TransactAction::Delete {
                table: "Music".into(),
                key: key_of(&song("Acme", 1, "")),
                condition: None,
            }],
            None,
        );
        assert!(
            matches!(&canceled, Err(Error::TransactionCanceled(r)) if r == &[CancelReason::Throttled(Throttled::Table)]),
            "{canceled:?}"
        );
        // Reads have their own bucket: two consistent reads of 5 KB use it up.
        e.get_item("Music", &key_of(&song("Acme", 1, "")), true)
            .expect("get");
        assert!(matches!(
            e.get_item("Music", &key_of(&song("Acme", 1, "")), true),
            Err(Error::Throttled(Throttled::Table))
        ));
        // A missing table is admitted: the operation reports it.
        assert!(matches!(
            e.get_item("Nope", &key_of(&song("Acme", 1, "")), true),
            Err(Error::TableNotFound(_))
        ));
    }
}

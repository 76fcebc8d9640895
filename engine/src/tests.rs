use super::*;
use tarn_expr::{Number, ScalarType};

fn open(dir: &Path) -> Engine {
    Engine::open(Options {
        data_dir: Some(dir.to_path_buf()),
        durability: Durability::Sync,
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
        assert_eq!(e.put_item("Music", a.clone()).expect("put"), None);
    }
    let e = open(dir.path());
    assert_eq!(
        e.get_item("Music", &key_of(&a)).expect("get"),
        Some(a.clone())
    );
    let old = e.delete_item("Music", &key_of(&a)).expect("delete");
    assert_eq!(old, Some(a.clone()));
    assert_eq!(e.get_item("Music", &key_of(&a)).expect("get"), None);
}

#[test]
fn put_returns_the_replaced_item_and_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    e.create_table(music("Music")).expect("create");
    let a = song("Acme", 1999, "one");
    let b = song("Acme", 1999, "two");
    e.put_item("Music", a.clone()).expect("put");
    assert_eq!(e.put_item("Music", b).expect("put"), Some(a));
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
        e.put_item("Music", song("Acme", year, "x")).expect("put");
    }
    e.delete_table("Music").expect("delete");
    assert!(matches!(
        e.delete_table("Music"),
        Err(Error::TableBeingDeleted(_))
    ));
    assert!(matches!(
        e.get_item("Music", &key_of(&song("Acme", 1, "x"))),
        Err(Error::TableNotFound(_))
    ));
    // The name is freed once the background drop finishes.
    let mut recreated = None;
    for _ in 0..500 {
        match e.create_table(music("Music")) {
            Ok(info) => {
                recreated = Some(info);
                break;
            }
            Err(Error::TableExists(_)) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    let recreated = recreated.expect("table name freed within 5 s");
    assert!(recreated.def.id > first);
    assert_eq!(
        e.get_item("Music", &key_of(&song("Acme", 1, "x")))
            .expect("get"),
        None
    );
    let left = e.shared.items.prefix(keys::table_prefix(first)).count();
    assert_eq!(left, 0);
}

#[test]
fn key_validation_uses_dynamodb_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = open(dir.path());
    e.create_table(music("Music")).expect("create");
    let mut missing = song("Acme", 1, "x");
    missing.remove("Year");
    let err = e.put_item("Music", missing).unwrap_err().to_string();
    assert_eq!(
        err,
        "One or more parameter values were invalid: Missing the key Year in the item"
    );
    let mut wrong = song("Acme", 1, "x");
    wrong.insert("Year".into(), AttributeValue::S("1".into()));
    let err = e.put_item("Music", wrong).unwrap_err().to_string();
    assert_eq!(
        err,
        "One or more parameter values were invalid: Type mismatch for key Year expected: N actual: S"
    );
    let err = e
        .get_item("Music", &song("Acme", 1, "x"))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "The provided key element does not match the schema");
    let empty = song("", 1, "x");
    let err = e.put_item("Music", empty).unwrap_err().to_string();
    assert!(
        err.ends_with("cannot contain an empty string value. Key: Artist"),
        "{err}"
    );
    let big = song(&"x".repeat(2049), 1, "x");
    let err = e.put_item("Music", big).unwrap_err().to_string();
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
                    e.put_item("Music", song(&format!("w{t}"), i, "x"))
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
            assert!(e.get_item("Music", &k).expect("get").is_some());
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

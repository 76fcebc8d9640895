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
        assert_eq!(e.put_item("Music", a.clone(), None).expect("put"), None);
    }
    let e = open(dir.path());
    assert_eq!(
        e.get_item("Music", &key_of(&a)).expect("get"),
        Some(a.clone())
    );
    let old = e.delete_item("Music", &key_of(&a), None).expect("delete");
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
    e.put_item("Music", a.clone(), None).expect("put");
    assert_eq!(e.put_item("Music", b, None).expect("put"), Some(a));
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
        .get_item("Music", &song("Acme", 1, "x"))
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
            .get_item("Music", &key)
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
        assert_eq!(e.get_item("Music", &key_of(&a)).expect("get"), Some(a));
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
        let (old, new) = e.update_item("Music", &key, None, None).expect("update");
        assert_eq!((old, new), (None, Some(key.clone())));
        assert_eq!(e.get_item("Music", &key).expect("get"), Some(key));
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
        let (old, new) = e
            .update_item("Music", &key, Some(&update), None)
            .expect("update");
        assert_eq!((old, new), (None, None));
        assert_eq!(e.get_item("Music", &key).expect("get"), None);
    }
}

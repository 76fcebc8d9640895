//! Engine put and get paths.
//!
//! `cargo bench -p tarn-bench --bench engine`. The `sync` cases fsync the
//! journal, so they measure the disk as much as Tarn; `put_sync_x16` shows
//! group commit: 16 writers share each fsync.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tarn_bench::{item, key, table};
use tarn_engine::{Durability, Engine, Options};

fn open(durability: Durability) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(Options {
        data_dir: Some(dir.path().to_path_buf()),
        durability,
        ..Options::default()
    })
    .expect("open");
    engine.create_table(table("bench")).expect("create");
    (engine, dir)
}

fn puts(c: &mut Criterion) {
    let mut g = c.benchmark_group("put");
    g.throughput(Throughput::Elements(1));
    for (name, durability) in [
        ("memory", Durability::Memory),
        ("buffered", Durability::Buffered),
        ("sync", Durability::Sync),
    ] {
        let (engine, _dir) = open(durability);
        let mut i = 0u64;
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    i += 1;
                    item(i)
                },
                |it| engine.put_item("bench", it, None).expect("put"),
                BatchSize::SmallInput,
            )
        });
    }
    // 16 concurrent writers; one iteration = 16 puts.
    let (engine, _dir) = open(Durability::Sync);
    let engine = Arc::new(engine);
    g.throughput(Throughput::Elements(16));
    g.bench_function("sync_x16", |b| {
        b.iter_custom(|iters| {
            let next = Arc::new(std::sync::atomic::AtomicU64::new(1_000_000));
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..16 {
                    let engine = engine.clone();
                    let next = next.clone();
                    s.spawn(move || {
                        for _ in 0..iters {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            engine.put_item("bench", item(i), None).expect("put");
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    g.finish();
}

fn gets(c: &mut Criterion) {
    const ITEMS: u64 = 100_000;
    let (engine, _dir) = open(Durability::Buffered);
    for i in 0..ITEMS {
        engine.put_item("bench", item(i), None).expect("put");
    }
    let mut g = c.benchmark_group("get");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("hit", |b| {
        b.iter_batched(
            || {
                i = (i + 7919) % ITEMS;
                key(i)
            },
            |k| {
                assert!(engine
                    .get_item("bench", &k, true)
                    .map(|g| g.item)
                    .expect("get")
                    .is_some())
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("miss", |b| {
        b.iter_batched(
            || {
                i += 1;
                key(ITEMS + i)
            },
            |k| {
                assert!(engine
                    .get_item("bench", &k, true)
                    .map(|g| g.item)
                    .expect("get")
                    .is_none())
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// A 10-item Query and a 100-item Scan page from a small and a large
/// table: equal times show a page reads only what it returns (iterators
/// stream from the LSM; nothing loads the partition or the table).
fn pages(c: &mut Criterion) {
    use tarn_engine::{PageOptions, QueryRequest, ScanRequest};
    use tarn_expr::AttributeValue;
    let mut g = c.benchmark_group("page");
    for items in [100u64, 20_000] {
        let (engine, _dir) = open(Durability::Memory);
        // One partition holding every item (`key(i)` puts 10 per partition,
        // so write them under one partition key here).
        for i in 0..items {
            let mut it = item(i);
            it.insert("pk".into(), AttributeValue::S("hot".into()));
            it.insert(
                "sk".into(),
                AttributeValue::N(tarn_expr::Number::from_i64(i as i64)),
            );
            engine.put_item("bench", it, None).expect("put");
        }
        let pk = AttributeValue::S("hot".into());
        g.throughput(Throughput::Elements(10));
        g.bench_function(format!("query_10_of_{items}"), |b| {
            b.iter(|| {
                let q = QueryRequest {
                    index: None,
                    partition: std::slice::from_ref(&pk),
                    sort_prefix: &[],
                    sort: None,
                    forward: true,
                    page: PageOptions {
                        limit: Some(10),
                        ..Default::default()
                    },
                };
                let page = engine.query("bench", &q).expect("query");
                assert_eq!(page.items.len(), 10);
                page
            })
        });
        g.throughput(Throughput::Elements(100));
        g.bench_function(format!("scan_100_of_{items}"), |b| {
            b.iter(|| {
                let s = ScanRequest {
                    index: None,
                    segment: 0,
                    total_segments: 1,
                    page: PageOptions {
                        limit: Some(100),
                        ..Default::default()
                    },
                };
                let page = engine.scan("bench", &s).expect("scan");
                assert_eq!(page.items.len(), 100);
                page
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = puts, gets, pages
}
criterion_main!(benches);

//! Transactions under concurrency: clients move amounts between 100
//! accounts with TransactWriteItems (conditions keep every balance
//! non-negative, and each transfer records a ledger entry in the same
//! transaction) while others read all 100 balances with TransactGetItems.
//! Every read must see the invariant total; at the end the total is exact
//! and the balances are what the ledger says.
//!
//! The second test kills the server with SIGKILL in the middle and
//! restarts it: every acknowledged transfer must be there, and no
//! transfer may be half-applied (balances agree with the ledger).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    Get, Put, ReturnValuesOnConditionCheckFailure, TransactGetItem, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use tarn_tests::{hash_table, n, s, Server};

const ACCOUNTS: usize = 100;
const INITIAL_BALANCE: i64 = 1000;
const TOTAL: i64 = ACCOUNTS as i64 * INITIAL_BALANCE;
const WRITERS: usize = 6;
const READERS: usize = 2;
const TRANSFERS_PER_WRITER: u64 = 150;
/// Readers stop after this many reads even if writers are slow.
const READS_PER_READER_MAX: u64 = 2000;

fn account(i: usize) -> String {
    format!("acct{i:03}")
}

async fn setup(client: &Client) {
    hash_table(client, "accounts").await;
    hash_table(client, "ledger").await;
    // Ten accounts per transaction: the setup itself is transactional.
    for chunk in (0..ACCOUNTS).collect::<Vec<_>>().chunks(10) {
        let mut req = client.transact_write_items();
        for &i in chunk {
            req = req.transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name("accounts")
                            .item("pk", s(&account(i)))
                            .item("balance", n(&INITIAL_BALANCE.to_string()))
                            .build()
                            .expect("put"),
                    )
                    .build(),
            );
        }
        req.send().await.expect("setup transaction");
    }
}

/// Tiny deterministic randomness per task.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn update(account: &str, expression: &str, amount: i64, guard: bool) -> TransactWriteItem {
    let mut u = Update::builder()
        .table_name("accounts")
        .key("pk", s(account))
        .update_expression(expression)
        .expression_attribute_values(":a", n(&amount.to_string()));
    if guard {
        u = u
            .condition_expression("balance >= :a")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    }
    TransactWriteItem::builder()
        .update(u.build().expect("update"))
        .build()
}

/// One transfer as a transaction: debit (if the balance allows), credit,
/// and the ledger entry. Returns whether it was applied.
async fn transfer(client: &Client, id: &str, from: &str, to: &str, amount: i64) -> bool {
    let ledger = Put::builder()
        .table_name("ledger")
        .item("pk", s(id))
        .item("from", s(from))
        .item("to", s(to))
        .item("amount", n(&amount.to_string()))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .expect("ledger put");
    let result = client
        .transact_write_items()
        .transact_items(update(from, "SET balance = balance - :a", amount, true))
        .transact_items(update(to, "SET balance = balance + :a", amount, false))
        .transact_items(TransactWriteItem::builder().put(ledger).build())
        .client_request_token(id)
        .send()
        .await;
    match result {
        Ok(_) => true,
        Err(e) => {
            let service = e.into_service_error();
            assert!(
                service.is_transaction_canceled_exception(),
                "transfer {id} failed unexpectedly: {service:?}"
            );
            let reasons = match &service {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => c.cancellation_reasons().to_vec(),
                _ => unreachable!("checked above"),
            };
            let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("")).collect();
            assert_eq!(codes, ["ConditionalCheckFailed", "None", "None"], "{id}");
            // The item the condition saw comes back, and it really was short.
            let seen = reasons[0]
                .item()
                .and_then(|i| i.get("balance"))
                .and_then(|b| b.as_n().ok());
            let balance: i64 = seen.expect("old item").parse().expect("number");
            assert!(balance < amount, "{id}: {balance} >= {amount} yet refused");
            false
        }
    }
}

/// All 100 balances from one TransactGetItems.
async fn balances(client: &Client) -> Vec<i64> {
    let mut req = client.transact_get_items();
    for i in 0..ACCOUNTS {
        req = req.transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("accounts")
                        .key("pk", s(&account(i)))
                        .build()
                        .expect("get"),
                )
                .build(),
        );
    }
    let out = req.send().await.expect("transact get");
    out.responses()
        .iter()
        .map(|r| {
            let item = r.item().expect("every account exists");
            item["balance"]
                .as_n()
                .expect("number")
                .parse()
                .expect("integer")
        })
        .collect()
}

/// Every ledger entry, by id: (from, to, amount).
async fn ledger(client: &Client) -> HashMap<String, (String, String, i64)> {
    let mut out = HashMap::new();
    let mut pages = client
        .scan()
        .table_name("ledger")
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let item = item.expect("scan ledger");
        let text = |k: &str| item[k].as_s().expect("string").clone();
        let amount = item["amount"].as_n().expect("n").parse().expect("int");
        out.insert(text("pk"), (text("from"), text("to"), amount));
    }
    out
}

/// The balances must be exactly the initial ones moved by the ledger.
fn assert_balances_match_ledger(balances: &[i64], ledger: &HashMap<String, (String, String, i64)>) {
    let mut expected = vec![INITIAL_BALANCE; ACCOUNTS];
    let index = |a: &str| a["acct".len()..].parse::<usize>().expect("account number");
    for (from, to, amount) in ledger.values() {
        expected[index(from)] -= amount;
        expected[index(to)] += amount;
    }
    assert_eq!(
        balances,
        expected.as_slice(),
        "balances disagree with the ledger"
    );
    assert!(balances.iter().all(|b| *b >= 0), "a balance went negative");
    assert_eq!(balances.iter().sum::<i64>(), TOTAL);
}

struct Run {
    acknowledged: Mutex<Vec<String>>,
    applied: AtomicU64,
    refused: AtomicU64,
    reads: AtomicU64,
    stop: AtomicBool,
}

async fn writer(client: Client, run: Arc<Run>, w: usize) {
    let mut rng = Rng(0x9E37_79B9 + w as u64 * 7919);
    for i in 0..TRANSFERS_PER_WRITER {
        if run.stop.load(Ordering::Relaxed) {
            return;
        }
        let from = rng.below(ACCOUNTS as u64) as usize;
        let to = (from + 1 + rng.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
        // Large amounts now and then, so that conditions do fail.
        let amount = if rng.below(5) == 0 {
            600 + rng.below(900)
        } else {
            1 + rng.below(50)
        } as i64;
        let id = format!("t{w}-{i}");
        let Ok(applied) = tokio::time::timeout(
            Duration::from_secs(20),
            transfer(&client, &id, &account(from), &account(to), amount),
        )
        .await
        else {
            panic!("transfer {id} took over 20 s");
        };
        if applied {
            run.applied.fetch_add(1, Ordering::Relaxed);
            run.acknowledged.lock().expect("lock").push(id);
        } else {
            run.refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn reader(client: Client, run: Arc<Run>) {
    for _ in 0..READS_PER_READER_MAX {
        if run.stop.load(Ordering::Relaxed) {
            return;
        }
        let b = balances(&client).await;
        assert_eq!(
            b.iter().sum::<i64>(),
            TOTAL,
            "a read saw a partial transfer"
        );
        assert!(b.iter().all(|x| *x >= 0), "a read saw a negative balance");
        run.reads.fetch_add(1, Ordering::Relaxed);
    }
}

fn new_run() -> Arc<Run> {
    Arc::new(Run {
        acknowledged: Mutex::new(Vec::new()),
        applied: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        reads: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfers_keep_the_total_under_concurrent_reads() {
    let server = Server::start();
    let client = server.client();
    setup(&client).await;
    let run = new_run();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(server.client(), Arc::clone(&run), w)))
        .collect();
    let readers: Vec<_> = (0..READERS)
        .map(|_| tokio::spawn(reader(server.client(), Arc::clone(&run))))
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    run.stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.expect("reader");
    }
    let applied = run.applied.load(Ordering::Relaxed);
    let refused = run.refused.load(Ordering::Relaxed);
    assert_eq!(applied + refused, WRITERS as u64 * TRANSFERS_PER_WRITER);
    assert!(
        applied > 0 && refused > 0,
        "applied {applied}, refused {refused}"
    );
    assert!(run.reads.load(Ordering::Relaxed) > 10, "readers barely ran");
    let ledger = ledger(&client).await;
    assert_eq!(
        ledger.len() as u64,
        applied,
        "one ledger entry per transfer"
    );
    assert_balances_match_ledger(&balances(&client).await, &ledger);

    // A retried transfer (same token, same request) is not applied twice.
    let before = balances(&client).await;
    let (from, to) = (account(0), account(1));
    let first = transfer(&client, "retry-1", &from, &to, 1).await;
    let again = transfer(&client, "retry-1", &from, &to, 1).await;
    assert!(first && again, "both calls succeed");
    let after = balances(&client).await;
    assert_eq!((after[0], after[1]), (before[0] - 1, before[1] + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_mid_transfers_loses_no_acknowledged_transfer_and_halves_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    setup(&client).await;
    let run = new_run();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(server.client(), Arc::clone(&run), w)))
        .collect();
    // Kill once a good number of transfers were acknowledged (bounded wait).
    for _ in 0..2000 {
        if run.applied.load(Ordering::Relaxed) >= 150 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    run.stop.store(true, Ordering::Relaxed);
    // Writers in flight see connection errors; those transfers were never
    // acknowledged, so anything goes for them.
    for w in writers {
        let _ = w.await;
    }
    let acknowledged = run.acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 100,
        "only {} acknowledged",
        acknowledged.len()
    );

    let server = Server::start_in(dir.path(), &[]);
    let client = server.client();
    let ledger = ledger(&client).await;
    for id in &acknowledged {
        assert!(ledger.contains_key(id), "acknowledged transfer {id} lost");
    }
    assert_balances_match_ledger(&balances(&client).await, &ledger);
}

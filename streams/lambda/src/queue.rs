//! Asynchronous invocations: outbox entries for `lambda`, drained by one
//! runner task that invokes, retries per the event invoke config and
//! writes the result to the configured destination, each step one batch
//! (`docs/storage.md`, "Functions").
//!
//! An entry is removed in the batch that records what became of it (a
//! retry entry, a destination entry, or nothing), so a crash replays an
//! invocation at most once more (at-least-once, as Lambda's own queue).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tarn_core::outbox::{Entry, Pending, Target};
use tokio::task::JoinSet;

use crate::api::{check_payload, FunctionRef};
use crate::time::{iso_ms, now_ms};
use crate::{Error, Lambda};

/// The largest synchronous payload (6 MB).
pub const SYNC_PAYLOAD_BYTES_MAX: usize = 6 * 1024 * 1024;
/// The largest asynchronous payload (256 KB).
pub const ASYNC_PAYLOAD_BYTES_MAX: usize = 256 * 1024;
/// Entries read per turn.
const BATCH: usize = 256;
/// Invocations running at once from the queue.
const IN_FLIGHT_MAX: usize = 64;
/// Lambda's defaults: two retries, six hours.
const RETRIES_DEFAULT: u32 = 2;
const EVENT_AGE_DEFAULT_S: u32 = 21_600;
/// A throttled invocation waits this long before it is tried again
/// (without counting as an attempt).
const THROTTLE_DELAY_MS: u64 = 500;

const ATTR_REQUEST_ID: &str = "RequestId";
const ATTR_ATTEMPT: &str = "Attempt";
const ATTR_NOT_BEFORE: &str = "NotBefore";
const ATTR_FIRST_MS: &str = "FirstMs";

/// The outbox target and kind a destination ARN is written as, if Tarn
/// knows the service.
pub fn destination(arn: &str) -> Option<(Target, &'static str)> {
    let a = tarn_core::arn::Arn::parse(arn)?;
    if a.region.is_empty() || a.account.is_empty() || a.resource.is_empty() {
        return None;
    }
    match a.service {
        "sqs" => Some((Target::SQS, "send")),
        "sns" => Some((Target::SNS, "publish")),
        "lambda" if a.resource.starts_with("function:") => Some((Target::LAMBDA, "invoke")),
        _ => None,
    }
}

fn attr<'a>(e: &'a Entry, name: &str) -> Option<&'a str> {
    e.attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn attr_u64(e: &Entry, name: &str) -> u64 {
    attr(e, name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

impl Lambda {
    fn invoke_entry(
        &self,
        arn: String,
        payload: Vec<u8>,
        request_id: &str,
        attempt: u64,
        not_before_ms: u64,
        first_ms: u64,
    ) -> Entry {
        Entry {
            resource: arn,
            kind: "invoke".into(),
            payload,
            attributes: vec![
                (ATTR_REQUEST_ID.into(), request_id.to_owned()),
                (ATTR_ATTEMPT.into(), attempt.to_string()),
                (ATTR_NOT_BEFORE.into(), not_before_ms.to_string()),
                (ATTR_FIRST_MS.into(), first_ms.to_string()),
            ],
            created_ms: now_ms(),
        }
    }

    /// Invoke with `Event`: queues the event durably; returns its request
    /// id.
    pub async fn invoke_async(&self, r: &FunctionRef, payload: &[u8]) -> Result<String, Error> {
        self.view(r)?;
        let payload = check_payload(payload, ASYNC_PAYLOAD_BYTES_MAX)?;
        let request_id = self.uuid();
        let now = now_ms();
        let entry = self.invoke_entry(
            self.arn(&r.name, r.qualifier.as_deref()),
            payload,
            &request_id,
            0,
            0,
            now,
        );
        let mut batch = self.records.store().batch();
        let notice = self.outbox.put(&mut batch, Target::LAMBDA, &entry)?;
        self.commit(batch).await?;
        notice.send();
        Ok(request_id)
    }

    /// Starts the queue's drainer on the runner (it also drains what was
    /// queued before a restart). Returns false once Tarn is stopping.
    pub fn start(self: &Arc<Lambda>) -> bool {
        let this = Arc::clone(self);
        self.runner
            .spawn("lambda-async-invokes", move |mut stop| async move {
                let mut running: HashSet<u64> = HashSet::new();
                let mut tasks: JoinSet<u64> = JoinSet::new();
                loop {
                    if stop.is_stopped() {
                        break;
                    }
                    let listener = this.outbox.listen(Target::LAMBDA);
                    let pending = match this.outbox.pending(Target::LAMBDA, BATCH) {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::error!(error = %e, "cannot read queued invocations");
                            if !stop.sleep(Duration::from_secs(1)).await {
                                break;
                            }
                            continue;
                        }
                    };
                    let now = now_ms();
                    let mut next_due: Option<u64> = None;
                    for p in pending {
                        if running.contains(&p.seq) {
                            continue;
                        }
                        let due = attr_u64(&p.entry, ATTR_NOT_BEFORE);
                        if due > now {
                            next_due = Some(next_due.map_or(due, |d: u64| d.min(due)));
                            continue;
                        }
                        if running.len() >= IN_FLIGHT_MAX {
                            break;
                        }
                        running.insert(p.seq);
                        let worker = Arc::clone(&this);
                        tasks.spawn(async move {
                            let seq = p.seq;
                            if let Err(e) = worker.deliver(p).await {
                                tracing::warn!(error = %e, "asynchronous invoke failed to record");
                            }
                            seq
                        });
                    }
                    let wait_ms = next_due.map(|d| d.saturating_sub(now_ms()).max(1));
                    tokio::select! {
                        () = listener => {}
                        Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                            if let Ok(seq) = done {
                                running.remove(&seq);
                            } else {
                                // A panicked delivery: its entry stays and
                                // is tried again on the next pass.
                                running.clear();
                            }
                        }
                        () = tokio::time::sleep(Duration::from_millis(wait_ms.unwrap_or(3_600_000))), if wait_ms.is_some() => {}
                        () = stop.wait() => break,
                    }
                }
                tasks.abort_all();
            })
    }

    /// Runs one queued invocation and records what became of it.
    async fn deliver(&self, p: Pending) -> Result<(), Error> {
        let e = &p.entry;
        if e.kind != "invoke" {
            tracing::warn!(kind = %e.kind, "dropping a lambda outbox entry of an unknown kind");
            return self.finish(&p, None).await;
        }
        let Some((name, qualifier)) = self.arns.function_in(&e.resource) else {
            tracing::warn!(resource = %e.resource, "dropping an invoke of a function of another account or region");
            return self.finish(&p, None).await;
        };
        let r = FunctionRef {
            name: name.to_owned(),
            qualifier: qualifier.map(str::to_owned),
        };
        let view = match self.view(&r) {
            Ok(v) => v,
            Err(Error::NotFound(_)) => {
                tracing::warn!(function = %e.resource, "dropping an invoke of a function that is gone");
                return self.finish(&p, None).await;
            }
            Err(err) => return Err(err),
        };
        let request_id = attr(e, ATTR_REQUEST_ID).unwrap_or("").to_owned();
        let attempt = attr_u64(e, ATTR_ATTEMPT);
        let first_ms = attr_u64(e, ATTR_FIRST_MS).max(1);
        let qualifier = r.qualifier.clone().unwrap_or_else(|| "$LATEST".into());
        let config = self.records.invoke_config(&r.name, &qualifier)?;
        let retries = config
            .as_ref()
            .and_then(|c| c.maximum_retry_attempts)
            .unwrap_or(RETRIES_DEFAULT);
        let max_age_ms = u64::from(
            config
                .as_ref()
                .and_then(|c| c.maximum_event_age_s)
                .unwrap_or(EVENT_AGE_DEFAULT_S),
        ) * 1000;
        let executed_arn = self.arns.function_qualified(&r.name, &view.version);
        if now_ms().saturating_sub(first_ms) > max_age_ms {
            let record = record(
                &request_id,
                &executed_arn,
                "EventAgeExceeded",
                attempt,
                &e.payload,
                None,
            );
            let dest = config.as_ref().and_then(|c| c.on_failure.clone());
            return self.finish(&p, dest.map(|d| (d, record))).await;
        }
        let result = self
            .run(&r, &view, &e.resource, &request_id, e.payload.clone(), None)
            .await;
        let outcome = match result {
            Ok(o) => o,
            Err(_) => {
                // Throttled: wait and try again, not counting an attempt.
                let retry = self.invoke_entry(
                    e.resource.clone(),
                    e.payload.clone(),
                    &request_id,
                    attempt,
                    now_ms() + THROTTLE_DELAY_MS,
                    first_ms,
                );
                return self.requeue(&p, retry).await;
            }
        };
        let attempts = attempt + 1;
        match outcome.function_error {
            None => {
                let record = record(
                    &request_id,
                    &executed_arn,
                    "Success",
                    attempts,
                    &e.payload,
                    Some((&view.version, None, &outcome.payload)),
                );
                let dest = config.as_ref().and_then(|c| c.on_success.clone());
                self.finish(&p, dest.map(|d| (d, record))).await
            }
            Some(error) => {
                if attempts <= u64::from(retries) {
                    let delay = self
                        .settings
                        .retry_delay_ms
                        .saturating_mul(1 << (attempts - 1).min(8));
                    let retry = self.invoke_entry(
                        e.resource.clone(),
                        e.payload.clone(),
                        &request_id,
                        attempts,
                        now_ms() + delay,
                        first_ms,
                    );
                    return self.requeue(&p, retry).await;
                }
                let record = record(
                    &request_id,
                    &executed_arn,
                    "RetriesExhausted",
                    attempts,
                    &e.payload,
                    Some((&view.version, Some(error), &outcome.payload)),
                );
                let dest = config.as_ref().and_then(|c| c.on_failure.clone());
                self.finish(&p, dest.map(|d| (d, record))).await
            }
        }
    }

    async fn requeue(&self, p: &Pending, retry: Entry) -> Result<(), Error> {
        let mut batch = self.records.store().batch();
        self.outbox.done(&mut batch, p)?;
        let notice = self.outbox.put(&mut batch, Target::LAMBDA, &retry)?;
        self.commit(batch).await?;
        notice.send();
        Ok(())
    }

    /// Removes the entry and, in the same batch, writes the invocation
    /// record to its destination.
    async fn finish(
        &self,
        p: &Pending,
        destination_record: Option<(String, Vec<u8>)>,
    ) -> Result<(), Error> {
        let mut batch = self.records.store().batch();
        self.outbox.done(&mut batch, p)?;
        let mut notice = None;
        if let Some((arn, record)) = destination_record {
            match destination(&arn) {
                Some((target, kind)) => {
                    let entry = if target == Target::LAMBDA {
                        let now = now_ms();
                        self.invoke_entry(arn, record, &self.uuid(), 0, 0, now)
                    } else {
                        Entry {
                            resource: arn,
                            kind: kind.into(),
                            payload: record,
                            attributes: Vec::new(),
                            created_ms: now_ms(),
                        }
                    };
                    notice = Some(self.outbox.put(&mut batch, target, &entry)?);
                }
                None => {
                    tracing::warn!(destination = %arn, "unsupported destination; record dropped")
                }
            }
        }
        self.commit(batch).await?;
        if let Some(n) = notice {
            n.send();
        }
        Ok(())
    }
}

/// Lambda's invocation record for destinations.
fn record(
    request_id: &str,
    function_arn: &str,
    condition: &str,
    invoke_count: u64,
    request: &[u8],
    response: Option<(&str, Option<&str>, &[u8])>,
) -> Vec<u8> {
    let as_json = |b: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(b)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(b).into_owned()))
    };
    let mut r = json!({
        "version": "1.0",
        "timestamp": iso_ms(now_ms()),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": as_json(request),
    });
    if let Some((version, error, payload)) = response {
        let mut ctx = json!({"statusCode": 200, "executedVersion": version});
        if let Some(e) = error {
            ctx["functionError"] = json!(e);
        }
        r["responseContext"] = ctx;
        r["responsePayload"] = as_json(payload);
    }
    serde_json::to_vec(&r).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_queues_topics_and_functions() {
        assert_eq!(
            destination("arn:aws:sqs:us-east-1:000000000000:q"),
            Some((Target::SQS, "send"))
        );
        assert_eq!(
            destination("arn:aws:sns:us-east-1:000000000000:t"),
            Some((Target::SNS, "publish"))
        );
        assert_eq!(
            destination("arn:aws:lambda:us-east-1:000000000000:function:f"),
            Some((Target::LAMBDA, "invoke"))
        );
        assert_eq!(destination("arn:aws:s3:::bucket"), None);
        assert_eq!(destination("nope"), None);
    }

    #[test]
    fn records_have_lambdas_shape() {
        let r = record(
            "id",
            "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
            "RetriesExhausted",
            3,
            br#"{"a":1}"#,
            Some(("$LATEST", Some("Unhandled"), br#"{"errorMessage":"x"}"#)),
        );
        let v: serde_json::Value = serde_json::from_slice(&r).expect("json");
        assert_eq!(v["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(v["requestPayload"]["a"], 1);
        assert_eq!(v["responseContext"]["functionError"], "Unhandled");
        assert_eq!(v["responsePayload"]["errorMessage"], "x");
    }
}

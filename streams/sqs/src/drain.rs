//! The outbox drainer for [`Target::SQS`]: other services' sends to a
//! queue (SNS fan-out, destinations). Contract: kind `send`, resource the
//! queue ARN, payload the body (UTF-8), optional attribute pairs
//! `MessageGroupId`, `MessageDeduplicationId` and `MessageAttributes` (a
//! JSON object in the SQS JSON protocol's shape, binary values base64 in
//! `BinaryValue`). Each entry is applied and removed in one batch; an
//! entry for a queue that does not exist, or that the queue refuses, is
//! removed with a warning.

use std::collections::{BTreeMap, HashMap};

use tarn_core::outbox::{Outbox, Pending, Target};
use tarn_core::runner::Stop;

use crate::codec::{AttrValue, MessageAttribute};
use crate::model::SendMessage;
use crate::{Sqs, SqsError};

/// Entries drained per batch.
const DRAIN_BATCH: usize = 64;

/// Parses `MessageAttributes` in the JSON protocol's shape
/// (`{"name": {"DataType": …, "StringValue": …, "BinaryValue": base64}}`):
/// a `Binary…` type takes `BinaryValue`, the others `StringValue`; a value
/// missing is empty, which [`check_attributes`](crate::model::check_attributes)
/// refuses with SQS's message.
pub fn parse_json_attributes(
    v: &serde_json::Value,
) -> Result<BTreeMap<String, MessageAttribute>, SqsError> {
    use base64::Engine as _;
    let obj = v.as_object().ok_or_else(|| {
        SqsError::InvalidParameterValue("MessageAttributes must be a map.".into())
    })?;
    let mut out = BTreeMap::new();
    for (name, a) in obj {
        let field = |f: &str| a.get(f).and_then(|x| x.as_str());
        let data_type = field("DataType").unwrap_or_default().to_owned();
        let value = if data_type.starts_with("Binary") {
            let b = field("BinaryValue").unwrap_or_default();
            AttrValue::Binary(
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .map_err(|_| {
                        SqsError::InvalidParameterValue(format!(
                            "The message attribute '{name}' has an invalid binary value."
                        ))
                    })?,
            )
        } else {
            AttrValue::String(field("StringValue").unwrap_or_default().to_owned())
        };
        out.insert(name.clone(), MessageAttribute { data_type, value });
    }
    Ok(out)
}

fn to_send(p: &Pending) -> Result<SendMessage, SqsError> {
    let body =
        String::from_utf8(p.entry.payload.clone()).map_err(|_| SqsError::InvalidMessageContents)?;
    let mut m = SendMessage {
        body,
        ..SendMessage::default()
    };
    for (k, v) in &p.entry.attributes {
        match k.as_str() {
            "MessageGroupId" => m.group_id = Some(v.clone()),
            "MessageDeduplicationId" => m.dedup_id = Some(v.clone()),
            "MessageAttributes" => {
                let json: serde_json::Value = serde_json::from_str(v).map_err(|_| {
                    SqsError::InvalidParameterValue("MessageAttributes is not JSON.".into())
                })?;
                m.attributes = parse_json_attributes(&json)?;
            }
            _ => {}
        }
    }
    Ok(m)
}

impl Sqs {
    /// Applies up to [`DRAIN_BATCH`] pending entries; returns how many.
    pub async fn drain_outbox(&self, outbox: &Outbox) -> Result<usize, SqsError> {
        let pending = outbox
            .pending(Target::SQS, DRAIN_BATCH)
            .map_err(|e| SqsError::Internal(e.to_string()))?;
        if pending.is_empty() {
            return Ok(0);
        }
        let (d, notify) = self.apply_entries(outbox, &pending)?;
        self.durable(d).await?;
        for id in notify {
            self.notify(id);
        }
        Ok(pending.len())
    }

    /// Runs the drainer until `stop`: drains at start and whenever woken.
    pub async fn run_drainer(self, outbox: Outbox, mut stop: Stop) {
        while !stop.is_stopped() {
            let listener = outbox.listen(Target::SQS);
            match self.drain_outbox(&outbox).await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "sqs outbox drain failed");
                    if !stop.sleep(std::time::Duration::from_millis(500)).await {
                        return;
                    }
                    continue;
                }
            }
            tokio::select! {
                () = listener => {}
                () = stop.wait() => {}
            }
        }
    }

    fn apply_entries(
        &self,
        outbox: &Outbox,
        pending: &[Pending],
    ) -> Result<(tarn_engine::Deferred<()>, Vec<u64>), SqsError> {
        let mut batch = self.store().batch();
        let now = self.now_ms();
        let mut dedup = HashMap::new();
        let mut notify = Vec::new();
        // Locks of FIFO queues, held until the batch is committed.
        let mut states = Vec::new();
        for p in pending {
            let applied = (|| {
                if p.entry.kind != "send" {
                    return Err(SqsError::UnsupportedOperation(format!(
                        "unknown outbox entry kind {}",
                        p.entry.kind
                    )));
                }
                let q = self.queue_by_arn(&p.entry.resource)?;
                let m = to_send(p)?;
                self.check_send(&q, &m)?;
                if q.fifo() && !states.iter().any(|(id, _)| *id == q.id()) {
                    states.push((q.id(), self.state(q.id())));
                }
                Ok((q, m))
            })();
            match applied {
                Ok((q, m)) => {
                    self.send_into(&mut batch, &q, &m, now, &mut dedup)?;
                    notify.push(q.id());
                }
                Err(e) => tracing::warn!(
                    resource = %p.entry.resource,
                    error = %e.message(),
                    "sqs outbox entry dropped"
                ),
            }
            outbox
                .done(&mut batch, p)
                .map_err(|e| SqsError::Internal(e.to_string()))?;
        }
        let guards: Vec<_> = states
            .iter()
            .map(|(_, s)| crate::model::lock(&s.lock))
            .collect();
        let d = batch.commit()?;
        drop(guards);
        Ok((d, notify))
    }
}

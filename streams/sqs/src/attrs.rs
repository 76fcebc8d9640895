//! Queue attributes: names, defaults, ranges and the checks of
//! CreateQueue / SetQueueAttributes (the SQS API reference,
//! `SetQueueAttributes` and `CreateQueue`; `docs/research/sqs.md`).

use std::collections::BTreeMap;

use serde::Deserialize;
use tarn_core::arn::Arns;

use crate::SqsError;

/// Settable attributes and their integer ranges (`None`: not an integer).
const SETTABLE: &[(&str, Option<(u64, u64)>)] = &[
    ("DelaySeconds", Some((0, 900))),
    ("MaximumMessageSize", Some((1024, 262_144))),
    ("MessageRetentionPeriod", Some((60, 1_209_600))),
    ("Policy", None),
    ("ReceiveMessageWaitTimeSeconds", Some((0, 20))),
    ("VisibilityTimeout", Some((0, 43_200))),
    ("RedrivePolicy", None),
    ("RedriveAllowPolicy", None),
    ("KmsMasterKeyId", None),
    ("KmsDataKeyReusePeriodSeconds", Some((60, 86_400))),
    ("SqsManagedSseEnabled", None),
    ("FifoQueue", None),
    ("ContentBasedDeduplication", None),
    ("DeduplicationScope", None),
    ("FifoThroughputLimit", None),
];

/// Attributes only GetQueueAttributes names.
pub const READ_ONLY: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

const FIFO_ONLY: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

/// Whether `name` is an attribute GetQueueAttributes knows.
pub fn is_known(name: &str) -> bool {
    name == "All" || READ_ONLY.contains(&name) || SETTABLE.iter().any(|(n, _)| *n == name)
}

/// The effective attributes of a new queue: defaults, then `requested`.
pub fn defaults(fifo: bool) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = [
        ("DelaySeconds", "0"),
        ("MaximumMessageSize", "262144"),
        ("MessageRetentionPeriod", "345600"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
        ("SqsManagedSseEnabled", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if fifo {
        for (k, v) in [
            ("FifoQueue", "true"),
            ("ContentBasedDeduplication", "false"),
            ("DeduplicationScope", "queue"),
            ("FifoThroughputLimit", "perQueue"),
        ] {
            m.insert(k.to_owned(), v.to_owned());
        }
    }
    m
}

/// A redrive policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRedrive {
    dead_letter_target_arn: Option<serde_json::Value>,
    max_receive_count: Option<serde_json::Value>,
}

/// Parses a stored or requested `RedrivePolicy` (`maxReceiveCount` as a
/// number or a string, as SQS takes both).
pub fn redrive(value: &str) -> Result<Option<Redrive>, SqsError> {
    if value.is_empty() {
        return Ok(None);
    }
    let bad = || {
        SqsError::InvalidAttributeValueMessage(format!(
            "Value {value} for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map."
        ))
    };
    let raw: RawRedrive = serde_json::from_str(value).map_err(|_| bad())?;
    let arn = match raw.dead_letter_target_arn {
        Some(serde_json::Value::String(s)) => s,
        _ => {
            return Err(SqsError::InvalidAttributeValueMessage(format!(
                "Value {value} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn."
            )))
        }
    };
    let count = match raw.max_receive_count {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse::<u64>().ok(),
        None => {
            return Err(SqsError::InvalidAttributeValueMessage(format!(
                "Value {value} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: maxReceiveCount."
            )))
        }
        _ => None,
    };
    let count = count.filter(|c| (1..=1000).contains(c)).ok_or_else(|| {
        SqsError::InvalidAttributeValueMessage(format!(
            "Value {value} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: {}, valid values are from 1 to 1000 both inclusive.",
            serde_json::from_str::<serde_json::Value>(value)
                .ok()
                .and_then(|v| v.get("maxReceiveCount").map(ToString::to_string))
                .unwrap_or_default()
        ))
    })?;
    Ok(Some(Redrive {
        dead_letter_target_arn: arn,
        // In 1..=1000.
        max_receive_count: count as u32,
    }))
}

/// Whether a dead-letter queue whose `RedriveAllowPolicy` is `policy`
/// takes `source_arn` as a source: `allowAll` (or no policy), `denyAll`,
/// or `byQueue` with the source among `sourceQueueArns`.
pub fn redrive_allowed(policy: &str, source_arn: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(policy) else {
        return true;
    };
    match v.get("redrivePermission").and_then(|p| p.as_str()) {
        Some("denyAll") => false,
        Some("byQueue") => v
            .get("sourceQueueArns")
            .and_then(|a| a.as_array())
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(source_arn))),
        _ => true,
    }
}

/// Checks `requested` attributes for a queue (`fifo` or not), and returns
/// them in canonical form. `creating`: FifoQueue may be given.
pub fn check(
    requested: &BTreeMap<String, String>,
    fifo: bool,
    creating: bool,
    arns: &Arns,
) -> Result<BTreeMap<String, String>, SqsError> {
    let mut out = BTreeMap::new();
    for (name, value) in requested {
        let Some((_, range)) = SETTABLE.iter().find(|(n, _)| n == name) else {
            return Err(SqsError::InvalidAttributeName(name.clone()));
        };
        let invalid = || SqsError::InvalidAttributeValue(name.clone());
        if FIFO_ONLY.contains(&name.as_str()) && !fifo {
            return Err(SqsError::InvalidAttributeName(name.clone()));
        }
        let canonical = if let Some((lo, hi)) = range {
            let n: u64 = value.trim().parse().map_err(|_| invalid())?;
            if n < *lo || n > *hi {
                return Err(invalid());
            }
            n.to_string()
        } else {
            match name.as_str() {
                "FifoQueue" => {
                    if !creating {
                        return Err(SqsError::InvalidAttributeName(name.clone()));
                    }
                    match value.as_str() {
                        "true" if fifo => "true".to_owned(),
                        "false" if !fifo => continue,
                        _ => return Err(invalid()),
                    }
                }
                "ContentBasedDeduplication" | "SqsManagedSseEnabled" => {
                    match value.to_ascii_lowercase().as_str() {
                        "true" => "true".to_owned(),
                        "false" => "false".to_owned(),
                        _ => return Err(invalid()),
                    }
                }
                "DeduplicationScope" => match value.as_str() {
                    "messageGroup" | "queue" => value.clone(),
                    _ => return Err(invalid()),
                },
                "FifoThroughputLimit" => match value.as_str() {
                    "perQueue" | "perMessageGroupId" => value.clone(),
                    _ => return Err(invalid()),
                },
                "RedrivePolicy" => {
                    if let Some(r) = redrive(value)? {
                        if arns.queue_in(&r.dead_letter_target_arn).is_none() {
                            return Err(SqsError::InvalidAttributeValueMessage(format!(
                                "Value {value} for parameter RedrivePolicy is invalid. Reason: Dead-letter target ARN is not valid."
                            )));
                        }
                    }
                    value.clone()
                }
                "RedriveAllowPolicy" => {
                    if !value.is_empty() {
                        let v: serde_json::Value = serde_json::from_str(value).map_err(|_| {
                            SqsError::InvalidAttributeValueMessage(format!(
                                "Value {value} for parameter RedriveAllowPolicy is invalid. Reason: Invalid JSON."
                            ))
                        })?;
                        let arns_given = v
                            .get("sourceQueueArns")
                            .and_then(|a| a.as_array())
                            .map(Vec::len);
                        match v.get("redrivePermission").and_then(|p| p.as_str()) {
                            Some("allowAll" | "denyAll") => {}
                            Some("byQueue") if matches!(arns_given, Some(1..=10)) => {}
                            _ => {
                                return Err(SqsError::InvalidAttributeValueMessage(format!(
                                    "Value {value} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format."
                                )))
                            }
                        }
                    }
                    value.clone()
                }
                "Policy" => {
                    if !value.is_empty()
                        && serde_json::from_str::<serde_json::Value>(value).is_err()
                    {
                        return Err(SqsError::InvalidAttributeValueMessage(
                            "Invalid value for the parameter Policy.".into(),
                        ));
                    }
                    value.clone()
                }
                _ => value.clone(),
            }
        };
        out.insert(name.clone(), canonical);
    }
    Ok(out)
}

/// Whether a queue name is valid (`fifo`: it must end in `.fifo`).
pub fn check_name(name: &str, fifo: bool) -> Result<(), SqsError> {
    let stem = if fifo {
        name.strip_suffix(".fifo")
    } else {
        Some(name)
    };
    let ok = name.len() <= 80
        && stem.is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else if fifo {
        Err(SqsError::InvalidParameterValue(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.".into(),
        ))
    } else {
        Err(SqsError::InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
                .into(),
        ))
    }
}

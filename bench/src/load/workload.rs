//! The workloads: YCSB's core workloads A-F, four single-operation ones, and
//! two SQS ones (`sqs-send`, `sqs-receive-delete`).

use super::dist::{Distribution, Rng};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// PutItem of existing records (overwrites).
    Put,
    /// GetItem.
    Get,
    /// Query of one 10-item partition.
    Query,
    /// BatchWriteItem of 25 PutRequests.
    BatchWrite,
    /// YCSB A, update heavy: 50% read, 50% update.
    A,
    /// YCSB B, read mostly: 95% read, 5% update.
    B,
    /// YCSB C, read only.
    C,
    /// YCSB D, read latest: 95% read, 5% insert.
    D,
    /// YCSB E, short ranges: 95% Query with Limit 1-10, 5% insert.
    E,
    /// YCSB F, read-modify-write: 50% read, 50% GetItem then UpdateItem.
    F,
    /// SQS: SendMessage of a --value-bytes body to one queue.
    SqsSend,
    /// SQS: ReceiveMessage (up to 10, no wait) then DeleteMessageBatch of
    /// what came back, from a queue prefilled with --load --records N.
    SqsReceiveDelete,
}

/// What one operation of a workload does; each is measured separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    /// GetItem of a record.
    Get,
    /// PutItem of an existing record.
    Put,
    /// UpdateItem `SET field0` of a record.
    Update,
    /// PutItem of a new record (D, E).
    Insert,
    /// Query of a whole partition (10 items).
    Query,
    /// Query of a partition with `Limit` 1-10 (YCSB's short scan).
    Scan,
    /// GetItem then UpdateItem of the same record, timed as one operation.
    ReadModifyWrite,
    /// BatchWriteItem of 25 puts.
    BatchWrite,
    /// SQS SendMessage.
    SqsSend,
    /// SQS ReceiveMessage then DeleteMessageBatch of the messages it
    /// returned, timed as one operation.
    SqsReceiveDelete,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Put => "put",
            Self::Update => "update",
            Self::Insert => "insert",
            Self::Query => "query",
            Self::Scan => "scan",
            Self::ReadModifyWrite => "read-modify-write",
            Self::BatchWrite => "batch-write",
            Self::SqsSend => "send",
            Self::SqsReceiveDelete => "receive-delete",
        }
    }
}

impl Workload {
    /// True for the workloads that speak SQS rather than DynamoDB.
    pub fn is_sqs(self) -> bool {
        matches!(self, Self::SqsSend | Self::SqsReceiveDelete)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Put => "put",
            Self::Get => "get",
            Self::Query => "query",
            Self::BatchWrite => "batch-write",
            Self::A => "a",
            Self::B => "b",
            Self::C => "c",
            Self::D => "d",
            Self::E => "e",
            Self::F => "f",
            Self::SqsSend => "sqs-send",
            Self::SqsReceiveDelete => "sqs-receive-delete",
        }
    }

    /// The operation mix, in percent (summing to 100).
    pub fn mix(self) -> &'static [(OpKind, u32)] {
        match self {
            Self::Put => &[(OpKind::Put, 100)],
            Self::Get => &[(OpKind::Get, 100)],
            Self::Query => &[(OpKind::Query, 100)],
            Self::BatchWrite => &[(OpKind::BatchWrite, 100)],
            Self::A => &[(OpKind::Get, 50), (OpKind::Update, 50)],
            Self::B => &[(OpKind::Get, 95), (OpKind::Update, 5)],
            Self::C => &[(OpKind::Get, 100)],
            Self::D => &[(OpKind::Get, 95), (OpKind::Insert, 5)],
            Self::E => &[(OpKind::Scan, 95), (OpKind::Insert, 5)],
            Self::F => &[(OpKind::Get, 50), (OpKind::ReadModifyWrite, 50)],
            Self::SqsSend => &[(OpKind::SqsSend, 100)],
            Self::SqsReceiveDelete => &[(OpKind::SqsReceiveDelete, 100)],
        }
    }

    /// The key distribution when none is given: YCSB's (zipfian, latest for
    /// D) for A-F, uniform for the single-operation workloads.
    pub fn default_distribution(self) -> Distribution {
        match self {
            Self::Put
            | Self::Get
            | Self::Query
            | Self::BatchWrite
            | Self::SqsSend
            | Self::SqsReceiveDelete => Distribution::Uniform,
            Self::D => Distribution::Latest,
            _ => Distribution::Zipfian,
        }
    }

    /// The index into [`Workload::mix`] of the next operation.
    pub fn pick(self, rng: &mut Rng) -> usize {
        let mix = self.mix();
        if mix.len() == 1 {
            return 0;
        }
        let mut roll = rng.below(100) as u32;
        for (i, (_, pct)) in mix.iter().enumerate() {
            if roll < *pct {
                return i;
            }
            roll -= pct;
        }
        mix.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    const ALL: [Workload; 12] = [
        Workload::Put,
        Workload::Get,
        Workload::Query,
        Workload::BatchWrite,
        Workload::A,
        Workload::B,
        Workload::C,
        Workload::D,
        Workload::E,
        Workload::F,
        Workload::SqsSend,
        Workload::SqsReceiveDelete,
    ];

    #[test]
    fn mixes_sum_to_one_hundred_percent() {
        for w in ALL {
            assert_eq!(w.mix().iter().map(|(_, p)| p).sum::<u32>(), 100, "{w:?}");
        }
    }

    #[test]
    fn picks_follow_the_mix() {
        let mut rng = Rng::new(11);
        let mut updates = 0;
        for _ in 0..100_000 {
            if Workload::B.mix()[Workload::B.pick(&mut rng)].0 == OpKind::Update {
                updates += 1;
            }
        }
        assert!((4_000..6_000).contains(&updates), "{updates} updates");
    }

    #[test]
    fn names_are_the_flag_values() {
        for w in ALL {
            let v = w.to_possible_value().expect("value");
            assert_eq!(v.get_name(), w.name());
        }
    }
}

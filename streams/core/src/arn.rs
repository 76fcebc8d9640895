//! ARNs: `arn:<partition>:<service>:<region>:<account>:<resource>`.
//!
//! [`Arns`] builds the ARNs of one account and region, the running
//! server's (`--account-id`, `--region`), for every resource Tarn serves or
//! will serve, and parses the ones clients send back. It is the only place
//! that knows their shapes, so that a table ARN, a stream ARN or a queue
//! ARN is spelled the same by every service that names it.
//!
//! Building allocates the returned `String` and nothing else; checking
//! whether an ARN belongs to this account and region (`*_in` methods)
//! allocates nothing, so it may sit on a request's path.
//!
//! Shapes, from the AWS service references:
//!
//! | resource | ARN |
//! |---|---|
//! | DynamoDB table | `arn:aws:dynamodb:R:A:table/T` |
//! | its index | `arn:aws:dynamodb:R:A:table/T/index/I` |
//! | its stream | `arn:aws:dynamodb:R:A:table/T/stream/2026-12-01T07:18:28.922` |
//! | its backup | `arn:aws:dynamodb:R:A:table/T/backup/01796109508922-5f3c1a2b` |
//! | KMS key | `arn:aws:kms:R:A:key/K` |
//! | SQS queue | `arn:aws:sqs:R:A:Q` |
//! | SNS topic | `arn:aws:sns:R:A:T` |
//! | its subscription | `arn:aws:sns:R:A:T:ID` |
//! | Kinesis stream | `arn:aws:kinesis:R:A:stream/S` |
//! | its consumer | `arn:aws:kinesis:R:A:stream/S/consumer/C:SECONDS` |
//! | Lambda function | `arn:aws:lambda:R:A:function:F` |
//! | its version or alias | `arn:aws:lambda:R:A:function:F:Q` |
//! | event-source mapping | `arn:aws:lambda:R:A:event-source-mapping:UUID` |
//! | log group | `arn:aws:logs:R:A:log-group:G` |
//! | log stream | `arn:aws:logs:R:A:log-group:G:log-stream:S` |
//! | IAM role | `arn:aws:iam::A:role/PATH/NAME` (IAM is global: no region) |
//! | IAM policy | `arn:aws:iam::A:policy/PATH/NAME`; AWS managed: `arn:aws:iam::aws:policy/PATH/NAME` |
//! | EventBridge pipe | `arn:aws:pipes:R:A:pipe/P` |

use std::fmt::Write as _;

/// The partition of every ARN Tarn builds.
pub const PARTITION: &str = "aws";

/// An ARN split into its parts. The resource keeps any `:` and `/` it
/// holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, ...
    pub partition: &'a str,
    /// `dynamodb`, `sqs`, ...
    pub service: &'a str,
    /// Empty for global services (IAM).
    pub region: &'a str,
    /// The account id.
    pub account: &'a str,
    /// Everything after the fifth `:`.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `arn:partition:service:region:account:resource`; `None` if
    /// `s` does not start with `arn:` or has fewer than six parts.
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut parts = s.strip_prefix("arn:")?.splitn(5, ':');
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }
}

/// A DynamoDB stream ARN's parts, as [`parse_stream`] reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamArn<'a> {
    /// Its region.
    pub region: &'a str,
    /// Its account.
    pub account: &'a str,
    /// The table.
    pub table: &'a str,
    /// The stream's label ([`stream_label`]).
    pub label: &'a str,
}

/// Reads a DynamoDB stream ARN of any account and region,
/// `arn:aws…:dynamodb:R:A:table/T/stream/LABEL`: `None` unless every part
/// has its form (a table name as DynamoDB allows, a label as
/// [`stream_label`] writes).
pub fn parse_stream(s: &str) -> Option<StreamArn<'_>> {
    let arn = Arn::parse(s)?;
    let (table, label) = arn
        .resource
        .strip_prefix("table/")?
        .split_once("/stream/")?;
    let well_formed = arn.partition.starts_with(PARTITION)
        && arn.service == "dynamodb"
        && !arn.region.is_empty()
        && !arn.account.is_empty()
        && !arn.region.contains('/')
        && !arn.account.contains('/')
        && is_table_name(table)
        && is_stream_label(label);
    well_formed.then_some(StreamArn {
        region: arn.region,
        account: arn.account,
        table,
        label,
    })
}

/// Whether `name` is a table or index name as DynamoDB allows it:
/// 3 to 255 of `[a-zA-Z0-9_.-]`.
pub fn is_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A DynamoDB stream's label: its creation time in ISO 8601, UTC, to the
/// millisecond, as DynamoDB writes it (`2026-12-01T08:05:49.123`).
pub fn stream_label(created_ms: u64) -> String {
    let secs = created_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        created_ms % 1000
    )
}

/// True for a label as [`stream_label`] writes it: `YYYY-MM-DDTHH:MM:SS.mmm`.
pub fn is_stream_label(s: &str) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.ddd";
    s.len() == SHAPE.len()
        && s.bytes().zip(SHAPE).all(|(b, &want)| match want {
            b'd' => b.is_ascii_digit(),
            other => b == other,
        })
}

/// A backup ARN's suffix shows the backup id scrambled by this odd
/// multiplier, as AWS's random-looking suffixes look, and is unscrambled by
/// its inverse mod 2^32.
const BACKUP_MIX: u32 = 0x9E37_79B1;
const BACKUP_UNMIX: u32 = inverse(BACKUP_MIX);

/// The inverse of an odd `a` mod 2^32, by Newton's iteration (each step
/// doubles the correct low bits, from 3).
const fn inverse(a: u32) -> u32 {
    let mut x = a;
    let mut i = 0;
    while i < 5 {
        x = x.wrapping_mul(2u32.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

/// A backup ARN's parts, as [`Arns::backup_in`] reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupArn<'a> {
    /// The table the backup was taken of.
    pub table: &'a str,
    /// When it was created, ms since the epoch.
    pub created_ms: u64,
    /// Its id.
    pub id: u32,
}

/// Whose an IAM policy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyOwner {
    /// This account's (customer managed).
    Account,
    /// AWS's (`arn:aws:iam::aws:policy/...`).
    Aws,
}

/// Builds and recognizes the ARNs of one account in one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arns {
    region: String,
    account: String,
}

impl Arns {
    /// The ARNs of `account` in `region`.
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Arns {
        Arns {
            region: region.into(),
            account: account.into(),
        }
    }

    /// The region named in regional ARNs.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account named in every ARN.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// `arn:aws:<service>:<region>:<account>:` followed by `resource`.
    fn build(&self, service: &str, region: &str, resource: std::fmt::Arguments<'_>) -> String {
        let mut s =
            String::with_capacity(16 + service.len() + region.len() + self.account.len() + 48);
        // Writing to a String cannot fail.
        let _ = write!(
            s,
            "arn:{PARTITION}:{service}:{region}:{}:{resource}",
            self.account
        );
        s
    }

    /// The part of `arn` after `arn:aws:<service>:<region>:<account>:` and
    /// `kind` (such as `table/`), if `arn` starts so with this account and
    /// region. Allocates nothing.
    fn resource_in<'a>(&self, arn: &'a str, service: &str, kind: &str) -> Option<&'a str> {
        arn.strip_prefix("arn:")?
            .strip_prefix(PARTITION)?
            .strip_prefix(':')?
            .strip_prefix(service)?
            .strip_prefix(':')?
            .strip_prefix(self.region.as_str())?
            .strip_prefix(':')?
            .strip_prefix(self.account.as_str())?
            .strip_prefix(':')?
            .strip_prefix(kind)
    }

    // ---- DynamoDB ----

    /// A table: `arn:aws:dynamodb:R:A:table/T`.
    pub fn table(&self, table: &str) -> String {
        self.build("dynamodb", &self.region, format_args!("table/{table}"))
    }

    /// What follows `table/` in a DynamoDB ARN of this account and region
    /// (the table name, and for an index, stream or backup ARN more after
    /// a `/`); `None` for any other ARN.
    pub fn table_resource_in<'a>(&self, arn: &'a str) -> Option<&'a str> {
        self.resource_in(arn, "dynamodb", "table/")
    }

    /// A secondary index: `arn:aws:dynamodb:R:A:table/T/index/I`.
    pub fn index(&self, table: &str, index: &str) -> String {
        self.build(
            "dynamodb",
            &self.region,
            format_args!("table/{table}/index/{index}"),
        )
    }

    /// A table's stream: `arn:aws:dynamodb:R:A:table/T/stream/LABEL`, the
    /// label being the stream's creation time ([`stream_label`]).
    pub fn stream(&self, table: &str, created_ms: u64) -> String {
        self.build(
            "dynamodb",
            &self.region,
            format_args!("table/{table}/stream/{}", stream_label(created_ms)),
        )
    }

    /// Whether a stream ARN read by [`parse_stream`] is of this account and
    /// region.
    pub fn owns_stream(&self, arn: &StreamArn<'_>) -> bool {
        arn.region == self.region && arn.account == self.account
    }

    /// A backup: the table's ARN, `/backup/`, the creation time in 14
    /// digits of ms and an 8-hex suffix that encodes the backup's id.
    pub fn backup(&self, table: &str, created_ms: u64, id: u32) -> String {
        self.build(
            "dynamodb",
            &self.region,
            format_args!(
                "table/{table}/backup/{created_ms:014}-{:08x}",
                id.wrapping_mul(BACKUP_MIX)
            ),
        )
    }

    /// The table, creation time and id an ARN of [`Arns::backup`]'s form
    /// names, if it is one of this account and region.
    pub fn backup_in<'a>(&self, arn: &'a str) -> Option<BackupArn<'a>> {
        let rest = self.table_resource_in(arn)?;
        let (table, tail) = rest.split_once("/backup/")?;
        let (ms, suffix) = tail.split_once('-')?;
        if ms.len() != 14 || suffix.len() != 8 || !ms.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(BackupArn {
            table,
            created_ms: ms.parse().ok()?,
            id: u32::from_str_radix(suffix, 16)
                .ok()?
                .wrapping_mul(BACKUP_UNMIX),
        })
    }

    /// A KMS key: `arn:aws:kms:R:A:key/K`.
    pub fn kms_key(&self, key_id: &str) -> String {
        self.build("kms", &self.region, format_args!("key/{key_id}"))
    }

    // ---- queues, topics, Kinesis ----

    /// An SQS queue: `arn:aws:sqs:R:A:Q`.
    pub fn queue(&self, queue: &str) -> String {
        self.build("sqs", &self.region, format_args!("{queue}"))
    }

    /// The queue name of an SQS queue ARN of this account and region.
    pub fn queue_in<'a>(&self, arn: &'a str) -> Option<&'a str> {
        self.resource_in(arn, "sqs", "")
            .filter(|q| !q.is_empty() && !q.contains(':'))
    }

    /// An SNS topic: `arn:aws:sns:R:A:T`.
    pub fn topic(&self, topic: &str) -> String {
        self.build("sns", &self.region, format_args!("{topic}"))
    }

    /// The topic name of an SNS topic ARN of this account and region (not
    /// of a subscription ARN).
    pub fn topic_in<'a>(&self, arn: &'a str) -> Option<&'a str> {
        self.resource_in(arn, "sns", "")
            .filter(|t| !t.is_empty() && !t.contains(':'))
    }

    /// An SNS subscription: the topic's ARN, `:`, the subscription's id.
    pub fn subscription(&self, topic: &str, id: &str) -> String {
        self.build("sns", &self.region, format_args!("{topic}:{id}"))
    }

    /// The topic and id of an SNS subscription ARN of this account and
    /// region.
    pub fn subscription_in<'a>(&self, arn: &'a str) -> Option<(&'a str, &'a str)> {
        self.resource_in(arn, "sns", "")?
            .split_once(':')
            .filter(|(t, id)| !t.is_empty() && !id.is_empty() && !id.contains(':'))
    }

    /// A Kinesis data stream: `arn:aws:kinesis:R:A:stream/S`.
    pub fn kinesis_stream(&self, stream: &str) -> String {
        self.build("kinesis", &self.region, format_args!("stream/{stream}"))
    }

    /// The stream name of a Kinesis stream ARN of this account and region.
    pub fn kinesis_stream_in<'a>(&self, arn: &'a str) -> Option<&'a str> {
        self.resource_in(arn, "kinesis", "stream/")
            .filter(|s| !s.is_empty() && !s.contains('/'))
    }

    /// A Kinesis stream consumer:
    /// `arn:aws:kinesis:R:A:stream/S/consumer/C:SECONDS`, the seconds being
    /// its registration time.
    pub fn kinesis_consumer(&self, stream: &str, consumer: &str, created_s: u64) -> String {
        self.build(
            "kinesis",
            &self.region,
            format_args!("stream/{stream}/consumer/{consumer}:{created_s}"),
        )
    }

    // ---- functions ----

    /// A Lambda function: `arn:aws:lambda:R:A:function:F`.
    pub fn function(&self, function: &str) -> String {
        self.build("lambda", &self.region, format_args!("function:{function}"))
    }

    /// A function's version or alias (the qualified ARN):
    /// `arn:aws:lambda:R:A:function:F:Q`.
    pub fn function_qualified(&self, function: &str, qualifier: &str) -> String {
        self.build(
            "lambda",
            &self.region,
            format_args!("function:{function}:{qualifier}"),
        )
    }

    /// The function name and qualifier (version or alias), if any, of a
    /// function ARN of this account and region.
    pub fn function_in<'a>(&self, arn: &'a str) -> Option<(&'a str, Option<&'a str>)> {
        let rest = self.resource_in(arn, "lambda", "function:")?;
        let (name, qualifier) = match rest.split_once(':') {
            Some((n, q)) => (n, Some(q)),
            None => (rest, None),
        };
        let ok = !name.is_empty() && qualifier.is_none_or(|q| !q.is_empty() && !q.contains(':'));
        ok.then_some((name, qualifier))
    }

    /// An event-source mapping: `arn:aws:lambda:R:A:event-source-mapping:UUID`.
    pub fn event_source_mapping(&self, uuid: &str) -> String {
        self.build(
            "lambda",
            &self.region,
            format_args!("event-source-mapping:{uuid}"),
        )
    }

    /// A CloudWatch Logs log group: `arn:aws:logs:R:A:log-group:G` (the
    /// `logGroupArn` form; DescribeLogGroups' older `arn` member adds `:*`).
    pub fn log_group(&self, group: &str) -> String {
        self.build("logs", &self.region, format_args!("log-group:{group}"))
    }

    /// A log stream: `arn:aws:logs:R:A:log-group:G:log-stream:S`.
    pub fn log_stream(&self, group: &str, stream: &str) -> String {
        self.build(
            "logs",
            &self.region,
            format_args!("log-group:{group}:log-stream:{stream}"),
        )
    }

    /// The group name of a log group ARN of this account and region, in
    /// either form (`…:log-group:G` or DescribeLogGroups' `…:log-group:G:*`).
    pub fn log_group_in<'a>(&self, arn: &'a str) -> Option<&'a str> {
        let g = self.resource_in(arn, "logs", "log-group:")?;
        let g = g.strip_suffix(":*").unwrap_or(g);
        (!g.is_empty() && !g.contains(':')).then_some(g)
    }

    /// A customer managed IAM policy: `arn:aws:iam::A:policy` + `path` +
    /// `name` (`path` starts and ends with `/`).
    pub fn policy(&self, path: &str, name: &str) -> String {
        self.build("iam", "", format_args!("policy{path}{name}"))
    }

    /// The owner, path and name of an IAM policy ARN: [`PolicyOwner::Account`]
    /// for this account's, [`PolicyOwner::Aws`] for an AWS managed policy
    /// (`arn:aws:iam::aws:policy/…`); `None` for anything else.
    pub fn policy_in<'a>(&self, arn: &'a str) -> Option<(PolicyOwner, &'a str, &'a str)> {
        let rest = arn
            .strip_prefix("arn:")?
            .strip_prefix(PARTITION)?
            .strip_prefix(":iam::")?;
        let (owner, rest) = if let Some(r) = rest.strip_prefix("aws:") {
            (PolicyOwner::Aws, r)
        } else {
            let r = rest
                .strip_prefix(self.account.as_str())?
                .strip_prefix(':')?;
            (PolicyOwner::Account, r)
        };
        let rest = rest.strip_prefix("policy")?;
        let slash = rest.rfind('/')?;
        let (path, name) = rest.split_at(slash + 1);
        (path.starts_with('/') && !name.is_empty()).then_some((owner, path, name))
    }

    /// An IAM role: `arn:aws:iam::A:role` + `path` + `name`. IAM is global,
    /// so the region is empty; `path` starts and ends with `/` (`/` by
    /// default).
    pub fn role(&self, path: &str, name: &str) -> String {
        self.build("iam", "", format_args!("role{path}{name}"))
    }

    /// The path and name of an IAM role ARN of this account
    /// (`arn:aws:iam::A:role/PATH/NAME`).
    pub fn role_in<'a>(&self, arn: &'a str) -> Option<(&'a str, &'a str)> {
        let rest = arn
            .strip_prefix("arn:")?
            .strip_prefix(PARTITION)?
            .strip_prefix(":iam:")?
            .strip_prefix(':')?
            .strip_prefix(self.account.as_str())?
            .strip_prefix(":role")?;
        let slash = rest.rfind('/')?;
        let (path, name) = rest.split_at(slash + 1);
        (path.starts_with('/') && !name.is_empty()).then_some((path, name))
    }

    /// An EventBridge pipe: `arn:aws:pipes:R:A:pipe/P`.
    pub fn pipe(&self, pipe: &str) -> String {
        self.build("pipes", &self.region, format_args!("pipe/{pipe}"))
    }

    /// The pipe name of a pipe ARN of this account and region.
    pub fn pipe_in<'a>(&self, arn: &'a str) -> Option<&'a str> {
        self.resource_in(arn, "pipes", "pipe/")
            .filter(|p| !p.is_empty() && !p.contains('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arns() -> Arns {
        Arns::new("us-east-1", "000000000000")
    }

    #[test]
    fn dynamodb_arns_have_dynamodb_shapes() {
        let a = arns();
        assert_eq!(
            a.table("Music"),
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music"
        );
        assert_eq!(
            a.index("Music", "ByYear"),
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/ByYear"
        );
        assert_eq!(
            a.stream("Music", 1_796_109_508_922),
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/2026-12-01T07:18:28.922"
        );
        assert_eq!(
            a.kms_key("k-1"),
            "arn:aws:kms:us-east-1:000000000000:key/k-1"
        );
        assert_eq!(
            Arns::new("eu-west-1", "123456789012").table("t_1"),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/t_1"
        );
    }

    #[test]
    fn table_resources_are_recognized_only_in_this_account_and_region() {
        let a = arns();
        assert_eq!(a.table_resource_in(&a.table("Music")), Some("Music"));
        assert_eq!(
            a.table_resource_in(&a.index("Music", "I")),
            Some("Music/index/I")
        );
        for other in [
            "arn:aws:dynamodb:eu-west-1:000000000000:table/Music",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Music",
            "arn:aws-cn:dynamodb:us-east-1:000000000000:table/Music",
            "arn:aws:kinesis:us-east-1:000000000000:table/Music",
            "arn:aws:dynamodb:us-east-1:000000000000:index/Music",
            "arn:aws:dynamodb:us-east-1:000000000000",
            "Music",
            "",
        ] {
            assert_eq!(a.table_resource_in(other), None, "{other}");
        }
    }

    #[test]
    fn backup_arns_round_trip_and_scramble_the_id() {
        assert_eq!(BACKUP_MIX.wrapping_mul(BACKUP_UNMIX), 1);
        let a = arns();
        for id in [0u32, 1, 2, 77, 65_536, u32::MAX] {
            let arn = a.backup("Music", 1_796_109_508_922, id);
            assert!(
                arn.starts_with(
                    "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/01796109508922-"
                ),
                "{arn}"
            );
            assert_eq!(
                a.backup_in(&arn),
                Some(BackupArn {
                    table: "Music",
                    created_ms: 1_796_109_508_922,
                    id
                })
            );
        }
        assert_eq!(
            a.backup("Music", 5, 1),
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/00000000000005-9e3779b1"
        );
        for bad in [
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/0179610950892-9e3779b1",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/01796109508922-9e3779b",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/0179610950892x-9e3779b1",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/01796109508922-9e3779bz",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/01796109508922",
            "arn:aws:dynamodb:us-west-2:000000000000:table/Music/backup/01796109508922-9e3779b1",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music",
        ] {
            assert_eq!(a.backup_in(bad), None, "{bad}");
        }
    }

    #[test]
    fn stream_arns_parse_only_when_every_part_has_its_form() {
        let a = arns();
        let ours = a.stream("Music", 1_796_109_508_922);
        let parsed = parse_stream(&ours).expect("ours");
        assert_eq!(
            parsed,
            StreamArn {
                region: "us-east-1",
                account: "000000000000",
                table: "Music",
                label: "2026-12-01T07:18:28.922"
            }
        );
        assert!(a.owns_stream(&parsed));
        let other = parse_stream(
            "arn:aws:dynamodb:eu-west-1:000000000000:table/Music/stream/2026-12-01T07:18:28.922",
        )
        .expect("well-formed");
        assert!(!a.owns_stream(&other));
        for bad in [
            "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf",
            "arn:aws:kinesis:us-east-1:000000000000:table/Music/stream/2026-12-01T07:18:28.922",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/2026-12-01T07:18:28.92x",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/yesterday",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Mu/stream/2026-12-01T07:18:28.922",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Mu sic/stream/2026-12-01T07:18:28.922",
            "arn:aws:dynamodb::000000000000:table/Music/stream/2026-12-01T07:18:28.922",
            "arn:aws:dynamodb:us-east-1:000000000000:index/Music/stream/2026-12-01T07:18:28.922",
            "arn:gcp:dynamodb:us-east-1:000000000000:table/Music/stream/2026-12-01T07:18:28.922",
        ] {
            assert_eq!(parse_stream(bad), None, "{bad}");
        }
    }

    #[test]
    fn labels_are_iso_timestamps_of_one_shape() {
        assert_eq!(stream_label(0), "1970-01-01T00:00:00.000");
        assert_eq!(stream_label(1_796_109_508_922), "2026-12-01T07:18:28.922");
        assert_eq!(stream_label(951_782_400_000), "2000-02-29T00:00:00.000");
        assert!(is_stream_label(&stream_label(0)));
        assert!(!is_stream_label("2026-12-01T07:18:28"));
        assert!(!is_stream_label("2026-12-01 07:18:28.922"));
    }

    #[test]
    fn event_side_arns_have_their_services_shapes() {
        let a = arns();
        let cases = [
            (a.queue("jobs"), "arn:aws:sqs:us-east-1:000000000000:jobs"),
            (
                a.queue("jobs.fifo"),
                "arn:aws:sqs:us-east-1:000000000000:jobs.fifo",
            ),
            (a.topic("news"), "arn:aws:sns:us-east-1:000000000000:news"),
            (
                a.subscription("news", "2f5a"),
                "arn:aws:sns:us-east-1:000000000000:news:2f5a",
            ),
            (
                a.kinesis_stream("clicks"),
                "arn:aws:kinesis:us-east-1:000000000000:stream/clicks",
            ),
            (
                a.kinesis_consumer("clicks", "reader", 1_700_000_000),
                "arn:aws:kinesis:us-east-1:000000000000:stream/clicks/consumer/reader:1700000000",
            ),
            (
                a.function("resize"),
                "arn:aws:lambda:us-east-1:000000000000:function:resize",
            ),
            (
                a.function_qualified("resize", "7"),
                "arn:aws:lambda:us-east-1:000000000000:function:resize:7",
            ),
            (
                a.function_qualified("resize", "live"),
                "arn:aws:lambda:us-east-1:000000000000:function:resize:live",
            ),
            (
                a.event_source_mapping("14e0db71-5d35-4eb5-b481-8945cf9d10c2"),
                "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:14e0db71-5d35-4eb5-b481-8945cf9d10c2",
            ),
            (
                a.log_group("/aws/lambda/resize"),
                "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/resize",
            ),
            (
                a.role("/", "runner"),
                "arn:aws:iam::000000000000:role/runner",
            ),
            (
                a.role("/service-role/", "runner"),
                "arn:aws:iam::000000000000:role/service-role/runner",
            ),
            (
                a.pipe("orders"),
                "arn:aws:pipes:us-east-1:000000000000:pipe/orders",
            ),
        ];
        for (built, want) in cases {
            assert_eq!(built, want);
            let parsed = Arn::parse(&built).expect("parses");
            assert_eq!(parsed.partition, "aws");
            assert_eq!(parsed.account, "000000000000");
        }
    }

    #[test]
    fn event_side_arns_are_recognized_only_in_this_account_and_region() {
        let a = arns();
        assert_eq!(a.queue_in(&a.queue("jobs")), Some("jobs"));
        assert_eq!(a.queue_in("arn:aws:sqs:us-west-2:000000000000:jobs"), None);
        assert_eq!(a.topic_in(&a.topic("news")), Some("news"));
        assert_eq!(a.topic_in(&a.subscription("news", "1")), None);
        assert_eq!(
            a.subscription_in(&a.subscription("news", "1")),
            Some(("news", "1"))
        );
        assert_eq!(a.subscription_in(&a.topic("news")), None);
        assert_eq!(a.kinesis_stream_in(&a.kinesis_stream("c")), Some("c"));
        assert_eq!(a.kinesis_stream_in(&a.kinesis_consumer("c", "r", 1)), None);
        assert_eq!(a.function_in(&a.function("f")), Some(("f", None)));
        assert_eq!(
            a.function_in(&a.function_qualified("f", "$LATEST")),
            Some(("f", Some("$LATEST")))
        );
        assert_eq!(
            a.function_in("arn:aws:lambda:us-east-1:000000000000:function:"),
            None
        );
        assert_eq!(
            a.function_in("arn:aws:lambda:us-east-1:000000000000:function:f:1:2"),
            None
        );
        assert_eq!(
            a.role_in(&a.role("/service-role/", "runner")),
            Some(("/service-role/", "runner"))
        );
        assert_eq!(a.role_in(&a.role("/", "runner")), Some(("/", "runner")));
        assert_eq!(a.role_in("arn:aws:iam::123456789012:role/runner"), None);
        assert_eq!(a.pipe_in(&a.pipe("p")), Some("p"));
        assert_eq!(
            a.policy_in(&a.policy("/team/", "read")),
            Some((PolicyOwner::Account, "/team/", "read"))
        );
        assert_eq!(
            a.policy_in("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
            Some((
                PolicyOwner::Aws,
                "/service-role/",
                "AWSLambdaBasicExecutionRole"
            ))
        );
        assert_eq!(a.policy_in("arn:aws:iam::123456789012:policy/x"), None);
        assert_eq!(a.policy_in(&a.role("/", "x")), None);
        assert_eq!(
            a.log_group_in(&a.log_group("/aws/lambda/f")),
            Some("/aws/lambda/f")
        );
        assert_eq!(
            a.log_group_in(&format!("{}:*", a.log_group("g"))),
            Some("g")
        );
        assert_eq!(
            a.log_stream("g", "s"),
            "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s"
        );
        assert_eq!(
            a.pipe_in("arn:aws:pipes:us-east-1:000000000000:pipe/"),
            None
        );
    }

    #[test]
    fn arns_split_into_six_parts_keeping_the_resource_whole() {
        assert_eq!(
            Arn::parse("arn:aws:lambda:us-east-1:1:function:f:live"),
            Some(Arn {
                partition: "aws",
                service: "lambda",
                region: "us-east-1",
                account: "1",
                resource: "function:f:live"
            })
        );
        assert_eq!(
            Arn::parse("arn:aws:iam::1:role/r").map(|a| a.region),
            Some("")
        );
        assert_eq!(Arn::parse("arn:aws:sqs:us-east-1:1"), None);
        assert_eq!(Arn::parse("urn:aws:sqs:us-east-1:1:q"), None);
    }
}

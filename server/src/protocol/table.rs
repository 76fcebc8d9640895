//! The protocol table: every service on the port, how its requests are
//! recognized, and what it serves.
//!
//! A request is claimed by looking, in this order, at
//!
//! 1. its path: REST services own path prefixes (the Lambda API's dated
//!    paths, the Lambda Runtime API's `/2018-06-01/runtime/`, Pipes'
//!    `/v1/pipes`);
//! 2. a `POST` of a form (`application/x-www-form-urlencoded`): the query
//!    protocol, whose service is SQS for a queue URL path
//!    (`/<account>/<queue>`) and otherwise the one the SigV4 credential
//!    scope names (SNS, IAM and SQS all post to `/`);
//! 3. a `POST` with an `X-Amz-Target`: the awsJson service whose target
//!    prefix it starts with, if it takes the request's content type;
//! 4. anything else: DynamoDB's answers, which are what this port gave
//!    before it served anything else (`docs/protocol.md`).
//!
//! A claimed request names an operation; a service answers every
//! operation outside its [`Service::operations`] with its protocol's
//! unknown-operation error, so a service registered with no operations is
//! a complete, if useless, member of the table.

pub use super::failure::Protocol;
use super::failure::{ErrorStyle, UnknownAction, AWS_FAULT_NAMESPACE};
use super::reply::{CBOR_1_1, JSON, JSON_1_0, JSON_1_1};

/// Which service a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceId {
    /// DynamoDB (`DynamoDB_20120810`).
    DynamoDb,
    /// DynamoDB Streams (`DynamoDBStreams_20120810`).
    DynamoDbStreams,
    /// SQS, over awsJson1_0 (`AmazonSQS`) or its older query protocol.
    Sqs,
    /// SNS, query protocol.
    Sns,
    /// IAM (roles for functions), query protocol.
    Iam,
    /// Kinesis Data Streams (`Kinesis_20131202`), JSON or CBOR.
    Kinesis,
    /// CloudWatch Logs (`Logs_20140328`), function logs.
    Logs,
    /// The Lambda API, REST-JSON.
    Lambda,
    /// The Lambda Runtime API that function processes call, unsigned.
    LambdaRuntime,
    /// EventBridge Pipes, REST-JSON.
    Pipes,
}

/// One service of the table: what a new service provides.
#[derive(Debug)]
pub struct Service {
    /// Which one.
    pub id: ServiceId,
    /// Its name in logs.
    pub name: &'static str,
    /// The service its SigV4 credential scope names.
    pub signing_name: &'static str,
    /// awsJson: the `X-Amz-Target` prefix, dot included; empty otherwise.
    pub target_prefix: &'static str,
    /// awsJson: the JSON content types it takes (the first is its own).
    pub json_content_types: &'static [&'static str],
    /// awsJson 1.1: whether it also takes `application/x-amz-cbor-1.1`.
    pub cbor: bool,
    /// Its protocols: awsJson, query (SQS has both) or REST.
    pub protocols: &'static [Protocol],
    /// The query protocol's `Version`.
    pub api_version: &'static str,
    /// The operations it serves. Any other gets its protocol's
    /// unknown-operation error, before the signature is looked at.
    pub operations: &'static [&'static str],
    /// Whether its replies carry `x-amz-crc32` (DynamoDB's do).
    pub crc32: bool,
    /// Whether its requests must be signed (all but the Runtime API).
    pub signed: bool,
    /// How it words the errors every service shares.
    pub errors: ErrorStyle,
}

impl Service {
    /// Whether it serves `op`.
    pub fn serves(&self, op: &str) -> bool {
        self.operations.contains(&op)
    }

    /// The table entry of a service.
    pub fn of(id: ServiceId) -> &'static Service {
        // The table lists every id once; the fallback is never taken.
        SERVICES.iter().find(|s| s.id == id).unwrap_or(&SERVICES[0])
    }
}

/// DynamoDB and DynamoDB Streams: Coral's JSON framework errors, with
/// DynamoDB's wording (dynalite's AWS-verified connection tests).
const DYNAMODB_ERRORS: ErrorStyle = ErrorStyle {
    json_framework_namespace: "com.amazon.coral.service#",
    query_compatible: false,
    xml_namespace: AWS_FAULT_NAMESPACE,
    xml_framework_namespace: AWS_FAULT_NAMESPACE,
    xml_detail: false,
    missing_token_message: "Request is missing Authentication Token",
    unknown_action: UnknownAction::CoralQuery,
};

/// Kinesis and CloudWatch Logs send bare exception names
/// (kinesalite's AWS-verified tests; an AWS capture of Logs'
/// `{"__type":"UnknownOperationException"}`).
const BARE_JSON_ERRORS: ErrorStyle = ErrorStyle {
    json_framework_namespace: "",
    missing_token_message: "Missing Authentication Token",
    ..DYNAMODB_ERRORS
};

/// Coral's query services: framework errors in the AWS fault namespace.
const fn coral_query_errors(xml_namespace: &'static str) -> ErrorStyle {
    ErrorStyle {
        json_framework_namespace: "",
        query_compatible: false,
        xml_namespace,
        xml_framework_namespace: AWS_FAULT_NAMESPACE,
        xml_detail: false,
        missing_token_message: "Request is missing Authentication Token",
        unknown_action: UnknownAction::CoralQuery,
    }
}

/// REST services: `{"message": …}` bodies.
const REST_ERRORS: ErrorStyle = ErrorStyle {
    json_framework_namespace: "",
    missing_token_message: "Missing Authentication Token",
    ..DYNAMODB_ERRORS
};

/// Every service on the port. DynamoDB comes first: its target prefix is
/// the first one a request is matched against.
pub static SERVICES: [Service; 10] = [
    Service {
        id: ServiceId::DynamoDb,
        name: "dynamodb",
        signing_name: "dynamodb",
        target_prefix: "DynamoDB_20120810.",
        json_content_types: &[JSON_1_0, JSON],
        cbor: false,
        protocols: &[Protocol::AwsJson1_0],
        api_version: "2012-08-10",
        operations: crate::dynamodb::OPERATIONS,
        crc32: true,
        signed: true,
        errors: DYNAMODB_ERRORS,
    },
    Service {
        id: ServiceId::DynamoDbStreams,
        name: "dynamodbstreams",
        // Streams requests are signed for DynamoDB.
        signing_name: "dynamodb",
        target_prefix: "DynamoDBStreams_20120810.",
        json_content_types: &[JSON_1_0, JSON],
        cbor: false,
        protocols: &[Protocol::AwsJson1_0],
        api_version: "2012-08-10",
        operations: crate::streams::OPERATIONS,
        crc32: true,
        signed: true,
        errors: DYNAMODB_ERRORS,
    },
    Service {
        id: ServiceId::Sqs,
        name: "sqs",
        signing_name: "sqs",
        target_prefix: "AmazonSQS.",
        json_content_types: &[JSON_1_0],
        cbor: false,
        protocols: &[Protocol::AwsJson1_0, Protocol::AwsQuery],
        api_version: "2012-11-05",
        operations: crate::sqs::OPERATIONS,
        crc32: false,
        signed: true,
        errors: ErrorStyle {
            json_framework_namespace: "com.amazon.coral.service#",
            query_compatible: true,
            xml_namespace: "http://queue.amazonaws.com/doc/2012-11-05/",
            xml_framework_namespace: "http://queue.amazonaws.com/doc/2012-11-05/",
            xml_detail: true,
            missing_token_message: "Request is missing Authentication Token",
            unknown_action: UnknownAction::Sqs,
        },
    },
    Service {
        id: ServiceId::Sns,
        name: "sns",
        signing_name: "sns",
        target_prefix: "",
        json_content_types: &[],
        cbor: false,
        protocols: &[Protocol::AwsQuery],
        api_version: "2010-03-31",
        operations: &[],
        crc32: false,
        signed: true,
        errors: coral_query_errors("http://sns.amazonaws.com/doc/2010-03-31/"),
    },
    Service {
        id: ServiceId::Iam,
        name: "iam",
        signing_name: "iam",
        target_prefix: "",
        json_content_types: &[],
        cbor: false,
        protocols: &[Protocol::AwsQuery],
        api_version: "2010-05-08",
        operations: crate::iam::OPERATIONS,
        crc32: false,
        signed: true,
        errors: coral_query_errors("https://iam.amazonaws.com/doc/2010-05-08/"),
    },
    Service {
        id: ServiceId::Kinesis,
        name: "kinesis",
        signing_name: "kinesis",
        target_prefix: "Kinesis_20131202.",
        json_content_types: &[JSON_1_1],
        cbor: true,
        protocols: &[Protocol::AwsJson1_1],
        api_version: "2013-12-02",
        operations: &[],
        crc32: false,
        signed: true,
        errors: BARE_JSON_ERRORS,
    },
    Service {
        id: ServiceId::Logs,
        name: "logs",
        signing_name: "logs",
        target_prefix: "Logs_20140328.",
        json_content_types: &[JSON_1_1],
        cbor: false,
        protocols: &[Protocol::AwsJson1_1],
        api_version: "2014-03-28",
        operations: crate::logs::OPERATIONS,
        crc32: false,
        signed: true,
        errors: BARE_JSON_ERRORS,
    },
    Service {
        id: ServiceId::Lambda,
        name: "lambda",
        signing_name: "lambda",
        target_prefix: "",
        json_content_types: &[],
        cbor: false,
        protocols: &[Protocol::RestJson],
        api_version: "2015-03-31",
        operations: crate::lambda::OPERATIONS,
        crc32: false,
        signed: true,
        errors: REST_ERRORS,
    },
    Service {
        id: ServiceId::LambdaRuntime,
        name: "lambda-runtime",
        signing_name: "",
        target_prefix: "",
        json_content_types: &[],
        cbor: false,
        protocols: &[Protocol::RuntimeApi],
        api_version: "2018-06-01",
        operations: crate::lambda::RUNTIME_OPERATIONS,
        crc32: false,
        signed: false,
        errors: REST_ERRORS,
    },
    Service {
        id: ServiceId::Pipes,
        name: "pipes",
        signing_name: "pipes",
        target_prefix: "",
        json_content_types: &[],
        cbor: false,
        protocols: &[Protocol::RestJson],
        api_version: "2015-10-07",
        operations: &[],
        crc32: false,
        signed: true,
        errors: REST_ERRORS,
    },
];

/// A request body's media type, from `Content-Type` (parameters ignored,
/// case-insensitive, as DynamoDB reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/json`.
    Json,
    /// `application/x-amz-json-1.0`.
    AmzJson10,
    /// `application/x-amz-json-1.1`.
    AmzJson11,
    /// `application/x-amz-cbor-1.1`.
    AmzCbor11,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// Anything else, or no `Content-Type`.
    Other,
}

impl Media {
    /// Reads a `Content-Type` value without allocating.
    pub fn of(value: Option<&[u8]>) -> Media {
        let Some(value) = value else {
            return Media::Other;
        };
        let essence = value
            .split(|b| *b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let is = |name: &str| essence.eq_ignore_ascii_case(name.as_bytes());
        if is(JSON_1_0) {
            Media::AmzJson10
        } else if is(JSON) {
            Media::Json
        } else if is(JSON_1_1) {
            Media::AmzJson11
        } else if is(CBOR_1_1) {
            Media::AmzCbor11
        } else if is("application/x-www-form-urlencoded") {
            Media::Form
        } else {
            Media::Other
        }
    }

    /// The content type of a reply to a request of this media type.
    pub fn reply_type(self) -> &'static str {
        match self {
            Media::AmzJson10 => JSON_1_0,
            Media::AmzJson11 => JSON_1_1,
            Media::AmzCbor11 => CBOR_1_1,
            Media::Json | Media::Form | Media::Other => JSON,
        }
    }

    /// The content type as `Service::json_content_types` lists it.
    fn name(self) -> Option<&'static str> {
        match self {
            Media::Json => Some(JSON),
            Media::AmzJson10 => Some(JSON_1_0),
            Media::AmzJson11 => Some(JSON_1_1),
            Media::AmzCbor11 => Some(CBOR_1_1),
            Media::Form | Media::Other => None,
        }
    }
}

/// The awsJson service an `X-Amz-Target` names, if it takes `media`, and
/// the operation after its prefix. DynamoDB's prefix is tried first, so
/// its requests cost one prefix comparison.
pub fn json_service(target: &str, media: Media) -> Option<(&'static Service, &str)> {
    for service in SERVICES.iter().filter(|s| !s.target_prefix.is_empty()) {
        if let Some(op) = target.strip_prefix(service.target_prefix) {
            let takes = match media {
                Media::AmzCbor11 => service.cbor,
                other => other
                    .name()
                    .is_some_and(|n| service.json_content_types.contains(&n)),
            };
            return takes.then_some((service, op));
        }
    }
    None
}

/// The REST service that owns `path`, if any: the Lambda Runtime API's
/// `/2018-06-01/runtime/`, Pipes' `/v1/pipes` (and `/tags/` of a pipe's
/// ARN), and the Lambda API's dated paths (`/2015-03-31/functions`,
/// `/2017-03-31/tags/…`, `/2018-10-31/layers`, …).
pub fn rest_service(path: &str) -> Option<&'static Service> {
    if path.len() < 2 {
        return None;
    }
    // Function instances reach the Runtime API on their own port, which
    // puts `/lambda-runtime/<token>` before the path (`lambda::Endpoints`).
    if path.starts_with("/2018-06-01/runtime/") || path.starts_with("/lambda-runtime/") {
        return Some(Service::of(ServiceId::LambdaRuntime));
    }
    if path == "/v1/pipes" || path.starts_with("/v1/pipes/") {
        return Some(Service::of(ServiceId::Pipes));
    }
    if let Some(arn) = path.strip_prefix("/tags/") {
        if arn.starts_with("arn:aws:pipes:") || arn.starts_with("arn%3Aaws%3Apipes%3A") {
            return Some(Service::of(ServiceId::Pipes));
        }
    }
    // The Lambda API versions its paths by date: `/YYYY-MM-DD/...`.
    let dated = path.as_bytes().get(1..12).is_some_and(|d| {
        d.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'/',
            _ => b.is_ascii_digit(),
        })
    });
    dated.then(|| Service::of(ServiceId::Lambda))
}

/// The query-protocol service a credential scope names.
pub fn query_service(signing_name: &str) -> Option<&'static Service> {
    SERVICES
        .iter()
        .find(|s| s.protocols.contains(&Protocol::AwsQuery) && s.signing_name == signing_name)
}

/// Whether `path` is an SQS queue URL's path, `/<12-digit account>/<queue>`,
/// which the query protocol posts to.
pub fn is_queue_path(path: &str) -> bool {
    let Some((account, queue)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
        return false;
    };
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !queue.is_empty()
        && !queue.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_is_in_the_table_once() {
        for (i, s) in SERVICES.iter().enumerate() {
            assert_eq!(Service::of(s.id).id, s.id);
            assert!(
                SERVICES[i + 1..].iter().all(|o| o.id != s.id),
                "{:?} twice",
                s.id
            );
        }
    }

    #[test]
    fn targets_find_their_service_when_the_media_type_fits() {
        let find = |t, m| json_service(t, m).map(|(s, op)| (s.id, op));
        assert_eq!(
            find("DynamoDB_20120810.GetItem", Media::AmzJson10),
            Some((ServiceId::DynamoDb, "GetItem"))
        );
        assert_eq!(
            find("DynamoDBStreams_20120810.GetRecords", Media::Json),
            Some((ServiceId::DynamoDbStreams, "GetRecords"))
        );
        assert_eq!(
            find("AmazonSQS.ListQueues", Media::AmzJson10),
            Some((ServiceId::Sqs, "ListQueues"))
        );
        assert_eq!(
            find("Kinesis_20131202.ListStreams", Media::AmzCbor11),
            Some((ServiceId::Kinesis, "ListStreams"))
        );
        assert_eq!(
            find("Logs_20140328.CreateLogGroup", Media::AmzJson11),
            Some((ServiceId::Logs, "CreateLogGroup"))
        );
        // DynamoDB does not take JSON 1.1; Kinesis does not take 1.0.
        assert_eq!(find("DynamoDB_20120810.GetItem", Media::AmzJson11), None);
        assert_eq!(find("Kinesis_20131202.ListStreams", Media::AmzJson10), None);
        assert_eq!(find("Logs_20140328.X", Media::AmzCbor11), None);
        assert_eq!(find("whatever", Media::AmzJson10), None);
    }

    #[test]
    fn rest_paths_find_their_service() {
        let find = |p| rest_service(p).map(|s| s.id);
        assert_eq!(find("/2015-03-31/functions/"), Some(ServiceId::Lambda));
        assert_eq!(find("/2017-03-31/tags/arn"), Some(ServiceId::Lambda));
        assert_eq!(
            find("/2018-06-01/runtime/invocation/next"),
            Some(ServiceId::LambdaRuntime)
        );
        assert_eq!(find("/v1/pipes"), Some(ServiceId::Pipes));
        assert_eq!(find("/v1/pipes/p/start"), Some(ServiceId::Pipes));
        assert_eq!(
            find("/tags/arn%3Aaws%3Apipes%3Aus-east-1%3A1%3Apipe%2Fp"),
            Some(ServiceId::Pipes)
        );
        for other in [
            "/",
            "",
            "/v1/pipesx",
            "/2015-03-31",
            "/20150-3-31/x",
            "/foo",
        ] {
            assert_eq!(find(other), None, "{other}");
        }
    }

    #[test]
    fn media_types_ignore_parameters_and_case() {
        assert_eq!(
            Media::of(Some(b"application/x-amz-json-1.0")),
            Media::AmzJson10
        );
        assert_eq!(
            Media::of(Some(b"  application/json  ;   asfd")),
            Media::Json
        );
        assert_eq!(Media::of(Some(b"APPLICATION/JSON;")), Media::Json);
        assert_eq!(
            Media::of(Some(b"application/x-www-form-urlencoded; charset=utf-8")),
            Media::Form
        );
        assert_eq!(Media::of(Some(b"application/jsonasdf")), Media::Other);
        assert_eq!(Media::of(None), Media::Other);
    }

    #[test]
    fn queue_paths_have_an_account_and_a_name() {
        assert!(is_queue_path("/000000000000/jobs"));
        assert!(!is_queue_path("/000000000000/"));
        assert!(!is_queue_path("/00000000000/jobs"));
        assert!(!is_queue_path("/000000000000/jobs/x"));
        assert!(!is_queue_path("/"));
    }
}

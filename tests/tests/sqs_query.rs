//! SQS over the query protocol (form posts, XML replies), as older SDKs
//! (Java v1, boto before 1.28.82) speak it, through raw HTTP; and the JSON
//! protocol's error shape on the wire.

use tarn_tests::{send_raw, RawRequest, RawResponse, Server};

fn form(path: &str, body: &str) -> RawRequest {
    RawRequest {
        method: "POST".to_owned(),
        path: path.to_owned(),
        headers: vec![(
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        )],
        body: body.as_bytes().to_vec(),
        signed_for: None,
    }
    .signed_for("sqs")
}

fn json(target: &str, body: &str) -> RawRequest {
    RawRequest::post(Some(target), body).signed_for("sqs")
}

/// The text of the first `<tag>` element.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

fn ok(r: &RawResponse) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/xml"));
}

#[tokio::test]
async fn the_query_protocol_serves_queues_and_messages_in_xml() {
    let server = Server::start();
    let r = send_raw(
        &server,
        &form(
            "/",
            "Action=CreateQueue&QueueName=legacy&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=7&Version=2012-11-05",
        ),
    )
    .await;
    ok(&r);
    assert!(
        r.body
            .contains("<CreateQueueResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"),
        "{}",
        r.body
    );
    let url = element(&r.body, "QueueUrl").expect("QueueUrl").to_owned();
    assert_eq!(url, format!("{}/000000000000/legacy", server.endpoint));
    assert!(element(&r.body, "RequestId").is_some_and(|id| id.len() == 52));

    // Posted to the queue URL's path, no QueueUrl parameter needed.
    let r = send_raw(
        &server,
        &form(
            "/000000000000/legacy",
            "Action=SendMessage&MessageBody=a%3Cb%26c&MessageAttribute.1.Name=timestamp&MessageAttribute.1.Value.DataType=Number&MessageAttribute.1.Value.StringValue=1493147359900",
        ),
    )
    .await;
    ok(&r);
    assert_eq!(
        element(&r.body, "MD5OfMessageAttributes"),
        Some("235c5c510d26fb653d073faed50ae77c")
    );
    let r = send_raw(
        &server,
        &form(
            "/",
            &format!(
                "Action=ReceiveMessage&QueueUrl={}&AttributeName.1=All&MessageAttributeName.1=All",
                form_escape(&url)
            ),
        ),
    )
    .await;
    ok(&r);
    assert_eq!(element(&r.body, "Body"), Some("a&lt;b&amp;c"));
    assert!(
        r.body.contains(
            "<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>"
        ),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<MessageAttribute><Name>timestamp</Name><Value><DataType>Number</DataType><StringValue>1493147359900</StringValue></Value></MessageAttribute>"),
        "{}",
        r.body
    );
    let handle = element(&r.body, "ReceiptHandle")
        .expect("handle")
        .to_owned();
    let r = send_raw(
        &server,
        &form(
            "/000000000000/legacy",
            &format!(
                "Action=DeleteMessage&ReceiptHandle={}",
                form_escape(&handle)
            ),
        ),
    )
    .await;
    ok(&r);
    assert!(r.body.contains("<DeleteMessageResponse"), "{}", r.body);
    assert!(!r.body.contains("DeleteMessageResult"), "{}", r.body);

    let r = send_raw(
        &server,
        &form(
            "/000000000000/legacy",
            "Action=SendMessageBatch&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y&SendMessageBatchRequestEntry.2.DelaySeconds=901",
        ),
    )
    .await;
    ok(&r);
    assert!(
        r.body.contains("<SendMessageBatchResultEntry><Id>a</Id>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<BatchResultErrorEntry><Code>InvalidParameterValue</Code>"),
        "{}",
        r.body
    );

    let r = send_raw(
        &server,
        &form(
            "/000000000000/legacy",
            "Action=GetQueueAttributes&AttributeName.1=VisibilityTimeout&AttributeName.2=ApproximateNumberOfMessages",
        ),
    )
    .await;
    ok(&r);
    assert!(
        r.body
            .contains("<Attribute><Name>VisibilityTimeout</Name><Value>7</Value></Attribute>"),
        "{}",
        r.body
    );
    let r = send_raw(&server, &form("/", "Action=ListQueues&QueueNamePrefix=leg")).await;
    ok(&r);
    assert_eq!(element(&r.body, "QueueUrl"), Some(url.as_str()));
}

fn form_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn query_errors_are_sqs_error_responses() {
    let server = Server::start();
    let r = send_raw(
        &server,
        &form("/000000000000/missing", "Action=SendMessage&MessageBody=x"),
    )
    .await;
    assert_eq!(r.status, 400);
    let id = r.header("x-amzn-requestid").expect("request id").to_owned();
    assert_eq!(
        r.body,
        format!("<ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>AWS.SimpleQueueService.NonExistentQueue</Code>\n    <Message>The specified queue does not exist.</Message>\n    <Detail/>\n  </Error>\n  <RequestId>{id}</RequestId>\n</ErrorResponse>\n")
    );
    let r = send_raw(&server, &form("/", "Action=GetQueueUrl")).await;
    assert_eq!(r.status, 400);
    assert_eq!(element(&r.body, "Code"), Some("MissingParameter"));
    assert_eq!(
        element(&r.body, "Message"),
        Some("The request must contain the parameter QueueName.")
    );
    let r = send_raw(
        &server,
        &form(
            "/",
            "Action=CreateQueue&QueueName=a&Attribute.1.Name=Bogus&Attribute.1.Value=1",
        ),
    )
    .await;
    assert_eq!(element(&r.body, "Code"), Some("InvalidAttributeName"));
    assert_eq!(
        element(&r.body, "Message"),
        Some("Unknown Attribute Bogus.")
    );
}

#[tokio::test]
async fn json_errors_carry_the_query_code_header() {
    let server = Server::start();
    let r = send_raw(
        &server,
        &json("AmazonSQS.GetQueueUrl", r#"{"QueueName":"missing"}"#),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#
    );
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    // Not JSON: Coral's SerializationException.
    let r = send_raw(&server, &json("AmazonSQS.ListQueues", "{nope")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("SerializationException"), "{}", r.body);
    // A missing required member.
    let r = send_raw(
        &server,
        &json("AmazonSQS.SendMessage", r#"{"MessageBody":"x"}"#),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("MissingParameter;Sender")
    );
    assert!(
        r.body
            .contains("The request must contain the parameter QueueUrl."),
        "{}",
        r.body
    );
    // A successful reply with nothing to say is an empty object.
    let r = send_raw(&server, &json("AmazonSQS.ListQueues", "{}")).await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
}

#[tokio::test]
async fn queue_names_of_any_length_in_urls_are_just_missing_queues() {
    let server = Server::start();
    let long = "q".repeat(70_000);
    let r = send_raw(
        &server,
        &json(
            "AmazonSQS.SendMessage",
            &format!(r#"{{"QueueUrl":"http://h/000000000000/{long}","MessageBody":"x"}}"#),
        ),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
    let r = send_raw(
        &server,
        &json(
            "AmazonSQS.GetQueueUrl",
            &format!(r#"{{"QueueName":"{long}"}}"#),
        ),
    )
    .await;
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
}

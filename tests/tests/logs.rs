//! End-to-end tests of CloudWatch Logs, driven by the official
//! `aws-sdk-cloudwatchlogs`: groups and streams (create, describe with
//! prefixes, orders and paging, delete), PutLogEvents (rejected events,
//! ignored sequence tokens, order and span rules), GetLogEvents tokens
//! (both directions and the repeated-token end), FilterLogEvents (streams,
//! prefixes, time windows, patterns, paging, what `aws logs tail --follow`
//! does), retention and tags, with Logs' exception names and messages.
//! Shapes and messages: `docs/research/logs-and-iam.md`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, OrderBy};
use aws_sdk_cloudwatchlogs::Client;
use tarn_tests::{sdk_client, send_raw, service_error, RawRequest, Server};

fn client(server: &Server) -> Client {
    sdk_client!(aws_sdk_cloudwatchlogs, server.endpoint.as_str())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn ev(ts: i64, msg: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(ts)
        .message(msg)
        .build()
        .expect("event")
}

async fn group_and_stream(c: &Client, group: &str, stream: &str) {
    c.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("group");
    c.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .expect("stream");
}

async fn put(c: &Client, group: &str, stream: &str, events: Vec<InputLogEvent>) {
    c.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("put");
}

const NO_GROUP: (&str, &str) = (
    "ResourceNotFoundException",
    "The specified log group does not exist.",
);

fn pair(e: &(String, String)) -> (&str, &str) {
    (e.0.as_str(), e.1.as_str())
}

#[tokio::test]
async fn log_groups_are_created_described_by_prefix_in_pages_and_deleted() {
    let server = Server::start();
    let c = client(&server);
    for name in ["/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c", "other"] {
        c.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("create");
    }
    let e = service_error(c.create_log_group().log_group_name("other").send().await);
    assert_eq!(
        pair(&e),
        (
            "ResourceAlreadyExistsException",
            "The specified log group already exists"
        )
    );
    let e = service_error(c.create_log_group().log_group_name("bad name").send().await);
    assert_eq!(
        pair(&e),
        (
            "InvalidParameterException",
            "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )
    );

    let all = c.describe_log_groups().send().await.expect("describe");
    let names: Vec<_> = all
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c", "other"]
    );
    let g = &all.log_groups()[0];
    assert_eq!(
        g.arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/a:*")
    );
    assert_eq!(
        g.log_group_arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/a")
    );
    assert!(g.creation_time().is_some_and(|t| t > 0));
    assert_eq!(g.retention_in_days(), None);
    assert!(all.next_token().is_none());

    let listed = c
        .list_log_groups()
        .log_group_name_pattern("lambda/b")
        .send()
        .await
        .expect("list");
    let names: Vec<_> = listed
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap_or(""))
        .collect();
    assert_eq!(names, ["/aws/lambda/b"]);
    let listed = c
        .list_log_groups()
        .log_group_name_pattern("^oth|/c")
        .send()
        .await
        .expect("list");
    let names: Vec<_> = listed
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap_or(""))
        .collect();
    assert_eq!(names, ["/aws/lambda/c", "other"]);
    let described = c
        .describe_log_groups()
        .log_group_name_pattern("bda/a")
        .send()
        .await
        .expect("describe by pattern");
    assert_eq!(described.log_groups().len(), 1);
    let paged = c
        .describe_log_groups()
        .into_paginator()
        .page_size(3)
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    assert_eq!(paged.len(), 4);

    // Paging by prefix, two at a time.
    let first = c
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/")
        .limit(2)
        .send()
        .await
        .expect("page 1");
    assert_eq!(first.log_groups().len(), 2);
    let token = first.next_token().expect("more").to_owned();
    let second = c
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/")
        .limit(2)
        .next_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(second.log_groups().len(), 1);
    assert_eq!(
        second.log_groups()[0].log_group_name(),
        Some("/aws/lambda/c")
    );
    assert!(second.next_token().is_none());
    let e = service_error(c.describe_log_groups().limit(0).send().await);
    assert_eq!(
        pair(&e),
        (
            "InvalidParameterException",
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
    );
    let e = service_error(c.describe_log_groups().next_token("zz").send().await);
    assert_eq!(e.0, "InvalidParameterException");

    c.delete_log_group()
        .log_group_name("other")
        .send()
        .await
        .expect("delete");
    let e = service_error(c.delete_log_group().log_group_name("other").send().await);
    assert_eq!(pair(&e), NO_GROUP);
    let left = c.describe_log_groups().send().await.expect("describe");
    assert_eq!(left.log_groups().len(), 3);
}

#[tokio::test]
async fn log_streams_are_described_by_name_or_last_event_in_pages() {
    let server = Server::start();
    let c = client(&server);
    let g = "/aws/lambda/streams";
    let e = service_error(
        c.create_log_stream()
            .log_group_name(g)
            .log_stream_name("s")
            .send()
            .await,
    );
    assert_eq!(pair(&e), NO_GROUP);
    group_and_stream(&c, g, "b").await;
    for s in ["a", "c"] {
        c.create_log_stream()
            .log_group_name(g)
            .log_stream_name(s)
            .send()
            .await
            .expect("stream");
    }
    let e = service_error(
        c.create_log_stream()
            .log_group_name(g)
            .log_stream_name("a")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "ResourceAlreadyExistsException",
            "The specified log stream already exists"
        )
    );
    let e = service_error(
        c.create_log_stream()
            .log_group_name(g)
            .log_stream_name("x:y")
            .send()
            .await,
    );
    assert_eq!(e.0, "InvalidParameterException");
    let t = now_ms();
    put(&c, g, "c", vec![ev(t - 3000, "c")]).await;
    put(&c, g, "a", vec![ev(t - 1000, "a")]).await;
    put(&c, g, "b", vec![ev(t - 2000, "b")]).await;

    let by_name = c
        .describe_log_streams()
        .log_group_name(g)
        .send()
        .await
        .expect("describe");
    let names: Vec<_> = by_name
        .log_streams()
        .iter()
        .map(|s| s.log_stream_name().unwrap_or(""))
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    let a = &by_name.log_streams()[0];
    assert_eq!(a.first_event_timestamp(), Some(t - 1000));
    assert_eq!(a.last_event_timestamp(), Some(t - 1000));
    assert!(a.last_ingestion_time().is_some());
    assert_eq!(
        a.arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/streams:log-stream:a")
    );

    let latest = c
        .describe_log_streams()
        .log_group_identifier(g)
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .send()
        .await
        .expect("by time");
    let names: Vec<_> = latest
        .log_streams()
        .iter()
        .map(|s| s.log_stream_name().unwrap_or(""))
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    let oldest = c
        .describe_log_streams()
        .log_group_name(g)
        .order_by(OrderBy::LastEventTime)
        .send()
        .await
        .expect("by time");
    assert_eq!(oldest.log_streams()[0].log_stream_name(), Some("c"));

    let e = service_error(
        c.describe_log_streams()
            .log_group_name(g)
            .order_by(OrderBy::LastEventTime)
            .log_stream_name_prefix("a")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "InvalidParameterException",
            "Cannot order by LastEventTime with a logStreamNamePrefix."
        )
    );

    let page = c
        .describe_log_streams()
        .log_group_name(g)
        .limit(2)
        .send()
        .await
        .expect("page");
    assert_eq!(page.log_streams().len(), 2);
    let rest = c
        .describe_log_streams()
        .log_group_name(g)
        .limit(2)
        .next_token(page.next_token().expect("more"))
        .send()
        .await
        .expect("rest");
    assert_eq!(rest.log_streams().len(), 1);
    assert!(rest.next_token().is_none());
    let prefixed = c
        .describe_log_streams()
        .log_group_name(g)
        .log_stream_name_prefix("b")
        .send()
        .await
        .expect("prefix");
    assert_eq!(prefixed.log_streams().len(), 1);

    c.delete_log_stream()
        .log_group_name(g)
        .log_stream_name("b")
        .send()
        .await
        .expect("delete");
    let e = service_error(
        c.delete_log_stream()
            .log_group_name(g)
            .log_stream_name("b")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "ResourceNotFoundException",
            "The specified log stream does not exist."
        )
    );
    let events = c
        .filter_log_events()
        .log_group_name(g)
        .send()
        .await
        .expect("filter");
    let msgs: Vec<_> = events
        .events()
        .iter()
        .map(|e| e.message().unwrap_or(""))
        .collect();
    assert_eq!(msgs, ["c", "a"], "the deleted stream's events are gone");
    let e = service_error(
        c.describe_log_streams()
            .log_group_name("/nope")
            .send()
            .await,
    );
    assert_eq!(pair(&e), NO_GROUP);
}

#[tokio::test]
async fn put_log_events_reports_rejected_events_and_ignores_sequence_tokens() {
    let server = Server::start();
    let c = client(&server);
    let g = "puts";
    group_and_stream(&c, g, "s").await;
    let t = now_ms();
    let out = c
        .put_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .sequence_token("whatever-the-caller-had")
        .log_events(ev(t - 14 * 86_400_000 - 60_000, "too old"))
        .log_events(ev(t - 14 * 86_400_000 + 60_000, "old but fine"))
        .send()
        .await
        .expect("put");
    assert!(out.next_sequence_token().is_some());
    let info = out.rejected_log_events_info().expect("rejected");
    assert_eq!(info.too_old_log_event_end_index(), Some(1));
    assert_eq!(info.too_new_log_event_start_index(), None);
    let out = c
        .put_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .log_events(ev(t, "now"))
        .log_events(ev(t + 3 * 3_600_000, "too new"))
        .send()
        .await
        .expect("put");
    let info = out.rejected_log_events_info().expect("rejected");
    assert_eq!(info.too_new_log_event_start_index(), Some(1));
    let clean = c
        .put_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .log_events(ev(t, "fine"))
        .send()
        .await
        .expect("put");
    assert!(clean.rejected_log_events_info().is_none());
    let got = c
        .get_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .expect("get");
    let msgs: Vec<_> = got
        .events()
        .iter()
        .map(|e| e.message().unwrap_or(""))
        .collect();
    assert_eq!(msgs, ["old but fine", "now", "fine"]);

    let e = service_error(
        c.put_log_events()
            .log_group_name(g)
            .log_stream_name("s")
            .log_events(ev(t, "b"))
            .log_events(ev(t - 1, "a"))
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "InvalidParameterException",
            "Log events in a single PutLogEvents request must be in chronological order."
        )
    );
    let e = service_error(
        c.put_log_events()
            .log_group_name(g)
            .log_stream_name("s")
            .log_events(ev(t - 2 * 86_400_000, "a"))
            .log_events(ev(t, "b"))
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "InvalidParameterException",
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
        )
    );
    let e = service_error(
        c.put_log_events()
            .log_group_name(g)
            .log_stream_name("nope")
            .log_events(ev(t, "a"))
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "ResourceNotFoundException",
            "The specified log stream does not exist."
        )
    );
    let e = service_error(
        c.put_log_events()
            .log_group_name("nope")
            .log_stream_name("s")
            .log_events(ev(t, "a"))
            .send()
            .await,
    );
    assert_eq!(pair(&e), NO_GROUP);
    let e = service_error(
        c.put_log_events()
            .log_group_name(g)
            .log_stream_name("s")
            .set_log_events(Some(vec![]))
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "InvalidParameterException",
            "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    );
}

#[tokio::test]
async fn get_log_events_pages_both_ways_and_repeats_the_token_at_the_end() {
    let server = Server::start();
    let c = client(&server);
    let g = "gets";
    group_and_stream(&c, g, "s").await;
    c.create_log_stream()
        .log_group_name(g)
        .log_stream_name("other")
        .send()
        .await
        .expect("other");
    let t = now_ms() - 60_000;
    put(
        &c,
        g,
        "s",
        (0..5).map(|i| ev(t + i, &format!("e{i}"))).collect(),
    )
    .await;
    put(&c, g, "other", vec![ev(t + 2, "not mine")]).await;
    let msgs = |o: &aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput| {
        o.events()
            .iter()
            .map(|e| e.message().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };

    // From the head, two at a time, until the token comes back unchanged.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages < 10, "never ended");
        let out = c
            .get_log_events()
            .log_group_name(g)
            .log_stream_name("s")
            .start_from_head(true)
            .limit(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("get");
        seen.extend(msgs(&out));
        let next = out.next_forward_token().expect("forward").to_owned();
        assert!(next.starts_with("f/"), "{next}");
        if token.as_deref() == Some(next.as_str()) {
            assert!(out.events().is_empty());
            break;
        }
        token = Some(next);
    }
    assert_eq!(seen, ["e0", "e1", "e2", "e3", "e4"]);
    assert_eq!(pages, 4);
    // The SDK's paginator stops on the repeated token.
    let pages: Vec<_> = c
        .get_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .start_from_head(true)
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    let all: Vec<String> = pages.iter().flat_map(&msgs).collect();
    assert_eq!(all, ["e0", "e1", "e2", "e3", "e4"]);

    // Without startFromHead: the newest events, oldest first; then back.
    let tail = c
        .get_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .limit(2)
        .send()
        .await
        .expect("tail");
    assert_eq!(msgs(&tail), ["e3", "e4"]);
    let back = c
        .get_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .limit(2)
        .next_token(tail.next_backward_token().expect("backward"))
        .send()
        .await
        .expect("back");
    assert_eq!(msgs(&back), ["e1", "e2"]);
    let back2 = c
        .get_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .limit(2)
        .next_token(back.next_backward_token().expect("backward"))
        .send()
        .await
        .expect("back");
    assert_eq!(msgs(&back2), ["e0"]);
    let end = back2.next_backward_token().expect("backward").to_owned();
    let past = c
        .get_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .next_token(&end)
        .send()
        .await
        .expect("past the start");
    assert!(past.events().is_empty());
    assert_eq!(past.next_backward_token(), Some(end.as_str()));

    // A time window: start inclusive, end exclusive.
    let window = c
        .get_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .start_time(t + 1)
        .end_time(t + 3)
        .start_from_head(true)
        .send()
        .await
        .expect("window");
    assert_eq!(msgs(&window), ["e1", "e2"]);

    let e = service_error(
        c.get_log_events()
            .log_group_name(g)
            .log_stream_name("s")
            .next_token("x/123")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "InvalidParameterException",
            "The specified nextToken is invalid."
        )
    );
    let e = service_error(
        c.get_log_events()
            .log_group_name(g)
            .log_stream_name("nope")
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "ResourceNotFoundException",
            "The specified log stream does not exist."
        )
    );
}

#[tokio::test]
async fn filter_log_events_interleaves_streams_and_applies_patterns() {
    let server = Server::start();
    let c = client(&server);
    let g = "/aws/lambda/filtered";
    group_and_stream(&c, g, "2026/12/05/[$LATEST]aaa").await;
    c.create_log_stream()
        .log_group_name(g)
        .log_stream_name("2026/12/05/[$LATEST]bbb")
        .send()
        .await
        .expect("stream");
    c.create_log_stream()
        .log_group_name(g)
        .log_stream_name("other")
        .send()
        .await
        .expect("stream");
    let t = now_ms() - 60_000;
    put(
        &c,
        g,
        "2026/12/05/[$LATEST]aaa",
        vec![
            ev(t, "START RequestId: 1"),
            ev(t + 2, "ERROR timeout after 3s"),
            ev(t + 4, r#"{"level":"WARN","latency":250}"#),
        ],
    )
    .await;
    put(
        &c,
        g,
        "2026/12/05/[$LATEST]bbb",
        vec![ev(t + 1, "START RequestId: 2"), ev(t + 3, "ERROR retry")],
    )
    .await;
    put(&c, g, "other", vec![ev(t + 5, "other stream")]).await;
    let filter = |pattern: Option<&str>| {
        c.filter_log_events()
            .log_group_name(g)
            .set_filter_pattern(pattern.map(str::to_owned))
    };
    let msgs = |o: &aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput| {
        o.events()
            .iter()
            .map(|e| e.message().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    let all = filter(None).send().await.expect("all");
    assert_eq!(
        msgs(&all),
        [
            "START RequestId: 1",
            "START RequestId: 2",
            "ERROR timeout after 3s",
            "ERROR retry",
            r#"{"level":"WARN","latency":250}"#,
            "other stream"
        ]
    );
    assert_eq!(
        all.events()[1].log_stream_name(),
        Some("2026/12/05/[$LATEST]bbb")
    );
    assert!(all
        .events()
        .iter()
        .all(|e| e.event_id().is_some_and(|id| id.len() == 56)));
    assert_eq!(all.searched_log_streams().len(), 3);
    assert!(all
        .searched_log_streams()
        .iter()
        .all(|s| s.searched_completely() == Some(true)));
    assert!(all.next_token().is_none());

    for (pattern, want) in [
        ("ERROR", vec!["ERROR timeout after 3s", "ERROR retry"]),
        ("ERROR -retry", vec!["ERROR timeout after 3s"]),
        ("\"RequestId: 2\"", vec!["START RequestId: 2"]),
        (
            "?timeout ?retry",
            vec!["ERROR timeout after 3s", "ERROR retry"],
        ),
        (
            r#"{ $.latency > 200 }"#,
            vec![r#"{"level":"WARN","latency":250}"#],
        ),
        (r#"{ $.level = "ERROR" }"#, vec![]),
        (
            "[kind = START, id, n]",
            vec!["START RequestId: 1", "START RequestId: 2"],
        ),
    ] {
        let out = filter(Some(pattern)).send().await.expect("filter");
        assert_eq!(msgs(&out), want, "{pattern}");
    }
    let e = service_error(filter(Some("{ $.level = ")).send().await);
    assert_eq!(
        pair(&e),
        ("InvalidParameterException", "Invalid filter pattern")
    );

    let prefixed = c
        .filter_log_events()
        .log_group_name(g)
        .log_stream_name_prefix("2026/")
        .send()
        .await
        .expect("prefix");
    assert_eq!(prefixed.events().len(), 5);
    assert_eq!(prefixed.searched_log_streams().len(), 2);
    let named = c
        .filter_log_events()
        .log_group_name(g)
        .log_stream_names("other")
        .send()
        .await
        .expect("names");
    assert_eq!(msgs(&named), ["other stream"]);
    let e = service_error(
        c.filter_log_events()
            .log_group_name(g)
            .log_stream_names("other")
            .log_stream_name_prefix("o")
            .send()
            .await,
    );
    assert_eq!(e.0, "InvalidParameterException");
    let window = c
        .filter_log_events()
        .log_group_name(g)
        .start_time(t + 1)
        .end_time(t + 3)
        .send()
        .await
        .expect("window");
    assert_eq!(
        msgs(&window),
        ["START RequestId: 2", "ERROR timeout after 3s"]
    );

    // Paging: a token while more may match, none on the last page.
    let mut token = None;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let out = c
            .filter_log_events()
            .log_group_name(g)
            .limit(4)
            .set_next_token(token.take())
            .send()
            .await
            .expect("page");
        seen.extend(msgs(&out));
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, msgs(&all));
    let e = service_error(c.filter_log_events().log_group_name("/nope").send().await);
    assert_eq!(pair(&e), NO_GROUP);
}

/// What `aws logs tail GROUP --follow` does: FilterLogEvents with
/// `startTime` and `interleaved`, no token on the last page, then again
/// from the newest timestamp seen, skipping event ids it has shown.
#[tokio::test]
async fn tail_follow_sees_events_put_while_it_polls() {
    let server = Server::start();
    let c = client(&server);
    let g = "/aws/lambda/tailed";
    group_and_stream(&c, g, "s").await;
    let start = now_ms() - 600_000;
    put(&c, g, "s", vec![ev(now_ms() - 1000, "before")]).await;
    let writer = {
        let c = c.clone();
        tokio::spawn(async move {
            for i in 0..3 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                put(&c, g, "s", vec![ev(now_ms(), &format!("live {i}"))]).await;
            }
        })
    };
    let mut shown: Vec<String> = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut start_time = start;
    for _ in 0..50 {
        #[allow(deprecated)]
        let out = c
            .filter_log_events()
            .log_group_name(g)
            .interleaved(true)
            .start_time(start_time)
            .send()
            .await
            .expect("poll");
        assert!(out.next_token().is_none());
        for e in out.events() {
            if ids.insert(e.event_id().unwrap_or("").to_owned()) {
                shown.push(e.message().unwrap_or("").to_owned());
            }
            start_time = start_time.max(e.timestamp().unwrap_or(0));
        }
        if shown.len() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    writer.await.expect("writer");
    assert_eq!(shown, ["before", "live 0", "live 1", "live 2"]);
}

#[tokio::test]
async fn retention_hides_old_events_and_takes_only_allowed_values() {
    let server = Server::start();
    let c = client(&server);
    let g = "kept";
    group_and_stream(&c, g, "s").await;
    let t = now_ms();
    put(&c, g, "s", vec![ev(t - 3 * 86_400_000, "three days old")]).await;
    put(&c, g, "s", vec![ev(t, "fresh")]).await;
    let e = service_error(
        c.put_retention_policy()
            .log_group_name(g)
            .retention_in_days(4)
            .send()
            .await,
    );
    assert_eq!(
        pair(&e),
        (
            "InvalidParameterException",
            "1 validation error detected: Value '4' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"
        )
    );
    let e = service_error(
        c.put_retention_policy()
            .log_group_name("nope")
            .retention_in_days(1)
            .send()
            .await,
    );
    assert_eq!(pair(&e), NO_GROUP);
    c.put_retention_policy()
        .log_group_name(g)
        .retention_in_days(1)
        .send()
        .await
        .expect("retention");
    let groups = c.describe_log_groups().send().await.expect("describe");
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(1));
    let events = c
        .filter_log_events()
        .log_group_name(g)
        .send()
        .await
        .expect("filter");
    let msgs: Vec<_> = events
        .events()
        .iter()
        .map(|e| e.message().unwrap_or(""))
        .collect();
    assert_eq!(msgs, ["fresh"]);
    // An event older than the retention is rejected as expired.
    let out = c
        .put_log_events()
        .log_group_name(g)
        .log_stream_name("s")
        .log_events(ev(t - 86_400_000 - 10_000, "expired"))
        .log_events(ev(t - 86_400_000 + 60_000, "kept"))
        .send()
        .await
        .expect("put");
    assert_eq!(
        out.rejected_log_events_info()
            .and_then(|i| i.expired_log_event_end_index()),
        Some(1)
    );
    c.delete_retention_policy()
        .log_group_name(g)
        .send()
        .await
        .expect("delete retention");
    let groups = c.describe_log_groups().send().await.expect("describe");
    assert_eq!(groups.log_groups()[0].retention_in_days(), None);
    let events = c
        .filter_log_events()
        .log_group_name(g)
        .send()
        .await
        .expect("filter");
    assert_eq!(events.events().len(), 3);
}

#[tokio::test]
async fn log_group_tags_by_name_and_by_arn() {
    let server = Server::start();
    let c = client(&server);
    c.create_log_group()
        .log_group_name("tagged")
        .tags("team", "a")
        .send()
        .await
        .expect("create");
    #[allow(deprecated)]
    c.tag_log_group()
        .log_group_name("tagged")
        .tags("env", "dev")
        .send()
        .await
        .expect("tag");
    #[allow(deprecated)]
    let tags = c
        .list_tags_log_group()
        .log_group_name("tagged")
        .send()
        .await
        .expect("list");
    let tags = tags.tags().expect("tags");
    assert_eq!(tags.get("team").map(String::as_str), Some("a"));
    assert_eq!(tags.get("env").map(String::as_str), Some("dev"));
    let arn = "arn:aws:logs:us-east-1:000000000000:log-group:tagged";
    c.untag_resource()
        .resource_arn(arn)
        .tag_keys("team")
        .send()
        .await
        .expect("untag");
    c.tag_resource()
        .resource_arn(arn)
        .tags("owner", "me")
        .send()
        .await
        .expect("tag");
    let out = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list");
    let tags = out.tags().expect("tags");
    assert_eq!(tags.len(), 2);
    assert!(tags.contains_key("env") && tags.contains_key("owner"));
    let e = service_error(
        c.list_tags_for_resource()
            .resource_arn("arn:aws:logs:us-east-1:000000000000:log-group:nope")
            .send()
            .await,
    );
    assert_eq!(pair(&e), NO_GROUP);
    let e = service_error(
        c.tag_resource()
            .resource_arn(arn)
            .tags("aws:x", "y")
            .send()
            .await,
    );
    assert_eq!(e.0, "InvalidParameterException");
}

#[tokio::test]
async fn malformed_and_incomplete_requests_get_logs_errors() {
    let server = Server::start();
    let post = |body: &str| {
        RawRequest {
            body: body.as_bytes().to_vec(),
            ..RawRequest::post(Some("Logs_20140328.CreateLogGroup"), "")
        }
        .header("Content-Type", "application/x-amz-json-1.1")
        .signed_for("logs")
    };
    // The first Content-Type (DynamoDB's) is replaced by the one added.
    let mut r = post(r#"{}"#);
    r.headers
        .retain(|(n, v)| n != "Content-Type" || v.ends_with("1.1"));
    let resp = send_raw(&server, &r).await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.body,
        r#"{"__type":"InvalidParameterException","message":"1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null"}"#
    );
    let mut r = post(r#"{"logGroupName": 5}"#);
    r.headers
        .retain(|(n, v)| n != "Content-Type" || v.ends_with("1.1"));
    let resp = send_raw(&server, &r).await;
    assert_eq!(
        (resp.status, resp.body.as_str()),
        (400, r#"{"__type":"SerializationException"}"#)
    );
}

/// Acknowledged groups, streams and events survive a SIGKILL.
#[tokio::test]
async fn acknowledged_logs_survive_a_kill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &[]);
    let c = client(&server);
    group_and_stream(&c, "/aws/lambda/crash", "s").await;
    let t = now_ms();
    for i in 0..20 {
        put(
            &c,
            "/aws/lambda/crash",
            "s",
            vec![ev(t + i, &format!("m{i}"))],
        )
        .await;
    }
    c.put_retention_policy()
        .log_group_name("/aws/lambda/crash")
        .retention_in_days(7)
        .send()
        .await
        .expect("retention");
    server.kill();
    let server = Server::start_in(dir.path(), &[]);
    let c = client(&server);
    let groups = c.describe_log_groups().send().await.expect("describe");
    assert_eq!(groups.log_groups().len(), 1);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(7));
    let got = c
        .get_log_events()
        .log_group_name("/aws/lambda/crash")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .expect("get");
    assert_eq!(got.events().len(), 20);
    // New ids after the restart do not collide with old ones.
    c.create_log_stream()
        .log_group_name("/aws/lambda/crash")
        .log_stream_name("after")
        .send()
        .await
        .expect("stream");
    put(&c, "/aws/lambda/crash", "after", vec![ev(t, "new")]).await;
    let got = c
        .get_log_events()
        .log_group_name("/aws/lambda/crash")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .expect("get");
    assert_eq!(got.events().len(), 20);
}

//! Tests of the shared client pieces that need no server.

use std::cell::Cell;
use std::time::Duration;

use super::*;

#[test]
fn endpoints_keep_a_path_prefix_and_encode_queries() {
    let e = Endpoint::new("http://localhost:5341/", Some(" key ")).unwrap();
    assert_eq!(e.base(), "http://localhost:5341");
    assert_eq!(e.api_key.as_deref(), Some("key"));
    assert_eq!(
        e.url(
            "/api/events",
            &[("filter", "A = 'b c'&x"), ("count", "5"), ("clef", "")]
        ),
        "http://localhost:5341/api/events?filter=A+%3D+%27b+c%27%26x&count=5&clef"
    );
    let e = Endpoint::new("http://proxy/seq/", Some("  ")).unwrap();
    assert_eq!(e.url("/health", &[]), "http://proxy/seq/health");
    assert_eq!(e.api_key, None);
}

#[test]
fn bad_urls_are_refused_clearly() {
    for (url, why) in [
        ("localhost:5341", "http://"),
        ("not a url", "relative URL"),
        ("https://logs", "https is not supported"),
        ("ftp://logs", "http://"),
        ("http://logs/?x=1", "no query"),
    ] {
        let e = Endpoint::new(url, None).unwrap_err().to_string();
        assert!(e.contains(url) && e.contains(why), "{url}: {e}");
    }
}

#[test]
fn error_bodies_become_messages() {
    assert_eq!(
        error_message(400, br#"{"Error":"line 2: bad"}"#),
        "line 2: bad"
    );
    assert_eq!(error_message(502, b" Bad gateway \n"), "Bad gateway");
    assert_eq!(error_message(503, b""), "Service Unavailable");
    let long = vec![b'x'; 2000];
    assert_eq!(error_message(500, &long).len(), 500);
}

#[test]
fn only_transport_failures_and_server_errors_are_retried() {
    let status = |s| ClientError::Status {
        status: s,
        message: String::new(),
    };
    assert!(status(500).is_retryable());
    assert!(status(503).is_retryable());
    assert!(status(429).is_retryable());
    assert!(!status(400).is_retryable());
    assert!(!status(401).is_retryable());
    assert!(!status(413).is_retryable());
    let down = ClientError::Unreachable {
        url: "u".into(),
        reason: "refused".into(),
    };
    assert!(down.is_retryable());
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let p = RetryPolicy {
        attempts: 10,
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(500),
    };
    let waits: Vec<_> = (1..=5).map(|n| p.delay(n).as_millis()).collect();
    assert_eq!(waits, [100, 200, 400, 500, 500]);
    assert_eq!(p.delay(200), Duration::from_millis(500));
}

#[test]
fn retries_stop_at_success_at_a_final_error_or_after_the_attempts() {
    let p = RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
    };
    let down = || ClientError::Unreachable {
        url: "u".into(),
        reason: "refused".into(),
    };
    let calls = Cell::new(0);
    let retried = Cell::new(0);
    let result = block_on(p.run(
        || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                if n < 3 {
                    Err(down())
                } else {
                    Ok(n)
                }
            }
        },
        |_, _, _| retried.set(retried.get() + 1),
    ));
    assert_eq!((result.unwrap(), retried.get()), (3, 2));

    calls.set(0);
    let e = block_on(p.run(|| async { Err::<(), _>(down()) }, |_, _, _| {})).unwrap_err();
    assert_eq!(e.attempts, 3);
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");

    let e = block_on(p.run(
        || {
            calls.set(calls.get() + 1);
            async {
                Err::<(), _>(ClientError::Status {
                    status: 400,
                    message: "line 1: bad".into(),
                })
            }
        },
        |_, _, _| {},
    ))
    .unwrap_err();
    assert_eq!((e.attempts, calls.get()), (1, 1));
    assert_eq!(e.to_string(), "the server answered 400: line 1: bad");
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    // A port nothing listens on: bind one, then drop it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = Endpoint::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    let e = block_on(async { HttpClient::new(endpoint).get("/health", &[]).await }).unwrap_err();
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&format!("127.0.0.1:{port}/health")),
        "{e}"
    );
}

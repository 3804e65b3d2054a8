//! Tests of [`super::BatchReader`] and [`super::Batch::explain`].

use super::*;

fn batches(
    input: &str,
    format: Option<InputFormat>,
    size: usize,
) -> Result<Vec<Batch>, BatchError> {
    BatchReader::new(input.as_bytes(), format, size).collect()
}

fn bodies(b: &[Batch]) -> Vec<String> {
    b.iter()
        .map(|b| String::from_utf8(b.body.to_vec()).unwrap())
        .collect()
}

#[test]
fn formats_are_detected_from_the_first_line() {
    assert_eq!(InputFormat::detect(b"{\"@t\":\"x\"}"), InputFormat::Clef);
    assert_eq!(InputFormat::detect(b"{\"Events\":[]}"), InputFormat::Json);
    assert_eq!(
        InputFormat::detect(b"  { \"Events\" : []}"),
        InputFormat::Json
    );
    assert_eq!(
        InputFormat::detect(b"{\"Timestamp\":\"x\"}"),
        InputFormat::Clef
    );
}

#[test]
fn clef_lines_are_batched_with_their_line_numbers() {
    let input = "\u{feff}{\"@t\":\"a\"}\r\n\n{\"@t\":\"b\"}\n  \n{\"@t\":\"c\"}";
    let b = batches(input, None, 2).unwrap();
    assert_eq!(
        bodies(&b),
        ["{\"@t\":\"a\"}\n{\"@t\":\"b\"}\n", "{\"@t\":\"c\"}\n"]
    );
    assert_eq!(b[0].format, InputFormat::Clef);
    assert_eq!((b[0].events(), b[0].line_range()), (2, (1, 3)));
    assert_eq!((b[1].events(), b[1].line_range()), (1, (5, 5)));
    assert!(batches("", None, 10).unwrap().is_empty());
    assert!(batches("\n\n", None, 10).unwrap().is_empty());
}

#[test]
fn a_malformed_line_is_named_with_its_number() {
    let input = "{\"@t\":\"a\"}\n{\"@t\":\"b\"}\n{\"@t\": nope}\n";
    let mut r = BatchReader::new(input.as_bytes(), None, 1);
    assert!(r.next_batch().unwrap().is_some());
    assert!(r.next_batch().unwrap().is_some());
    let e = r.next_batch().unwrap_err().to_string();
    assert!(
        e.starts_with("line 3, column 9: malformed JSON: expected"),
        "{e}"
    );
    for (input, want) in [
        ("[1,2]", "line 1: not a JSON object"),
        (
            "{\"a\":1} {\"b\":2}",
            "line 1, column 9: malformed JSON: trailing characters",
        ),
        (
            "{\"a\":\"x",
            "line 1, column 7: malformed JSON: EOF while parsing a string",
        ),
        ("\"a\"\n", "line 1: not a JSON object"),
    ] {
        let e = batches(input, Some(InputFormat::Clef), 10)
            .unwrap_err()
            .to_string();
        assert_eq!(e, want);
    }
    let e = batches("{\"a\":\"\u{0}\"}", None, 10)
        .unwrap_err()
        .to_string();
    assert!(e.contains("control character"), "{e}");
}

#[test]
fn invalid_utf8_is_a_malformed_line() {
    let input: &[u8] = b"{\"@t\":\"a\"}\n{\"A\":\"\xff\"}\n";
    let e = BatchReader::new(input, None, 10)
        .next_batch()
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("line 2"), "{e}");
}

#[test]
fn legacy_documents_and_events_are_regrouped_into_batches() {
    let input = "{\"Events\":[{\"Timestamp\":\"1\"},{\"Timestamp\":\"2\"},{\"Timestamp\":\"3\"}]}\n{\"Timestamp\":\"4\"}\n";
    let b = batches(input, None, 2).unwrap();
    assert_eq!(
        bodies(&b),
        [
            "{\"Events\":[{\"Timestamp\":\"1\"},{\"Timestamp\":\"2\"}]}",
            "{\"Events\":[{\"Timestamp\":\"3\"},{\"Timestamp\":\"4\"}]}"
        ]
    );
    assert_eq!(b[1].format, InputFormat::Json);
    assert_eq!(b[1].line_range(), (1, 2));
    let b = batches("{\"Timestamp\":\"1\"}\n", Some(InputFormat::Json), 5).unwrap();
    assert_eq!(bodies(&b), ["{\"Events\":[{\"Timestamp\":\"1\"}]}"]);
    let e = batches("{\"Events\":{}}", None, 5).unwrap_err().to_string();
    assert!(e.starts_with("line 1") && e.contains("Events"), "{e}");
}

#[test]
fn large_events_close_a_body_before_the_limit() {
    let big = format!("{{\"@t\":\"a\",\"X\":\"{}\"}}\n", "x".repeat(3 << 20));
    let input = big.repeat(4);
    let b = batches(&input, None, 1000).unwrap();
    assert_eq!(b.iter().map(Batch::events).collect::<Vec<_>>(), [3, 1]);
}

#[test]
fn server_errors_are_traced_to_input_lines() {
    let b = batches(
        "{\"@t\":\"a\"}\n\n{\"@t\":\"b\"}\n{\"@t\":\"c\"}\n",
        None,
        10,
    )
    .unwrap();
    assert_eq!(b[0].explain("line 2: missing `@t`"), "line 3: missing `@t`");
    assert_eq!(
        b[0].explain("invalid body: line 3: x"),
        "invalid body: line 4: x"
    );
    assert_eq!(b[0].explain("line 9: x"), "line 9: x");
    assert_eq!(
        b[0].explain("an API key is required"),
        "an API key is required"
    );
    let input = "{\"Events\":[{\"a\":1}]}\n\n{\"Timestamp\":\"x\"}\n";
    let b = batches(input, None, 10).unwrap();
    assert_eq!(
        b[0].explain("event 1 (line 1): missing `Timestamp`"),
        "the event on line 3: missing `Timestamp`"
    );
}

//! Label values of the request metrics, each from a fixed set, so that no
//! client can create new series: the method is one of the standard ones or
//! `other`, the status a code this server answers with or its class
//! (`2xx` … `5xx`, else `other`). Routes are actix's matched patterns
//! (`/api/events/{id}`) or `unmatched`, never the raw path.

/// Methods counted under their own name.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"];

/// Statuses counted under their own code.
const STATUSES: [u16; 27] = [
    200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409, 411,
    413, 415, 416, 422, 429, 500, 502, 503,
];

/// The `method` label of a request method.
pub fn method(method: &str) -> &'static str {
    METHODS
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("other")
}

/// The `status` label of a response status.
pub fn status(code: u16) -> String {
    if STATUSES.contains(&code) {
        return code.to_string();
    }
    match code {
        100..=599 => format!("{}xx", code / 100),
        _ => "other".into(),
    }
}

/// The `route` label: the matched route pattern, or `unmatched`.
pub fn route(pattern: Option<String>) -> String {
    pattern.unwrap_or_else(|| "unmatched".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_methods_keep_their_name_and_any_other_is_other() {
        for m in METHODS {
            assert_eq!(method(m), m);
        }
        for m in ["FOOBAR", "get", "PROPFIND", "CONNECT", "TRACE", ""] {
            assert_eq!(method(m), "other", "{m}");
        }
    }

    #[test]
    fn known_statuses_keep_their_code_and_others_fall_into_their_class() {
        assert_eq!(status(200), "200");
        assert_eq!(status(503), "503");
        assert_eq!(status(418), "4xx");
        assert_eq!(status(299), "2xx");
        assert_eq!(status(101), "1xx");
        assert_eq!(status(599), "5xx");
        assert_eq!(status(600), "other");
        assert_eq!(status(999), "other");
    }

    #[test]
    fn a_request_no_route_matched_is_unmatched() {
        assert_eq!(route(None), "unmatched");
        assert_eq!(route(Some("/api/events/{id}".into())), "/api/events/{id}");
    }
}

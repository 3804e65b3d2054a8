//! The links the API generates (`Links` objects and `Location` headers):
//! relative (`api/signals/signal-1`) as Seq writes them, or absolute on
//! `api.canonicalUri` when it is set, so that every external link names the
//! public address (usually the load balancer's) rather than the node that
//! happened to answer — a follower proxies to its leader, and the leader's
//! links are canonical too.

use serde_json::Value;
use url::Url;

/// Where generated links point.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// The canonical URI, as a directory (its path ends in `/`).
    base: Option<Url>,
}

impl Links {
    /// Links on `canonical` when set (a base path such as `/seq` is kept),
    /// relative otherwise.
    pub fn new(canonical: Option<&Url>) -> Links {
        let base = canonical.map(|u| {
            let mut u = u.clone();
            if !u.path().ends_with('/') {
                let dir = format!("{}/", u.path());
                u.set_path(&dir);
            }
            u.set_query(None);
            u.set_fragment(None);
            u
        });
        Links { base }
    }

    /// The link to `path` (relative to the API's root, e.g. `api/events`).
    pub fn to(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        match &self.base {
            Some(base) => format!("{base}{path}"),
            None => path.to_owned(),
        }
    }

    /// `api/<collection>/<id>`: the link to one resource.
    pub fn resource(&self, collection: &str, id: &str) -> String {
        self.to(&format!("api/{collection}/{id}"))
    }

    /// `{"Self": <link to api/<collection>/<id>>}`.
    pub fn entity(&self, collection: &str, id: &str) -> Value {
        serde_json::json!({ "Self": self.resource(collection, id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_without_a_canonical_uri() {
        let links = Links::new(None);
        assert_eq!(links.to("api/events"), "api/events");
        assert_eq!(
            links.entity("signals", "signal-1"),
            serde_json::json!({"Self": "api/signals/signal-1"})
        );
    }

    #[test]
    fn links_are_absolute_on_the_canonical_uri() {
        let at = |u: &str| Links::new(Some(&Url::parse(u).unwrap()));
        assert_eq!(
            at("https://logs.example").resource("apikeys", "k1"),
            "https://logs.example/api/apikeys/k1"
        );
        assert_eq!(
            at("https://logs.example/seq").to("health"),
            "https://logs.example/seq/health"
        );
        assert_eq!(
            at("https://logs.example/seq/").to("/api"),
            "https://logs.example/seq/api"
        );
        assert_eq!(
            at("http://lb:8080/?x=1").to("metrics"),
            "http://lb:8080/metrics"
        );
    }
}

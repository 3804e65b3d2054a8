//! The admin web UI: plain HTML, CSS and ES modules embedded in the binary
//! (`assets/`), served by every node — on a follower through the proxy, like
//! every other request.
//!
//! - `GET /` → `index.html`, the single page; the UI routes with the URL
//!   fragment (`/#/events?filter=…`, `/#/events/event-…`,
//!   `/#/settings/cluster`, …) as Seq's does, so no other page path exists.
//! - `GET /ui/{file}` → the page's scripts, style sheet and icon.
//!
//! Every asset carries a strong `ETag` (its content hash) with
//! `Cache-Control: no-cache`, so browsers revalidate and get `304 Not
//! Modified` until the binary changes; answers are gzip-compressed when the
//! browser accepts it. These paths are public: the page itself asks the API
//! who is signed in and shows its login form when the API answers 401.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::middleware::Compress;
use actix_web::{web, HttpMessage as _, HttpRequest, HttpResponse};

use crate::api::ApiError;

/// One embedded file.
struct Asset {
    /// Its name under `/ui/` (`index.html` is served at `/`).
    name: &'static str,
    /// Its `Content-Type`.
    content_type: &'static str,
    /// Its bytes.
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("assets/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the UI consists of.
static ASSETS: [Asset; 12] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("events.js", JS),
    asset!("histogram.js", JS),
    asset!("signals.js", JS),
    asset!("cluster.js", JS),
    asset!("settings.js", JS),
    asset!("login.js", JS),
];

/// Each asset's entity tag, computed once from its bytes.
static TAGS: LazyLock<Vec<EntityTag>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let mut h = DefaultHasher::new();
            a.body.hash(&mut h);
            EntityTag::new_strong(format!("{:016x}", h.finish()))
        })
        .collect()
});

/// Routes of the UI: `/` and `/ui/{file}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Other methods: the API's 405 (a resource's own is an empty body).
    let other = || web::to(crate::api::not_found);
    cfg.service(
        web::resource("/")
            .wrap(Compress::default())
            .route(web::get().to(index))
            .default_service(other()),
    )
    .service(
        web::resource("/ui/{file}")
            .wrap(Compress::default())
            .route(web::get().to(file))
            .default_service(other()),
    );
}

/// The names of the files served under `/ui/`.
pub fn files() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.name)
}

async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, 0)
}

async fn file(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    ASSETS
        .iter()
        .position(|a| a.name == name.as_str())
        .map(|i| serve(&req, i))
        .ok_or_else(|| {
            ApiError::NotFound(format!("no UI file `{}`", crate::api::admin::clip(&name)))
        })
}

/// The asset at `i`, or `304` when the browser's copy is current.
fn serve(req: &HttpRequest, i: usize) -> HttpResponse {
    let (asset, tag) = (&ASSETS[i], &TAGS[i]);
    let current = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(tag)),
        None => false,
    };
    let mut res = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header(header::ETag(tag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if current {
        return res.finish();
    }
    if i == 0 {
        res.insert_header((header::X_FRAME_OPTIONS, "DENY"));
    }
    res.content_type(asset.content_type).body(asset.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{call_service, init_service, read_body, TestRequest};
    use actix_web::App;

    #[actix_web::test]
    async fn pages_are_served_and_revalidated() {
        let app = init_service(App::new().configure(configure)).await;
        let res = call_service(&app, TestRequest::get().uri("/").to_request()).await;
        assert_eq!(res.status(), 200);
        let tag = res.headers().get(header::ETAG).unwrap().clone();
        assert!(String::from_utf8_lossy(&read_body(res).await).contains("/ui/app.js"));
        let again = TestRequest::get()
            .uri("/")
            .insert_header((header::IF_NONE_MATCH, tag))
            .to_request();
        assert_eq!(call_service(&app, again).await.status(), 304);
        for a in &ASSETS[1..] {
            let uri = format!("/ui/{}", a.name);
            let res = call_service(&app, TestRequest::get().uri(&uri).to_request()).await;
            assert_eq!(res.status(), 200, "{uri}");
            let ct = res.headers().get(header::CONTENT_TYPE).unwrap();
            assert_eq!(ct.to_str().unwrap(), a.content_type);
        }
        let missing = TestRequest::get().uri("/ui/nope.js").to_request();
        assert_eq!(call_service(&app, missing).await.status(), 404);
    }

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        for a in &ASSETS {
            let text = String::from_utf8_lossy(a.body);
            let imports = text.match_indices("from './").map(|(i, _)| i + 8);
            let dynamic = text.match_indices("import('./").map(|(i, _)| i + 10);
            for at in imports.chain(dynamic) {
                let rest = &text[at..];
                let name = &rest[..rest.find('\'').unwrap_or(0)];
                assert!(
                    ASSETS.iter().any(|b| b.name == name),
                    "{} imports {name}, which is not embedded",
                    a.name
                );
            }
        }
    }
}

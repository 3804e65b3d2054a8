//! The permission table: every route the API registers, with the method and
//! what a caller needs to use it. It is the one place access is declared;
//! [`super::enforce`] applies it to every request, and a matched route that
//! is missing here is refused (deny by default) and logged.
//!
//! A unit test enumerates the routes `api::configure` registers and fails
//! when one has no entry here (or an entry names a route that does not
//! exist), so adding a route without deciding its permission fails the build.

use actix_web::http::Method;

use crate::api::admin::Permission;

/// What a request to a route needs when `auth.required` is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Anyone: health checks, the UI's files, the API root, logging in.
    Public,
    /// Ingestion, with Seq's semantics: a key with Ingest, or no key unless
    /// the server requires one (`ingestion.requireApiKey`); the handler
    /// decides, whether or not authentication is on.
    Ingest,
    /// A user session or API key holding this permission.
    Needs(Permission),
}

use Permission::{Project, Read, System, Write};
use Requirement::{Ingest, Needs, Public};

/// One row: method, route pattern (as actix reports it), requirement.
pub type Entry = (Method, &'static str, Requirement);

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

/// Every route of the HTTP API.
pub static ROUTES: &[Entry] = &[
    // Health and discovery.
    (GET, "/health", Public),
    (GET, "/health/cluster", Public),
    (GET, "/api", Public),
    (GET, "/api/", Public),
    // The OpenAPI document: the same for every install, no secrets.
    (GET, "/api/openapi.json", Public),
    (GET, "/metrics", Needs(Read)),
    // The web UI's page and files (the page asks the API who is signed in).
    (GET, "/", Public),
    (GET, "/ui/{file}", Public),
    // Sessions.
    (POST, "/api/users/login", Public),
    (POST, "/api/users/logout", Public),
    (GET, "/api/users/current", Public),
    // Users.
    (GET, "/api/users", Needs(System)),
    (POST, "/api/users", Needs(System)),
    (DELETE, "/api/users/{id}", Needs(System)),
    // Ingestion.
    (POST, "/api/events/raw", Ingest),
    (POST, "/ingest/clef", Ingest),
    (POST, "/ingest/otlp/v1/logs", Ingest),
    (POST, "/ingest/otlp/v1/traces", Ingest),
    // Events.
    (GET, "/api/events", Needs(Read)),
    (GET, "/api/events/", Needs(Read)),
    (GET, "/api/events/{id}", Needs(Read)),
    (GET, "/api/data", Needs(Read)),
    // API keys.
    (GET, "/api/apikeys", Needs(System)),
    (GET, "/api/apikeys/", Needs(System)),
    (POST, "/api/apikeys", Needs(System)),
    (POST, "/api/apikeys/", Needs(System)),
    (GET, "/api/apikeys/{id}", Needs(System)),
    (DELETE, "/api/apikeys/{id}", Needs(System)),
    // Signals.
    (GET, "/api/signals", Needs(Read)),
    (GET, "/api/signals/", Needs(Read)),
    (POST, "/api/signals", Needs(Write)),
    (POST, "/api/signals/", Needs(Write)),
    (GET, "/api/signals/{id}", Needs(Read)),
    (PUT, "/api/signals/{id}", Needs(Write)),
    (DELETE, "/api/signals/{id}", Needs(Write)),
    // Server settings.
    (GET, "/api/settings", Needs(Project)),
    (GET, "/api/settings/", Needs(Project)),
    (GET, "/api/settings/{name}", Needs(Project)),
    (PUT, "/api/settings/{name}", Needs(Project)),
    (DELETE, "/api/settings/{name}", Needs(Project)),
    // The cluster.
    (GET, "/api/cluster", Needs(Read)),
    (POST, "/api/cluster/demote", Needs(System)),
];

/// What `method` on the route `pattern` needs; `None` when the table has
/// no entry (the request is then refused). `HEAD` needs what `GET` needs.
pub fn requirement(method: &Method, pattern: &str) -> Option<Requirement> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| m == method && *p == pattern)
        .map(|(_, _, r)| *r)
}

#[cfg(test)]
mod tests;

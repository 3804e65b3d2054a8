//! Authentication and permissions (issue 6): who is calling and what they
//! may do, decided for every route in one place.
//!
//! - [`table`]: the permission table, route pattern + method → requirement.
//! - [`enforce`]: the middleware applying it when `auth.required` is on.
//! - [`session`]: `POST /api/users/login`, `POST /api/users/logout`,
//!   `GET /api/users/current` (the contract the web UI codes against).
//! - [`users`]: `GET/POST /api/users`, `DELETE /api/users/{id}`.
//! - [`throttle`]: failed logins per client address.
//!
//! Callers are API keys (`X-Seq-ApiKey` or `?apiKey=`, Seq's permission
//! set) and users (a session cookie; a role gives the permissions). Both are
//! resolved by [`crate::api::credentials::Credentials::principal`].

pub mod enforce;
pub mod session;
pub mod table;
pub mod throttle;
pub mod users;

use actix_web::web;

pub use enforce::enforce;

/// Routes of this module, under `/api/users`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/users")
            .app_data(crate::api::admin::json_config())
            .route("/login", web::post().to(session::login))
            .route("/logout", web::post().to(session::logout))
            .route("/current", web::get().to(session::current))
            .route("", web::get().to(users::list))
            .route("", web::post().to(users::create))
            .route("/{id}", web::delete().to(users::remove)),
    );
}

//! With `--token`, the viewer and its API ask for the same token as OTLP: scripts send
//! `Authorization: Bearer TOKEN`, browsers log in once at `/login`, which keeps the token in an
//! HttpOnly, SameSite=Strict cookie. Both are checked by `otlp::Auth` (constant time). Without a
//! token everything is open, as OTLP is.

use super::api::ApiError;
use super::assets;
use super::state::Viewer;
use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;

const COOKIE: &str = "agent_trace_token";

/// Lets a request through when no token is set, or it carries the token (header or cookie); else
/// an API request is answered 401 and a page request is sent to the login page.
pub async fn require_token(State(viewer): State<Viewer>, request: Request, next: Next) -> Response {
    if is_allowed(&viewer, request.headers()) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path.starts_with("/api/") {
        return ApiError::unauthorized().into_response();
    }
    let back_to = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str());
    let query = serde_urlencoded::to_string([("next", back_to)]).unwrap_or_default();
    Redirect::to(&format!("/login?{query}")).into_response()
}

fn is_allowed(viewer: &Viewer, headers: &HeaderMap) -> bool {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if viewer.auth.allows(authorization) {
        return true;
    }
    cookie_token(headers).is_some_and(|token| viewer.auth.allows(Some(&format!("Bearer {token}"))))
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE)
        .map(|cookie| cookie.value().to_string())
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    wrong: Option<String>,
}

/// The login form (or, without a token to ask for, the viewer itself).
pub async fn page(State(viewer): State<Viewer>, Query(query): Query<LoginQuery>) -> Response {
    if viewer.auth.allows(None) {
        return Redirect::to("/").into_response();
    }
    assets::login_page(query.wrong.is_some())
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// Checks the token and keeps it in the cookie, then goes back where the user was headed.
pub async fn log_in(
    State(viewer): State<Viewer>,
    Query(query): Query<LoginQuery>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_target(query.next.as_deref());
    if !viewer.auth.allows(Some(&format!("Bearer {}", form.token))) {
        let again =
            serde_urlencoded::to_string([("next", next), ("wrong", "1")]).unwrap_or_default();
        return Redirect::to(&format!("/login?{again}")).into_response();
    }
    let cookie = Cookie::build((COOKIE, form.token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build();
    (
        [(header::SET_COOKIE, cookie.to_string())],
        Redirect::to(next),
    )
        .into_response()
}

/// Forgets the token.
pub async fn log_out() -> Response {
    let cookie = Cookie::build((COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    (
        [(header::SET_COOKIE, cookie.to_string())],
        Redirect::to("/login"),
    )
        .into_response()
}

/// Only a path on this server: `next` comes from the URL, and must not send the user elsewhere.
fn local_target(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_only_sends_back_to_paths_on_this_server() {
        assert_eq!(local_target(Some("/traces/ab?span=1")), "/traces/ab?span=1");
        for elsewhere in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some(""),
        ] {
            assert_eq!(local_target(elsewhere), "/", "{elsewhere:?}");
        }
    }
}

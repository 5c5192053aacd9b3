//! With `--token`, the viewer and its API ask for the same token as OTLP: scripts send
//! `Authorization: Bearer TOKEN` (checked by `crate::auth`, which counts wrong tokens per client
//! address and throttles them), browsers log in once at `/login`, which starts a session
//! (`session`): the cookie holds only the session's random id, never the token; it is `HttpOnly`,
//! `SameSite=Strict`, `Path=/`, expires with the session (`Max-Age`), and under TLS is `Secure` and
//! named with the `__Host-` prefix (so no other site or subdomain can set it). A session is
//! accepted only while the token that opened it still is. Without a token everything is open, as
//! OTLP is.

use super::api::ApiError;
use super::assets;
use super::session::LIFETIME;
use super::state::Viewer;
use crate::auth::{self, Bearer, TokenDigest, Verdict};
use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;

/// The session cookie's name over plain HTTP.
const COOKIE: &str = "agent_trace_session";
/// Its name under TLS: browsers accept a `__Host-` cookie only with `Secure`, `Path=/` and no
/// Domain, from this very host.
const SECURE_COOKIE: &str = "__Host-agent_trace_session";

fn cookie_name(viewer: &Viewer) -> &'static str {
    if viewer.secure_cookies {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

/// Lets a request through when no token is set, or it carries a live session's cookie or the
/// token; else an API request is answered 401 and a page request is sent to the login page. A
/// client whose address sent too many wrong tokens is answered 429, its token unread.
pub async fn require_token(State(viewer): State<Viewer>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let api = path.starts_with("/api/");
    match access(&viewer, request.headers(), request.extensions(), path) {
        Verdict::Allowed => return next.run(request).await,
        Verdict::Throttled(throttled) => return refused(Verdict::Throttled(throttled), api),
        Verdict::Refused if api => return refused(Verdict::Refused, api),
        Verdict::Refused => {}
    }
    let back_to = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str());
    let query = serde_urlencoded::to_string([("next", back_to)]).unwrap_or_default();
    Redirect::to(&format!("/login?{query}")).into_response()
}

/// The answer to a request refused for its token: 429 with `Retry-After` when its address sent too
/// many wrong ones, else 401; as JSON for the API (`api`), as text for a page.
pub fn refused(verdict: Verdict, api: bool) -> Response {
    match verdict {
        Verdict::Throttled(throttled) => {
            let message = auth::throttled_message(&throttled);
            let mut response = if api {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    axum::Json(serde_json::json!({ "error": message })),
                )
                    .into_response()
            } else {
                (StatusCode::TOO_MANY_REQUESTS, message).into_response()
            };
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(throttled.seconds()));
            response
        }
        _ if api => ApiError::unauthorized().into_response(),
        _ => (StatusCode::UNAUTHORIZED, auth::UNAUTHORIZED).into_response(),
    }
}

/// Who may add a score with this request (`scores`): a live session's cookie first (opened with a
/// server's token, so the server), then a bearer token, the server's or a project's
/// (`crate::auth::Auth::check_bearer`); without either, anyone where the server asks for no token.
pub fn scorer(
    viewer: &Viewer,
    headers: &HeaderMap,
    extensions: &Extensions,
    path: &str,
) -> Result<Bearer, Verdict> {
    if viewer.auth.is_required()
        && let Some(id) = session_id(viewer, headers)
        && is_live(viewer, &id)
        && let Some(token) = viewer.sessions.token_of(&id)
    {
        return Ok(viewer
            .projects
            .project_of(token.bytes())
            .map_or(Bearer::Server, Bearer::Project));
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    viewer.auth.check_bearer(
        authorization,
        &viewer.projects,
        auth::peer(extensions),
        path,
    )
}

/// A live session's cookie first (a session id cannot be guessed, so it is not counted), then the
/// bearer token (which is).
fn access(viewer: &Viewer, headers: &HeaderMap, extensions: &Extensions, path: &str) -> Verdict {
    if !viewer.auth.is_required() {
        return Verdict::Allowed;
    }
    if session_id(viewer, headers).is_some_and(|id| is_live(viewer, &id)) {
        return Verdict::Allowed;
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    viewer
        .auth
        .check(authorization, auth::peer(extensions), path)
}

/// Whether the session is live and its token still accepted; one whose token was rotated away is
/// forgotten.
fn is_live(viewer: &Viewer, id: &str) -> bool {
    match viewer.sessions.token_of(id) {
        Some(token) if viewer.auth.accepts(&token) => true,
        Some(_) => {
            viewer.sessions.end(id);
            false
        }
        None => false,
    }
}

/// The session id of the request's cookie (the name this server gives it).
fn session_id(viewer: &Viewer, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(viewer);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_string())
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    wrong: Option<String>,
}

/// The login form (or, without a token to ask for, the viewer itself).
pub async fn page(State(viewer): State<Viewer>, Query(query): Query<LoginQuery>) -> Response {
    if !viewer.auth.is_required() {
        return Redirect::to("/").into_response();
    }
    assets::login_page(query.wrong.is_some())
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// Checks the token (counted and throttled per address like every other), starts a session and
/// sets its cookie, then goes back where the user was headed (on this server only).
pub async fn log_in(
    State(viewer): State<Viewer>,
    Query(query): Query<LoginQuery>,
    extensions: Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_target(query.next.as_deref());
    if !viewer.auth.is_required() {
        return Redirect::to(next).into_response();
    }
    match viewer
        .auth
        .check_token(&form.token, auth::peer(&extensions), "/login")
    {
        Verdict::Allowed => {}
        Verdict::Refused => {
            let again =
                serde_urlencoded::to_string([("next", next), ("wrong", "1")]).unwrap_or_default();
            return Redirect::to(&format!("/login?{again}")).into_response();
        }
        Verdict::Throttled(throttled) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, throttled.seconds().to_string())],
                auth::throttled_message(&throttled),
            )
                .into_response();
        }
    }
    let id = match viewer.sessions.start(TokenDigest::of(&form.token)) {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(target: "agent_trace::viewer", %error, "login failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not start a session",
            )
                .into_response();
        }
    };
    let max_age = cookie::time::Duration::seconds(LIFETIME.as_secs() as i64);
    (
        [(header::SET_COOKIE, session_cookie(&viewer, id, max_age))],
        Redirect::to(next),
    )
        .into_response()
}

/// The session cookie with every attribute it is set with (and cleared with).
fn session_cookie(viewer: &Viewer, value: String, max_age: cookie::time::Duration) -> String {
    Cookie::build((cookie_name(viewer), value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(viewer.secure_cookies)
        .max_age(max_age)
        .build()
        .to_string()
}

/// Ends the session (the server forgets it, so a copy of the cookie is worth nothing) and clears
/// the cookie.
pub async fn log_out(State(viewer): State<Viewer>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&viewer, &headers) {
        viewer.sessions.end(&id);
    }
    let cleared = session_cookie(&viewer, String::new(), cookie::time::Duration::ZERO);
    ([(header::SET_COOKIE, cleared)], Redirect::to("/login")).into_response()
}

/// Only a plain path on this server: `next` comes from the URL, and must not send the user
/// elsewhere. It starts with exactly one `/` (`//host` and `/\host` are other hosts to a browser)
/// and holds only visible ASCII: no control character or whitespace (browsers drop tabs and line
/// breaks from URLs, so `/\t/host` is `//host`), no backslash (read as `/`). Else `/`.
fn local_target(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
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
        for local in [
            "/",
            "/traces/ab?span=1",
            "/sessions",
            "/diff?a=1&b=2#x",
            "/%2F%2Fevil",
        ] {
            assert_eq!(local_target(Some(local)), local);
        }
        for elsewhere in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some("/\t/evil.example"),
            Some("/\n/evil.example"),
            Some("/\r\n/evil.example"),
            Some("/\u{0}/evil.example"),
            Some("/\u{7f}/evil.example"),
            Some("/ /evil.example"),
            Some("/\u{a0}/evil.example"),
            Some("/\u{2028}/evil.example"),
            Some("/traces\\..\\evil"),
            Some("/é"),
            Some("\t//evil.example"),
            Some("evil.example"),
            Some(""),
        ] {
            assert_eq!(local_target(elsewhere), "/", "{elsewhere:?}");
        }
        // Whatever comes out is a valid Location header.
        for next in ["/a\tb", "/a\nb", "/x"] {
            assert!(HeaderValue::from_str(local_target(Some(next))).is_ok());
        }
    }
}

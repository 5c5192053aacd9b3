//! The front end, embedded in the binary: `viewer/dist/` as `viewer/build.mjs` built it from
//! `viewer/src/` (committed; `scripts/check-viewer-bundle.sh` rebuilds it in `make test` and fails
//! if it differs). Pages are one HTML file whose script routes by the URL, so every deep link
//! (`/traces/ID?span=...`) is served the same page. A Content-Security-Policy allows nothing but
//! this server: no CDN, font or script from outside, so the viewer works offline.

use super::state::Viewer;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("../../../viewer/dist/index.html");
const LOGIN_HTML: &str = include_str!("../../../viewer/dist/login.html");

/// The files under /assets/: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../viewer/dist/assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../viewer/dist/assets/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../../viewer/dist/assets/favicon.svg"),
    ),
];

/// Only this server: scripts, styles, images, fetches and the live stream. Inline styles are
/// allowed (charts and bars are positioned with them); inline scripts are not.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Every page of the viewer: the app decides what to show from the URL. The page says whether this
/// server asks for a token, so that it offers to log out only then.
pub async fn app_page(State(viewer): State<Viewer>) -> Response {
    let page = if !viewer.auth.is_required() {
        INDEX_HTML.to_string()
    } else {
        INDEX_HTML.replace(
            r#"<meta name="agent-trace-login" content="none">"#,
            r#"<meta name="agent-trace-login" content="required">"#,
        )
    };
    html(StatusCode::OK, page)
}

/// The login form; `wrong` adds a fixed line saying the last token was not right.
pub fn login_page(wrong: bool) -> Response {
    let message = if wrong {
        r#"<p class="error" role="alert">That is not the token this server was started with.</p>"#
    } else {
        ""
    };
    html(
        StatusCode::OK,
        LOGIN_HTML.replace("<!--MESSAGE-->", message),
    )
}

pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

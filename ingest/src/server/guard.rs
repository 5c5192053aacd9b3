//! What a web page must not do to this server, checked in one place for the whole OTLP/HTTP port
//! (OTLP, the operator's endpoints, the viewer) before any handler runs. A browser on the same
//! machine can reach a loopback server; what it cannot do is choose two headers, and on those
//! the guard decides:
//!
//! - **Host**, when no token is configured: only a loopback name (`127.0.0.1` or any 127/8 or
//!   `::1` address, `localhost`, with or without a port, in any case) or the address the
//!   connection arrived at is served; anything else is 403. A page whose own name is rebound to
//!   127.0.0.1 (DNS rebinding) sends its own name as Host, so it can neither write nor read.
//! - **Origin** and **Sec-Fetch-Site**, always: a request whose `Origin` is not this server's own
//!   (`http[s]://` + its Host), or that the browser says is `cross-site` or `same-site` (another
//!   port of 127.0.0.1 is same-site), is 403. Browsers send these on what pages do (a `fetch`, a
//!   form); curl, the SDKs and gRPC clients send neither. `Origin: null` is refused unless the
//!   browser says `same-origin` (a page with `Referrer-Policy: no-referrer`, as the viewer's own
//!   pages have, sends `null` even to itself). A link followed from another site (a top-level GET
//!   navigation, which no script of that site can read) still opens the page.
//!
//! `/health` and `/ready` are left alone: load balancers call them, and they say only "ok". The
//! third defence, a body without a protobuf or JSON Content-Type refused 415 (a page's `fetch`
//! without a preflight can only send text/plain, form data or none), is OTLP/HTTP's reading of
//! the Content-Type (`crate::decode::encoding_of`). The gRPC port needs no guard: it speaks only
//! HTTP/2 with `application/grpc`, which no page can send without a preflight that is refused.

use super::connections::LocalAddr;
use crate::observe::{self, Transport};
use crate::otlp::http;
use crate::otlp::intake::{Intake, Refusal};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::time::Instant;

/// What the guard needs to know: the token (is one required?), the intake (OTLP's refusals and
/// log), and whether the port speaks TLS (this server's origin is then `https://`).
#[derive(Clone)]
pub struct Guard {
    intake: Intake,
    tls: bool,
}

impl Guard {
    pub fn new(intake: Intake, tls: bool) -> Self {
        Self { intake, tls }
    }
}

/// The middleware: lets a request through, or answers 403 in the words of the path it asked for.
pub async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    match guard.refusal(&request) {
        None => next.run(request).await,
        Some(why) => guard.refuse(&request, why, started),
    }
}

impl Guard {
    /// Why `request` is refused, if it is.
    fn refusal(&self, request: &Request) -> Option<String> {
        let path = request.uri().path();
        if path == "/health" || path == "/ready" {
            return None;
        }
        let headers = request.headers();
        let host = host_of(request);
        if !self.intake.auth().is_required() {
            let local = request.extensions().get::<LocalAddr>().map(|l| l.0.ip());
            if !host.is_some_and(|host| is_own_host(host, local)) {
                return Some(
                    "this server has no token, so it answers only requests addressed to a \
                     loopback name (127.0.0.1, localhost, [::1]) or its own address: a web page \
                     could reach it under a name of its own (DNS rebinding)"
                        .to_string(),
                );
            }
        }
        let site = header_str(headers, "sec-fetch-site").map(str::to_ascii_lowercase);
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("?");
            let own = host.is_some_and(|host| same_origin(origin, host, self.tls))
                // A page whose referrer policy is no-referrer (the viewer's) sends `Origin: null`
                // even to itself; its browser still says where the request comes from.
                || (origin == "null" && site.as_deref() == Some("same-origin"));
            if !own {
                return Some("a web page of another origin may not use this server".to_string());
            }
        }
        if matches!(site.as_deref(), Some("cross-site" | "same-site"))
            && !is_followed_link(request.method(), headers)
        {
            return Some("a web page of another site may not use this server".to_string());
        }
        None
    }

    /// 403, as the path's own answers are given: OTLP's `google.rpc.Status` under `/v1/` (and
    /// reported like every OTLP request), the viewer API's `{"error": ...}` under `/api/`, plain
    /// text elsewhere.
    fn refuse(&self, request: &Request, why: String, started: Instant) -> Response {
        let path = request.uri().path();
        if path.starts_with("/v1/") {
            let refusal = Refusal::new(StatusCode::FORBIDDEN, tonic::Code::PermissionDenied, why);
            let response =
                http::refusal_response(&refusal, header_str(request.headers(), "content-type"));
            self.intake.observer().request(&observe::Request {
                transport: Transport::Http,
                signal: None,
                status: StatusCode::FORBIDDEN.as_u16(),
                bytes: 0,
                duration: started.elapsed(),
                result: Err(refusal.refused()),
            });
            response
        } else if path.starts_with("/api/") {
            (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({ "error": why })),
            )
                .into_response()
        } else {
            (StatusCode::FORBIDDEN, why).into_response()
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The authority the request was sent to: its Host header (HTTP/1.1), or the URI's (HTTP/2).
fn host_of(request: &Request) -> Option<&str> {
    header_str(request.headers(), "host").or_else(|| request.uri().authority().map(|a| a.as_str()))
}

/// A Host value split into its name and port: `name`, `name:port`, `[v6]`, `[v6]:port`, or a bare
/// IPv6 address (`::1`). None if it is none of these.
fn split_host(host: &str) -> Option<(&str, Option<&str>)> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        match after {
            "" => (name, None),
            _ => (name, Some(after.strip_prefix(':')?)),
        }
    } else if host.matches(':').count() > 1 {
        (host, None)
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    (!name.is_empty() && port_ok).then_some((name, port))
}

/// Whether a Host names this server without anyone's DNS: a loopback name, or the address the
/// connection arrived at.
fn is_own_host(host: &str, local: Option<IpAddr>) -> bool {
    let Some((name, _port)) = split_host(host) else {
        return false;
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || local.is_some_and(|local| same_ip(local, ip)),
        Err(_) => false,
    }
}

/// IPv4 and its IPv6-mapped form are one address.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// Whether `origin` (an Origin header: `scheme://host[:port]`, or `null`) is this server's own:
/// the scheme it speaks and the Host the request was sent to, in any case, a default port
/// written or not.
fn same_origin(origin: &str, host: &str, tls: bool) -> bool {
    let scheme = if tls { "https" } else { "http" };
    let default_port = if tls { ":443" } else { ":80" };
    let normalize = |authority: &str| {
        let authority = authority.to_ascii_lowercase();
        match authority.strip_suffix(default_port) {
            Some(bare) => bare.to_string(),
            None => authority,
        }
    };
    let Some(authority) = origin
        .get(..scheme.len() + 3)
        .filter(|prefix| prefix.eq_ignore_ascii_case(&format!("{scheme}://")))
        .map(|_| &origin[scheme.len() + 3..])
    else {
        return false;
    };
    !authority.is_empty() && normalize(authority) == normalize(host)
}

/// A link followed from another site: a top-level GET (or HEAD) navigation to a document, which
/// shows the page to the person who clicked and to no script. With a token, the session cookie
/// (SameSite=Strict) is not sent with it, so it meets the login page.
fn is_followed_link(method: &Method, headers: &HeaderMap) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && header_str(headers, "sec-fetch-mode").is_some_and(|m| m.eq_ignore_ascii_case("navigate"))
        && header_str(headers, "sec-fetch-dest").is_some_and(|d| d.eq_ignore_ascii_case("document"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_the_local_address_are_own_hosts() {
        let local: Option<IpAddr> = Some("10.0.0.5".parse().unwrap());
        for own in [
            "127.0.0.1",
            "127.0.0.1:4318",
            "127.0.0.2:80",
            "localhost",
            "LOCALHOST:4318",
            "LocalHost",
            "[::1]",
            "[::1]:4318",
            "::1",
            "10.0.0.5:4318",
            "10.0.0.5",
        ] {
            assert!(is_own_host(own, local), "{own}");
        }
        for other in [
            "attacker.example",
            "attacker.example:4318",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "10.0.0.6:4318",
            "",
            "127.0.0.1:",
            "127.0.0.1:43x",
            "[::1",
            "[::1]x",
            "0.0.0.0",
        ] {
            assert!(!is_own_host(other, local), "{other:?}");
        }
        assert!(!is_own_host("10.0.0.5", None));
        let mapped: Option<IpAddr> = Some("::ffff:10.0.0.5".parse().unwrap());
        assert!(is_own_host("10.0.0.5:4318", mapped));
    }

    #[test]
    fn an_origin_is_own_only_with_the_scheme_and_host_of_the_request() {
        assert!(same_origin(
            "http://127.0.0.1:4318",
            "127.0.0.1:4318",
            false
        ));
        assert!(same_origin(
            "HTTP://LocalHost:4318",
            "localhost:4318",
            false
        ));
        assert!(same_origin("http://localhost", "localhost:80", false));
        assert!(same_origin(
            "https://trace.example",
            "trace.example:443",
            true
        ));
        for (origin, host, tls) in [
            ("http://127.0.0.1:8000", "127.0.0.1:4318", false),
            ("https://127.0.0.1:4318", "127.0.0.1:4318", false),
            ("http://127.0.0.1:4318", "127.0.0.1:4318", true),
            ("null", "127.0.0.1:4318", false),
            ("http://", "", false),
            ("http://attacker.example:4318", "127.0.0.1:4318", false),
            (
                "http://127.0.0.1:4318.attacker.example",
                "127.0.0.1:4318",
                false,
            ),
        ] {
            assert!(!same_origin(origin, host, tls), "{origin} {host} {tls}");
        }
    }
}

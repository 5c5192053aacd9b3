//! `agent-trace probe [URL]`: one GET of a running server's `/ready` (or `/health`), for container
//! healthchecks, where no curl is at hand. Succeeds on 200 and prints the answer; fails otherwise,
//! with the answer or the connection error. Plain HTTP only (a probe runs next to the server).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The default: the server's readiness on its default OTLP/HTTP address.
pub const DEFAULT_URL: &str = "http://127.0.0.1:4318/ready";

/// How long the probe may take in all: connecting, and the answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// GETs `url`; Ok(the body) on 200.
pub fn probe(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs can be probed"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let address = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&address, TIMEOUT).map_err(|e| format!("{url}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| format!("{url}: {e}"))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{url}: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("{url}: {e}"))?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status == "200" {
        Ok(body.to_string())
    } else {
        Err(format!("{url}: {} {}", status, body.trim()))
    }
}

//! How agent-trace reaches PostgreSQL (the writer, the viewer, `prices import`, `up`): a
//! connection string read as libpq reads it, TLS included, and a password kept apart from it.
//!
//! tokio-postgres understands `sslmode` disable, prefer and require only, and no `sslrootcert`; the
//! URLs people copy from their database provider say `sslmode=verify-full&sslrootcert=ca.pem`. So
//! the TLS settings are taken out of the URL here (both forms: `postgresql://...?k=v&...` and
//! `host=... k=v ...`), the rest is left to tokio-postgres, and the TLS connection is made with
//! rustls, checking the server the way libpq's mode says:
//!
//! | sslmode | TLS | server certificate checked |
//! |---|---|---|
//! | `disable` | never | |
//! | `prefer` (default) | if the server offers it | no (as libpq: protects from listening, not from impersonation) |
//! | `require` | always | no; with `sslrootcert`, signed by that CA (libpq does the same) |
//! | `verify-ca` | always | signed by `sslrootcert`'s CA |
//! | `verify-full` | always | signed by `sslrootcert`'s CA and issued for the host connected to |
//!
//! `sslrootcert` is a PEM file of CA certificates, or `system` for the Mozilla root store built
//! into this binary (webpki-roots), which like libpq's `system` requires `verify-full`. Client
//! certificates (`sslcert`, `sslkey`) are not supported and are refused rather than ignored.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's sslmode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            // libpq's `allow` tries without TLS first; tokio-postgres cannot.
            other => {
                return Err(format!(
                    "sslmode={other} is not supported: use disable, prefer, require, verify-ca or verify-full"
                ));
            }
        })
    }

    /// What tokio-postgres is told: whether to ask for TLS and whether to insist.
    fn for_tokio_postgres(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        }
    }
}

/// Where the CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    File(PathBuf),
    /// The Mozilla root store built into the binary.
    System,
}

/// The TLS settings of a connection string, and the string without them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: SslMode,
    pub root_cert: Option<RootCert>,
    /// The connection string for tokio-postgres: our keys out, sslmode as tokio-postgres spells it.
    pub rest: String,
}

/// The database to connect to: tokio-postgres's settings and the TLS connector they need.
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    pub mode: SslMode,
}

/// Reads `database_url` (either form), with `password` (e.g. from --database-password-file) in
/// place of any password in it. Errors say what is wrong with the string or the certificates.
pub fn target(database_url: &str, password: Option<&str>) -> Result<Target, String> {
    let settings = settings(database_url)?;
    let mut config: tokio_postgres::Config = settings
        .rest
        .parse()
        .map_err(|e: tokio_postgres::Error| e.to_string())?;
    if let Some(password) = password {
        config.password(password);
    }
    let tls = MakeRustlsConnect::new(client_config(settings.mode, settings.root_cert.as_ref())?);
    Ok(Target {
        config,
        tls,
        mode: settings.mode,
    })
}

/// Takes the TLS keys out of a connection string (URL or key=value form).
pub fn settings(connection: &str) -> Result<Settings, String> {
    let mut mode = SslMode::Prefer;
    let mut root_cert = None;
    let mut take = |key: &str, value: &str| -> Result<bool, String> {
        match key {
            "sslmode" => mode = SslMode::parse(value)?,
            "sslrootcert" if value == "system" => root_cert = Some(RootCert::System),
            "sslrootcert" => root_cert = Some(RootCert::File(PathBuf::from(value))),
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                return Err(format!(
                    "{key} is not supported (client certificates and revocation lists); \
                     authenticate with a password over TLS instead"
                ));
            }
            _ => return Ok(false),
        }
        Ok(true)
    };
    let mut rest = if let Some((base, query)) = split_url(connection) {
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| format!("{key}: not UTF-8 once percent-decoded"))?;
            if !take(key, &value)? {
                kept.push(pair);
            }
        }
        kept.push("");
        let query = kept.join("&");
        format!("{base}?{query}")
    } else {
        let mut kept = Vec::new();
        for (key, value, text) in key_values(connection)? {
            if !take(key, &value)? {
                kept.push(text);
            }
        }
        kept.join(" ")
    };
    if root_cert == Some(RootCert::System) && mode != SslMode::VerifyFull {
        return Err(
            "sslrootcert=system needs sslmode=verify-full (as libpq: a public CA vouches for \
             many servers, so the host name must be checked too)"
                .into(),
        );
    }
    // The mode as tokio-postgres spells it; the URL form ends with `&` (or `?`) to append to.
    let tokio_mode = format!("sslmode={}", mode.for_tokio_postgres());
    if rest.contains("://") {
        rest.push_str(&tokio_mode);
    } else {
        rest = format!("{rest} {tokio_mode}").trim_start().to_string();
    }
    Ok(Settings {
        mode,
        root_cert,
        rest,
    })
}

/// A `postgresql://` or `postgres://` URL as (everything before `?`, the query).
fn split_url(connection: &str) -> Option<(&str, &str)> {
    let is_url = connection.starts_with("postgresql://") || connection.starts_with("postgres://");
    is_url.then(|| connection.split_once('?').unwrap_or((connection, "")))
}

/// The `key = value` pairs of libpq's key/value form: (key, unquoted value, the pair as written).
/// Values may be single-quoted; a backslash escapes the next character.
fn key_values(connection: &str) -> Result<Vec<(&str, String, &str)>, String> {
    let mut pairs = Vec::new();
    let bytes = connection.as_bytes();
    let mut i = 0;
    let skip_spaces = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_spaces(&mut i);
        if i == bytes.len() {
            return Ok(pairs);
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &connection[start..i];
        skip_spaces(&mut i);
        if i == bytes.len() || bytes[i] != b'=' {
            return Err(format!(
                "missing \"=\" after {key:?} in the connection string"
            ));
        }
        i += 1;
        skip_spaces(&mut i);
        let mut value = Vec::new();
        let quoted = i < bytes.len() && bytes[i] == b'\'';
        if quoted {
            i += 1;
        }
        loop {
            match bytes.get(i) {
                None if quoted => return Err(format!("unterminated quoted value of {key}")),
                None => break,
                Some(b'\'') if quoted => {
                    i += 1;
                    break;
                }
                Some(c) if !quoted && c.is_ascii_whitespace() => break,
                Some(b'\\') if i + 1 < bytes.len() => {
                    value.push(bytes[i + 1]);
                    i += 2;
                }
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        let value = String::from_utf8(value).map_err(|_| format!("{key}: not UTF-8"))?;
        pairs.push((key, value, &connection[start..i]));
    }
}

/// The rustls client configuration that checks the server as `mode` says.
fn client_config(mode: SslMode, root_cert: Option<&RootCert>) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let roots = root_cert.map(load_roots).transpose()?.map(Arc::new);
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        (SslMode::VerifyFull, Some(roots)) => {
            WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| format!("sslrootcert: {e}"))?
        }
        (SslMode::VerifyCa | SslMode::Require, Some(roots)) => Arc::new(ChainCheck {
            roots: Some(roots),
            algorithms,
        }),
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
            return Err(
                "sslmode=verify-ca and verify-full need sslrootcert=FILE (the PEM of the CA that \
                 signed the server's certificate) or sslrootcert=system"
                    .into(),
            );
        }
        (SslMode::Disable | SslMode::Prefer | SslMode::Require, _) => Arc::new(ChainCheck {
            roots: None,
            algorithms,
        }),
    };
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn load_roots(root_cert: &RootCert) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        RootCert::System => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        RootCert::File(path) => {
            let context =
                |e: &dyn std::fmt::Display| format!("sslrootcert {}: {e}", path.display());
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| context(&e))? {
                roots
                    .add(cert.map_err(|e| context(&e))?)
                    .map_err(|e| context(&e))?;
            }
            if roots.is_empty() {
                return Err(context(&"no certificate in it"));
            }
        }
    }
    Ok(roots)
}

/// verify-ca (and require with a CA): the certificate chains to one of `roots`, whatever host it
/// names. prefer and require without a CA (`roots: None`), as libpq: the connection is encrypted,
/// and the server proves it holds the key of the certificate it shows, but nothing says whose
/// certificate that is.
#[derive(Debug)]
struct ChainCheck {
    roots: Option<Arc<RootCertStore>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ChainCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// An error with its causes, "what: why: deeper why" (tokio-postgres's own text is only the
/// first part, e.g. "error performing TLS handshake"); a database's error as PostgreSQL's message
/// and SQLSTATE.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        if let Some(db) = cause.downcast_ref::<tokio_postgres::error::DbError>() {
            return format!("{} ({})", db.message(), db.code().code());
        }
        let text = cause.to_string();
        if !parts.iter().any(|part: &String| part.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    parts.join(": ")
}

/// The crypto provider both TLS sides use (ring).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A password, never printed.
#[derive(Clone)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    /// The first line of a file (a trailing newline is not part of it); an empty one is refused.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading the password file {}: {e}", path.display()))?;
        let password = text.lines().next().unwrap_or_default();
        if password.is_empty() {
            return Err(format!("the password file {} is empty", path.display()));
        }
        Ok(Password(password.to_string()))
    }
}

/// One connection for a one-off command (`prices import`, `up`'s price import), with TLS as the
/// URL says; the connection task ends with the client.
pub async fn connect(
    database_url: &str,
    password: Option<&Password>,
) -> Result<tokio_postgres::Client, String> {
    let target = target(database_url, password.map(|p| p.0.as_str()))
        .map_err(|e| format!("invalid --database-url: {e}"))?;
    let (client, connection) = target
        .config
        .connect(target.tls)
        .await
        .map_err(|e| format!("cannot connect to PostgreSQL: {}", describe(&e)))?;
    tokio::spawn(connection);
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_form_keeps_the_rest_and_takes_the_tls_keys() {
        let s = settings(
            "postgresql://u:p%40ss@db.example.com:5432/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        )
        .unwrap();
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.root_cert, Some(RootCert::File("/etc/ca.pem".into())));
        assert_eq!(
            s.rest,
            "postgresql://u:p%40ss@db.example.com:5432/app?application_name=x&sslmode=require"
        );
        let plain = settings("postgres://u@h/db").unwrap();
        assert_eq!(plain.mode, SslMode::Prefer);
        assert_eq!(plain.rest, "postgres://u@h/db?sslmode=prefer");
        assert!(plain.rest.parse::<tokio_postgres::Config>().is_ok());
        assert!(s.rest.parse::<tokio_postgres::Config>().is_ok());
    }

    #[test]
    fn key_value_form_with_quotes() {
        let s = settings(
            "host=h user=u password='it\\'s me' sslmode = verify-ca sslrootcert='/a b/ca.pem' dbname=d",
        )
        .unwrap();
        assert_eq!(s.mode, SslMode::VerifyCa);
        assert_eq!(s.root_cert, Some(RootCert::File("/a b/ca.pem".into())));
        assert_eq!(
            s.rest,
            "host=h user=u password='it\\'s me' dbname=d sslmode=require"
        );
        let config: tokio_postgres::Config = s.rest.parse().unwrap();
        assert_eq!(config.get_password(), Some(&b"it's me"[..]));
    }

    #[test]
    fn refusals_say_why() {
        for (connection, says) in [
            ("postgresql://h/d?sslmode=allow", "not supported"),
            ("postgresql://h/d?sslcert=c.pem", "client certificates"),
            (
                "postgresql://h/d?sslrootcert=system",
                "needs sslmode=verify-full",
            ),
            ("host=h sslmode", "missing \"=\""),
            ("host='h", "unterminated"),
        ] {
            let error = settings(connection).unwrap_err();
            assert!(error.contains(says), "{connection}: {error}");
        }
        let error = target("postgresql://h/d?sslmode=verify-full", None)
            .err()
            .unwrap();
        assert!(error.contains("need sslrootcert"), "{error}");
        let error = target(
            "postgresql://h/d?sslmode=require&sslrootcert=/nonexistent.pem",
            None,
        )
        .err()
        .unwrap();
        assert!(error.contains("/nonexistent.pem"), "{error}");
    }

    #[test]
    fn a_password_given_apart_replaces_the_urls() {
        let target = target("postgresql://u:old@h/d", Some("new")).unwrap();
        assert_eq!(target.config.get_password(), Some(&b"new"[..]));
    }
}

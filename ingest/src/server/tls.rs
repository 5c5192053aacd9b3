//! TLS on the OTLP ports (`--tls-cert`, `--tls-key`): both ports then speak only TLS, OTLP/HTTP as
//! HTTP/1.1 (ALPN `http/1.1`) and OTLP/gRPC as HTTP/2 (ALPN `h2`, which gRPC clients require). The
//! certificate chain and key are PEM files, read once at start.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Where the listeners' certificate and key are.
#[derive(Debug, Clone)]
pub struct ListenerTls {
    /// PEM: the server's certificate, then any intermediates.
    pub cert: PathBuf,
    /// PEM: its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The TLS server configuration of both ports, loaded from the files.
#[derive(Clone)]
pub struct Tls(Arc<ServerConfig>);

impl Tls {
    pub fn load(files: &ListenerTls) -> Result<Self, String> {
        let context = |path: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let chain = CertificateDer::pem_file_iter(&files.cert)
            .map_err(|e| context(&files.cert, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| context(&files.cert, &e))?;
        if chain.is_empty() {
            return Err(context(&files.cert, &"no certificate in it"));
        }
        let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| context(&files.key, &e))?;
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(|e| format!("--tls-cert and --tls-key do not go together: {e}"))?;
        Ok(Tls(Arc::new(config)))
    }

    /// The acceptor of one port, offering its protocol by ALPN (`Protocol::alpn`).
    pub fn acceptor(&self, alpn: &[u8]) -> TlsAcceptor {
        let mut config = (*self.0).clone();
        config.alpn_protocols = vec![alpn.to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }
}

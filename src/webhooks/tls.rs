//! HTTPS to a webhook receiver: a WordPress host is usually reachable only over HTTPS on the public internet.
//!
//! rustls (ring provider, TLS 1.2 and 1.3), verifying the receiver's certificate against the Mozilla roots compiled
//! into the binary (`webpki-roots`: no dependency on the machine's certificate store), or only against the CAs of
//! the site's `ca_file`. There is no switch that turns verification off: a receiver with a self-signed certificate
//! is trusted by naming that certificate in `ca_file`.

use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How to open TLS to one receiver. Equal when made for the same host and roots (a reload that changes neither keeps
/// the running deliverer).
#[derive(Clone)]
pub struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
    /// What it was made from, for equality: the host and the `ca_file` certificates (empty: the Mozilla roots).
    made_from: (String, Vec<CertificateDer<'static>>),
}

impl Tls {
    /// TLS to `host` trusting `roots` (`None`: the Mozilla roots). Fails on a host that is not a DNS name or an IP
    /// address, or a CA certificate rustls cannot use.
    pub fn new(host: &str, roots: Option<Vec<CertificateDer<'static>>>) -> Result<Tls, String> {
        let name = ServerName::try_from(host.to_string()).map_err(|_| format!("{host:?} is not a TLS server name"))?;
        let mut store = rustls::RootCertStore::empty();
        match &roots {
            None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(certs) => {
                for cert in certs {
                    store.add(cert.clone()).map_err(|e| format!("ca_file: a certificate cannot be used ({e})"))?;
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            connector: TlsConnector::from(Arc::new(config)),
            name,
            made_from: (host.to_string(), roots.unwrap_or_default()),
        })
    }

    /// The TLS handshake over `tcp`, the receiver's certificate verified for the host.
    pub async fn connect(&self, tcp: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
        self.connector.connect(self.name.clone(), tcp).await
    }
}

impl PartialEq for Tls {
    fn eq(&self, other: &Self) -> bool {
        self.made_from == other.made_from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_roots_are_checked_and_equality_follows_what_it_was_made_from() {
        assert!(Tls::new("news.example", None).is_ok());
        assert!(Tls::new("127.0.0.1", None).is_ok(), "an IP address is a server name too");
        assert!(Tls::new("bad name!", None).is_err());
        let garbage = vec![CertificateDer::from(vec![1u8, 2, 3])];
        assert!(Tls::new("news.example", Some(garbage)).is_err(), "a CA rustls cannot parse is refused");
        let a = Tls::new("news.example", None).expect("tls");
        assert!(a == Tls::new("news.example", None).expect("tls"));
        assert!(a != Tls::new("other.example", None).expect("tls"));
    }
}

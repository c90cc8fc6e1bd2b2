//! TLS for the fetcher's client: the platform's trust store, checked by `rustls-platform-verifier`
//! exactly as reqwest's own rustls set-up does, but read on a thread of its own when the fetcher
//! starts, and waited for only when an HTTPS server's certificate is checked.
//!
//! Reading the store parses every CA certificate of the system (a few milliseconds). Done when
//! the client is built, as reqwest does, it delayed every resolve's first request; now it runs
//! while the first connections are made, and a resolve over plain-HTTP or `file://`
//! repositories never waits for it.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The rustls configuration of the fetcher's client: TLS 1.2 and 1.3 with reqwest's default
/// crypto provider, the platform's trust store, and HTTP/2 offered before HTTP/1.1.
pub(super) fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PlatformVerifier::start_loading(provider.clone()));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's verifier, once its trust store is read (or why it could not be).
type Loaded = Result<rustls_platform_verifier::Verifier, rustls::Error>;

/// A certificate verifier whose platform trust store loads in the background: only the check of
/// a server's certificate chain needs it; signatures are checked with the provider's algorithms,
/// as the platform verifier itself does.
#[derive(Debug)]
struct PlatformVerifier {
    provider: Arc<CryptoProvider>,
    platform: Arc<OnceLock<Loaded>>,
}

impl PlatformVerifier {
    /// A verifier whose trust store starts loading now, on a thread of its own.
    fn start_loading(provider: Arc<CryptoProvider>) -> Self {
        let platform = Arc::new(OnceLock::new());
        let (cell, for_thread) = (platform.clone(), provider.clone());
        // Whoever comes first loads it; the other waits for that load and uses it.
        std::thread::spawn(move || {
            cell.get_or_init(|| load(for_thread));
        });
        Self { provider, platform }
    }

    fn platform(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.platform
            .get_or_init(|| load(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn load(provider: Arc<CryptoProvider>) -> Loaded {
    rustls_platform_verifier::Verifier::new(provider)
}

impl ServerCertVerifier for PlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.platform()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

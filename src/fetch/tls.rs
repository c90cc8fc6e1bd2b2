//! TLS for the fetcher's client: the platform's trust store, checked by `rustls-platform-verifier`
//! exactly as reqwest's own rustls set-up does, but read on a thread of its own when the first
//! HTTPS request goes out, and waited for only when a server's certificate is checked.
//!
//! Reading the store parses every CA certificate of the system (a few milliseconds of a core).
//! Done when the client is built, as reqwest does, it delayed every resolve's first request; now
//! it runs while the first connection's handshake is under way, and a resolve over plain-HTTP or
//! `file://` repositories never reads it.

use std::sync::{Arc, Once, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The rustls configuration of the fetcher's client: TLS 1.2 and 1.3 with reqwest's default
/// crypto provider, the platform's trust store (returned, for [`TrustStore::prepare`]), and
/// HTTP/2 offered before HTTP/1.1.
pub(super) fn client_config() -> Result<(rustls::ClientConfig, Arc<TrustStore>), rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let store = Arc::new(TrustStore {
        provider: provider.clone(),
        platform: OnceLock::new(),
        preparing: Once::new(),
    });
    let verifier = Arc::new(PlatformVerifier {
        store: store.clone(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((config, store))
}

/// The platform's verifier, once its trust store is read (or why it could not be).
type Loaded = Result<rustls_platform_verifier::Verifier, rustls::Error>;

/// The platform's trust store, read once: on a thread of its own from the first HTTPS request
/// on ([`Self::prepare`]), or by the first certificate check if that comes first.
#[derive(Debug)]
pub(super) struct TrustStore {
    provider: Arc<CryptoProvider>,
    platform: OnceLock<Loaded>,
    preparing: Once,
}

impl TrustStore {
    /// Starts reading the store on a thread of its own, unless that has started: called as an
    /// HTTPS request goes out, whose certificate check comes a round trip later. (Read when the
    /// fetcher starts, it took a core from the resolve's own start on a two-core machine.)
    pub(super) fn prepare(self: &Arc<Self>) {
        self.preparing.call_once(|| {
            let store = self.clone();
            std::thread::spawn(move || {
                // A failure is kept, and reported by the certificate check that needs it.
                let _ = store.platform();
            });
        });
    }

    /// The platform's verifier: read now, or waited for while another thread reads it.
    fn platform(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.platform
            .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// A certificate verifier over the [`TrustStore`]: only the check of a server's certificate
/// chain needs the store; signatures are checked with the provider's algorithms, as the
/// platform verifier itself does.
#[derive(Debug)]
struct PlatformVerifier {
    store: Arc<TrustStore>,
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
        self.store.platform()?.verify_server_cert(
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
            &self.store.provider.signature_verification_algorithms,
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
            &self.store.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.store
            .provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

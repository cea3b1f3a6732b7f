//! The TLS client configuration every connection uses, reqwest's and our own (races, raw
//! reads): the platform's roots, a private CA (`--cacert`), or no verification at all
//! (`--insecure`, which reports say loudly). One per process: a run talks to one target.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

static CONFIG: OnceLock<RwLock<Option<Arc<ClientConfig>>>> = OnceLock::new();

/// Builds the configuration for these settings and makes it the process's.
pub(super) fn configure(
    cacert: Option<&Path>,
    insecure: bool,
    client: Option<&(PathBuf, PathBuf)>,
) -> Result<Arc<ClientConfig>, String> {
    // ring, deprecated by rustls 0.23.48 for lacking post-quantum key exchange (see
    // `install_crypto_provider`).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?;
    let roots = match (insecure, cacert) {
        (true, _) => None,
        (false, Some(file)) => Some(Roots::new(certificates(file, "--cacert")?)),
        (false, None) => Some(Roots::new(Vec::new())),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Certificates { provider, roots }));
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            use rustls::pki_types::{pem::PemObject, PrivateKeyDer};
            let chain = certificates(cert, "--client-cert")?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("--client-key {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("--client-cert {}: {e}", cert.display()))?
        }
    };
    let config = Arc::new(config);
    let slot = CONFIG.get_or_init(|| RwLock::new(None));
    if let Ok(mut current) = slot.write() {
        *current = Some(config.clone());
    }
    Ok(config)
}

/// Whether the process's configuration sends a client certificate.
pub(super) fn has_client_cert() -> bool {
    CONFIG
        .get()
        .and_then(|slot| slot.read().ok().and_then(|c| c.clone()))
        .is_some_and(|c| c.client_auth_cert_resolver.has_certs())
}

/// The process's configuration, with `alpn` offered.
pub(super) fn with_alpn(alpn: &[&[u8]]) -> Result<ClientConfig, String> {
    let current = CONFIG
        .get()
        .and_then(|slot| slot.read().ok().and_then(|c| c.clone()));
    let mut config = match current {
        Some(config) => (*config).clone(),
        None => (*configure(None, false, None)?).clone(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The PEM certificates in `file`; `flag` says which option named it.
fn certificates(file: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
        .map_err(|e| format!("{flag} {}: {e}", file.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{flag} {}: {e}", file.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{flag} {}: no PEM certificate in it",
            file.display()
        ));
    }
    Ok(certs)
}

/// How a server's certificate is checked: against the platform's roots (and `--cacert`'s), or
/// not at all (`--insecure`); the handshake's signatures are checked either way.
#[derive(Debug)]
struct Certificates {
    provider: Arc<CryptoProvider>,
    /// `None`: `--insecure`, any certificate is accepted.
    roots: Option<Roots>,
}

/// The platform's verifier, made at the first handshake: reading the system's root store is
/// half of a plain-HTTP run's start-up, and such a run never needs it.
#[derive(Debug)]
struct Roots {
    extra: Vec<CertificateDer<'static>>,
    platform: OnceLock<Result<rustls_platform_verifier::Verifier, String>>,
}

impl Roots {
    fn new(extra: Vec<CertificateDer<'static>>) -> Self {
        Roots {
            extra,
            platform: OnceLock::new(),
        }
    }
}

impl ServerCertVerifier for Certificates {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let platform = roots.platform.get_or_init(|| {
            rustls_platform_verifier::Verifier::new_with_extra_roots(
                roots.extra.clone(),
                self.provider.clone(),
            )
            .map_err(|e| format!("TLS set-up failed: {e}"))
        });
        match platform {
            Ok(verifier) => {
                verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            }
            Err(e) => Err(rustls::Error::General(e.clone())),
        }
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

//! The TLS of every HTTPS client the warden makes (VPCEP, IAM, SMN, alert
//! webhooks, the S3 state store, the runtimes' own APIs): rustls with the
//! ring provider and the Mozilla roots built in (`webpki-roots`). The binary
//! trusts the same authorities on Lambda, FunctionGraph and a distroless
//! image, whatever certificates the host carries, and builds without a C
//! toolchain (reqwest 0.13 would otherwise take aws-lc-rs and the host's
//! certificate store).

use std::sync::OnceLock;

/// A client builder with that TLS. HTTP/1.1 is the one protocol offered,
/// as every API the warden calls speaks it.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(config().clone())
}

fn config() -> &'static rustls::ClientConfig {
    static CONFIG: OnceLock<rustls::ClientConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        // Also the process's default provider, so a client built elsewhere
        // finds one; when another was installed first, that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_builds_and_so_does_one_made_elsewhere_afterwards() {
        assert!(super::client_builder().build().is_ok());
        // The process default provider is in place: reqwest's own default
        // client (as a library beside the warden would make) does not panic.
        let _ = reqwest::Client::new();
    }
}

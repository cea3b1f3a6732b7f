//! The embedded reference server: a correct origin for RFC 9110 section 13 that a new user runs
//! against with no set-up, and that contend's own tests use as the known-good target.
//!
//! Nothing else in the crate depends on this module; the CLI and the test harness start it.

mod api;
mod conditions;
mod faults;
mod origin;
mod payments;
mod reply;

pub use faults::{Fault, Faults};

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::plan::Target;
use crate::scenario::Capability;
use origin::Origin;

/// The largest request content the reference server accepts.
const MAX_CONTENT: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Answer 428 to unconditional writes of existing resources (RFC 6585 section 3).
    pub require_preconditions: bool,
    /// WebDAV collections (RFC 4918): MKCOL makes one, and a PUT needs its parent collection.
    pub collections: bool,
    /// Every request must carry `token=<this>` in its query, like a signed URL; others get 403.
    pub token: Option<String>,
    /// Planted bugs; empty for the correct server.
    pub faults: Faults,
    /// The share of writes `rare-lost-update` sends down its racy path (default 3 %).
    pub fault_rate: Option<f64>,
    /// Serve HTTPS with this certificate chain and key (PEM files), for testing TLS set-ups.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// With `tls`: ask every client for a certificate signed by this CA (PEM), refuse without.
    pub tls_client_ca: Option<std::path::PathBuf>,
    /// Every ETag weak (`W/"..."`), as many frameworks send them: a correct server then fails
    /// every If-Match (strong comparison) and still answers If-None-Match on GET with 304.
    pub weak_etags: bool,
    /// Every answer this much later (a slow target: tests stop a run while it waits).
    pub latency: Option<std::time::Duration>,
}

/// A reference server listening in the background; it stops when this is dropped.
pub struct RunningServer {
    addr: SocketAddr,
    config: ServerConfig,
    arrivals: Arc<Arrivals>,
    _stop: watch::Sender<()>,
}

/// What a reference server with this configuration supports: everything, the 428 mode only
/// when asked for.
pub fn capabilities(config: &ServerConfig) -> Vec<Capability> {
    Capability::ALL
        .into_iter()
        .filter(|c| *c != Capability::RequiresPreconditions || config.require_preconditions)
        .filter(|c| *c != Capability::Collections || config.collections)
        // Where versions live is a profile's to say; the API mode of the tests says it.
        .filter(|c| *c != Capability::Versions)
        .collect()
}

/// When each request was complete at the server (its content read): how tightly a race
/// actually arrived, for tests and benchmarks.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub at: std::time::Instant,
    pub method: hyper::Method,
    pub path: String,
}

/// The newest arrivals, at most [`ARRIVALS_KEPT`].
#[derive(Default)]
struct Arrivals(std::sync::Mutex<std::collections::VecDeque<Arrival>>);

const ARRIVALS_KEPT: usize = 100_000;

impl Arrivals {
    fn record(&self, arrival: Arrival) {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == ARRIVALS_KEPT {
            log.pop_front();
        }
        log.push_back(arrival);
    }
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Arrivals so far for requests to `path`, in arrival order.
    pub fn arrivals(&self, path: &str) -> Vec<Arrival> {
        let log = self.arrivals.0.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().filter(|a| a.path == path).cloned().collect()
    }

    pub fn url(&self) -> String {
        let scheme = if self.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// This server as a target for scenarios, with the capabilities its configuration gives.
    pub fn target(&self) -> Target {
        let capabilities = capabilities(&self.config).into_iter().collect();
        Target {
            url: self
                .url()
                .parse()
                .expect("a socket address makes a valid URL"),
            label: format!("{} (embedded reference server)", self.url()),
            capabilities,
            own_capabilities: Default::default(),
        }
    }
}

/// Binds `addr` (use port 0 for an ephemeral port) and serves in a background task of the
/// current tokio runtime. HTTP/1.1 and cleartext HTTP/2 (prior knowledge) are both served.
pub async fn start(addr: SocketAddr, config: ServerConfig) -> std::io::Result<RunningServer> {
    let acceptor = match &config.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key, config.tls_client_ca.as_deref())?),
        None => None,
    };
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let origin = Arc::new(Origin::new(config.clone()));
    let arrivals = Arc::new(Arrivals::default());
    let log = arrivals.clone();
    let (stop, mut stopped) = watch::channel(());
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    // Out of file descriptors and the like: keep serving the connections we have.
                    Err(_) => { tokio::time::sleep(std::time::Duration::from_millis(10)).await; continue }
                },
                _ = stopped.changed() => break,
            };
            let _ = stream.set_nodelay(true);
            let origin = origin.clone();
            let log = log.clone();
            let mut stopped = stopped.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| serve(origin.clone(), log.clone(), req));
                let builder = auto::Builder::new(TokioExecutor::new());
                let served = async {
                    match acceptor {
                        Some(acceptor) => {
                            // A client that gives up on the handshake is no concern of ours.
                            if let Ok(tls) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                };
                tokio::select! {
                    _ = served => {}
                    _ = stopped.changed() => {}
                }
            });
        }
    });
    Ok(RunningServer {
        addr,
        config,
        arrivals,
        _stop: stop,
    })
}

/// A TLS acceptor for the certificate chain and key in these PEM files.
fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
    client_ca: Option<&std::path::Path>,
) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| invalid(format!("{}: {e}", cert.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| invalid(format!("{}: {e}", key.display())))?;
    // ring, deprecated by rustls 0.23.48 for lacking post-quantum key exchange: no
    // precondition test needs it, and aws-lc-rs costs a C build.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(file) => {
            let mut roots = rustls::RootCertStore::empty();
            for ca in CertificateDer::pem_file_iter(file)
                .map_err(|e| invalid(format!("{}: {e}", file.display())))?
            {
                let ca = ca.map_err(|e| invalid(format!("{}: {e}", file.display())))?;
                roots.add(ca).map_err(|e| invalid(e.to_string()))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| invalid(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| invalid(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn serve(
    origin: Arc<Origin>,
    arrivals: Arc<Arrivals>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, &'static str> {
    let (parts, body) = req.into_parts();
    if let Some(token) = &origin.token() {
        let wanted = format!("token={token}");
        if !parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .any(|p| p == wanted)
        {
            let mut reply = Response::new(Full::new(Bytes::from(
                "this server wants token=<its token> in every request's query\n",
            )));
            *reply.status_mut() = StatusCode::FORBIDDEN;
            return Ok(reply);
        }
    }
    let content = match Limited::new(body, MAX_CONTENT).collect().await {
        Ok(collected) => {
            let path = parts.uri.path().to_owned();
            arrivals.record(Arrival {
                at: std::time::Instant::now(),
                method: parts.method.clone(),
                path,
            });
            collected.to_bytes()
        }
        Err(_) => {
            let mut reply =
                Response::new(Full::new(Bytes::from("content too large or cut short\n")));
            *reply.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return Ok(reply);
        }
    };
    if let Some(latency) = origin.latency() {
        tokio::time::sleep(latency).await;
    }
    let mut reply = origin
        .handle(
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            content,
        )
        .await;
    if reply.extensions().get::<origin::Unanswered>().is_some() {
        // An error from the service makes hyper close the connection without a response.
        return Err("closed unanswered (a planted fault)");
    }
    // Our own Date, from the clock Last-Modified comes from: hyper's cached Date can lag a
    // second behind, which would make a fresh Last-Modified look later than Date.
    let date = crate::validators::fmt_http_date(std::time::SystemTime::now());
    if let Ok(value) = hyper::header::HeaderValue::from_str(&date) {
        reply.headers_mut().insert(hyper::header::DATE, value);
    }
    Ok(reply)
}

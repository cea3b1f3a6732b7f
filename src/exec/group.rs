//! Concurrent groups: every request on its own connection, opened before any is sent, then all
//! released together.
//!
//! This uses hyper's connection-level HTTP/1.1 client rather than reqwest: reqwest cannot open a
//! connection without sending a request on it, and a race needs the connections ready (TCP and
//! TLS handshakes done) before the release, or connection set-up spreads the arrivals over
//! milliseconds and hides the race.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::join_all;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, HOST};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::{error_chain, Exchange, Outgoing, Received, MAX_RESPONSE};

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Sender = SendRequest<Full<Bytes>>;

/// Runs one group and returns one exchange per request, in request order.
pub async fn run(requests: Vec<Outgoing>) -> Vec<Exchange> {
    let connected = join_all(requests.iter().map(|r| within(r.timeout, connect(&r.url)))).await;
    let released = Instant::now();
    let sends = requests.into_iter().zip(connected).enumerate().map(
        |(index, (outgoing, conn))| async move {
            let response = match conn {
                Ok(sender) => within(outgoing.timeout, exchange(sender, &outgoing)).await,
                Err(why) => Err(why),
            };
            Exchange {
                index: Some(index),
                request: outgoing,
                response,
                started: released,
                finished: Instant::now(),
            }
        },
    );
    // join_all polls every send once, in order, on its first poll: that first poll hands each
    // request to its connection, so all are released in one pass.
    join_all(sends).await
}

async fn within<T>(
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(format!(
            "timed out after {}",
            humantime::format_duration(limit)
        ))
    })
}

/// Opens a connection (TCP, then TLS for https) and performs the HTTP/1.1 handshake.
async fn connect(url: &reqwest::Url) -> Result<Sender, String> {
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let tcp = match url.host() {
        Some(url::Host::Domain(name)) => TcpStream::connect((name, port)).await,
        Some(url::Host::Ipv4(addr)) => TcpStream::connect((addr, port)).await,
        Some(url::Host::Ipv6(addr)) => TcpStream::connect((addr, port)).await,
        None => return Err("the URL has no host".into()),
    }
    .map_err(|e| format!("cannot connect: {e}"))?;
    // Small writes go out at once: the release must not wait on Nagle's algorithm.
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let io: Box<dyn Io> = if url.scheme() == "https" {
        Box::new(tls(url, tcp).await?)
    } else {
        Box::new(tcp)
    };
    let (sender, connection) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP handshake failed: {}", error_chain(&e)))?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn tls(url: &reqwest::Url, tcp: TcpStream) -> Result<impl Io, String> {
    use rustls_platform_verifier::ConfigVerifierExt;
    let mut config = rustls::ClientConfig::with_platform_verifier()
        .map_err(|e| format!("TLS set-up failed: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| format!("invalid TLS name: {e}"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake failed: {e}"))
}

async fn exchange(mut sender: Sender, outgoing: &Outgoing) -> Result<Received, String> {
    let mut request = hyper::Request::new(Full::new(outgoing.body.clone()));
    *request.method_mut() = outgoing.method.clone();
    let target = match outgoing.url.query() {
        Some(query) => format!("{}?{query}", outgoing.url.path()),
        None => outgoing.url.path().to_owned(),
    };
    *request.uri_mut() = target
        .parse()
        .map_err(|e| format!("invalid request target: {e}"))?;
    *request.headers_mut() = outgoing.headers.clone();
    let authority = &outgoing.url[url::Position::BeforeHost..url::Position::AfterPort];
    let host = HeaderValue::from_str(authority).map_err(|e| e.to_string())?;
    request.headers_mut().insert(HOST, host);

    let response = sender
        .send_request(request)
        .await
        .map_err(|e| error_chain(&e))?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, MAX_RESPONSE)
        .collect()
        .await
        .map_err(|e| format!("reading the response content failed: {e}"))?
        .to_bytes();
    Ok(Received {
        status: parts.status.as_u16(),
        version: format!("{:?}", parts.version),
        headers: parts.headers,
        body,
    })
}

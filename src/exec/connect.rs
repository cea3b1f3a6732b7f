//! Opening connections ourselves, for the clients that cannot go through reqwest: concurrent
//! groups (connections must be ready before the release) and raw reads (bytes as sent).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, HOST};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::record::Outgoing;

pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// TCP (no Nagle: small writes go out at once), then TLS for https with the platform's roots,
/// offering HTTP/1.1 in ALPN.
pub(super) async fn open(url: &reqwest::Url) -> Result<Box<dyn Io>, String> {
    open_with(url, b"http/1.1").await
}

/// The same, for HTTP/2: ALPN `h2` over TLS, prior knowledge over cleartext.
pub(super) async fn open_h2(url: &reqwest::Url) -> Result<Box<dyn Io>, String> {
    open_with(url, b"h2").await
}

async fn open_with(url: &reqwest::Url, alpn: &[u8]) -> Result<Box<dyn Io>, String> {
    let tcp = tcp(url).await?;
    if url.scheme() == "https" {
        Ok(Box::new(tls(url, tcp, alpn).await?))
    } else {
        Ok(Box::new(tcp))
    }
}

/// The TCP connection alone, for plain HTTP.
pub(super) async fn tcp(url: &reqwest::Url) -> Result<TcpStream, String> {
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let tcp = match url.host() {
        Some(url::Host::Domain(name)) => TcpStream::connect((name, port)).await,
        Some(url::Host::Ipv4(addr)) => TcpStream::connect((addr, port)).await,
        Some(url::Host::Ipv6(addr)) => TcpStream::connect((addr, port)).await,
        None => return Err("the URL has no host".into()),
    }
    .map_err(|e| format!("cannot connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(tcp)
}

async fn tls(url: &reqwest::Url, tcp: TcpStream, alpn: &[u8]) -> Result<impl Io, String> {
    let config = super::tls::with_alpn(&[alpn])?;
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
        .map_err(|e| super::tls_sentence(&e.to_string()))
}

/// The request as hyper writes it on a connection of ours: the origin-form target, the
/// request's headers, and `Host` (`host`, or from the URL) unless the request names one.
pub(super) fn request(
    outgoing: &Outgoing,
    host: Option<&HeaderValue>,
) -> Result<hyper::Request<Full<Bytes>>, String> {
    let target = origin_form(&outgoing.url);
    let mut request = hyper::Request::new(Full::new(outgoing.body.clone()));
    *request.method_mut() = outgoing.method.clone();
    *request.uri_mut() = target
        .parse()
        .map_err(|e| format!("invalid request target {target:?}: {e}"))?;
    // Host and Accept may be added.
    *request.headers_mut() = with_room(&outgoing.headers, 2);
    if !request.headers().contains_key(HOST) {
        let host = match host {
            Some(host) => host.clone(),
            None => HeaderValue::from_str(authority(&outgoing.url)).map_err(|e| e.to_string())?,
        };
        request.headers_mut().insert(HOST, host);
    }
    Ok(request)
}

/// A copy of `headers` with room for `more` fields. A clone has none: the first field added
/// moves every field to a larger allocation.
pub(super) fn with_room(headers: &hyper::HeaderMap, more: usize) -> hyper::HeaderMap {
    let mut copy = hyper::HeaderMap::with_capacity(headers.len() + more);
    copy.extend(
        headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    copy
}

/// The request target in origin form: path and query.
pub(super) fn origin_form(url: &reqwest::Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The Host header value: host and port as the URL has them.
pub(super) fn authority(url: &reqwest::Url) -> &str {
    &url[url::Position::BeforeHost..url::Position::AfterPort]
}

pub(super) async fn within<T>(
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

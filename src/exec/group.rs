//! Concurrent groups: every request on its own connection, opened before any is sent, then all
//! released together.
//!
//! This uses hyper's connection-level HTTP/1.1 client rather than reqwest: reqwest cannot open a
//! connection without sending a request on it, and a race needs the connections ready (TCP and
//! TLS handshakes done) before the release, or connection set-up spreads the arrivals over
//! milliseconds and hides the race.

use std::time::Instant;

use bytes::Bytes;
use futures::future::join_all;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, HOST};
use hyper_util::rt::TokioIo;

use super::{connect, error_chain, Exchange, Outgoing, Received, MAX_RESPONSE};

type Sender = SendRequest<Full<Bytes>>;

/// Runs one group and returns one exchange per request, in request order.
pub async fn run(requests: Vec<Outgoing>) -> Vec<Exchange> {
    let connected = join_all(
        requests
            .iter()
            .map(|r| connect::within(r.timeout, connect(&r.url))),
    )
    .await;
    let released = Instant::now();
    let sends = requests.into_iter().zip(connected).enumerate().map(
        |(index, (outgoing, conn))| async move {
            let response = match conn {
                Ok(sender) => connect::within(outgoing.timeout, exchange(sender, &outgoing)).await,
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

/// Opens a connection and performs the HTTP/1.1 handshake.
async fn connect(url: &reqwest::Url) -> Result<Sender, String> {
    let io = connect::open(url).await?;
    let (sender, connection) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP handshake failed: {}", error_chain(&e)))?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn exchange(mut sender: Sender, outgoing: &Outgoing) -> Result<Received, String> {
    let mut request = hyper::Request::new(Full::new(outgoing.body.clone()));
    *request.method_mut() = outgoing.method.clone();
    *request.uri_mut() = connect::origin_form(&outgoing.url)
        .parse()
        .map_err(|e| format!("invalid request target: {e}"))?;
    *request.headers_mut() = outgoing.headers.clone();
    let host =
        HeaderValue::from_str(connect::authority(&outgoing.url)).map_err(|e| e.to_string())?;
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

//! `sync: http2`, the single-packet release: every request of the group on one HTTP/2
//! connection; each request's HEADERS and all but the last byte of its DATA go first; a PING
//! round trip makes sure the server has them; then the N final END_STREAM frames are queued from
//! one loop, and the connection writes them together.

use std::time::Instant;

use bytes::Bytes;
use h2::client::{self, SendRequest};
use h2::{Ping, PingPong, RecvStream};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};

use super::release::{failed_group, GroupRun, Release};
use super::{classify, connect};
use crate::record::{Exchange, Outgoing, Received};
use crate::scenario::SyncMode;

pub(super) async fn run(requests: Vec<Outgoing>) -> GroupRun {
    let Some(first) = requests.first() else {
        return failed_group(SyncMode::Http2, "an empty group");
    };
    let (url, timeout) = (first.url.clone(), first.timeout);
    let same_origin = |r: &Outgoing| {
        r.url.scheme() == url.scheme() && connect::authority(&r.url) == connect::authority(&url)
    };
    if !requests.iter().all(same_origin) {
        return failed_group(SyncMode::Http2, "sync: http2 sends the whole group on one connection: every request must have the same scheme, host and port");
    }
    let prepared = connect::within(timeout, async {
        let (client, mut ping_pong) = handshake(&url).await?;
        // The server's SETTINGS precede its PING ACK: after one round trip they are known.
        ping_pong
            .ping(Ping::opaque())
            .await
            .map_err(|e| format!("PING failed: {e}"))?;
        Ok((client, ping_pong))
    })
    .await;
    let (client, ping_pong) = match prepared {
        Ok(p) => p,
        Err(why) => return failed_group(SyncMode::Http2, &why),
    };
    let limit = client.current_max_send_streams();
    if requests.len() > limit {
        let why = format!(
            "the group has {} requests but the server allows {limit} concurrent streams \
             (SETTINGS_MAX_CONCURRENT_STREAMS): a single-packet release cannot be split; \
             lower `count` or use sync: last-byte",
            requests.len()
        );
        return failed_group(SyncMode::Http2, &why);
    }
    race(client, ping_pong, requests).await
}

async fn handshake(url: &reqwest::Url) -> Result<(SendRequest<Bytes>, PingPong), String> {
    let io = connect::open_h2(url).await?;
    let (client, mut connection) = client::handshake(io)
        .await
        .map_err(|e| format!("HTTP/2 handshake failed: {e}"))?;
    let ping_pong = connection
        .ping_pong()
        .ok_or("the HTTP/2 connection offers no PING")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((client, ping_pong))
}

async fn race(
    mut client: SendRequest<Bytes>,
    mut ping_pong: PingPong,
    requests: Vec<Outgoing>,
) -> GroupRun {
    let mut streams = Vec::with_capacity(requests.len());
    let mut setup_error = None;
    for outgoing in &requests {
        match open_stream(&mut client, outgoing).await {
            Ok(stream) => streams.push(Some(stream)),
            Err(why) => {
                setup_error.get_or_insert(why);
                streams.push(None);
            }
        }
    }
    if let Some(why) = setup_error {
        return failed_group(SyncMode::Http2, &why);
    }
    // Everything but the final frames is on its way; one round trip later it has arrived.
    if let Err(e) = ping_pong.ping(Ping::opaque()).await {
        return failed_group(SyncMode::Http2, &format!("PING failed: {e}"));
    }

    // The release: queue every END_STREAM from this loop, without yielding in between.
    let mut releasing_at = Vec::with_capacity(requests.len());
    let mut released_at = Vec::with_capacity(requests.len());
    let mut errors: Vec<Option<String>> = vec![None; requests.len()];
    for (i, (stream, outgoing)) in streams.iter_mut().zip(&requests).enumerate() {
        let (send, _) = stream.as_mut().expect("every stream opened");
        releasing_at.push(Instant::now());
        let body = &outgoing.body;
        let last = if body.is_empty() {
            Bytes::new()
        } else {
            body.slice(body.len() - 1..)
        };
        if let Err(e) = send.send_data(last, true) {
            errors[i] = Some(format!("releasing the stream failed: {e}"));
        }
        released_at.push(Instant::now());
    }

    let mut exchanges = Vec::with_capacity(requests.len());
    for (index, ((request, stream), error)) in
        requests.into_iter().zip(streams).zip(errors).enumerate()
    {
        let (_send, response) = stream.expect("every stream opened");
        let response = match error {
            Some(why) => Err(classify(why)),
            None => connect::within(request.timeout, receive(response, request.max_body))
                .await
                .map_err(classify),
        };
        let started = releasing_at[index];
        exchanges.push(Exchange {
            index: Some(index),
            request: request.into(),
            response,
            started,
            finished: Instant::now(),
        });
    }
    GroupRun::released(exchanges, Release::together(SyncMode::Http2), &released_at)
}

type Stream = (h2::SendStream<Bytes>, client::ResponseFuture);

/// Sends HEADERS and all but the last byte of the content.
async fn open_stream(
    client: &mut SendRequest<Bytes>,
    outgoing: &Outgoing,
) -> Result<Stream, String> {
    let ready = client
        .clone()
        .ready()
        .await
        .map_err(|e| format!("HTTP/2 connection not ready: {e}"))?;
    *client = ready;
    let mut request = hyper::Request::new(());
    *request.method_mut() = outgoing.method.clone();
    *request.uri_mut() = outgoing
        .url
        .as_str()
        .parse()
        .map_err(|e| format!("invalid URL: {e}"))?;
    *request.headers_mut() = outgoing.headers.clone();
    // Connection-specific fields are not allowed in HTTP/2 (RFC 9113 8.2.2); :authority
    // replaces Host.
    for name in [HOST, CONNECTION, TRANSFER_ENCODING] {
        request.headers_mut().remove(name);
    }
    if !outgoing.body.is_empty() {
        request
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(outgoing.body.len()));
    }
    let (response, mut send) = client
        .send_request(request, false)
        .map_err(|e| format!("opening a stream failed: {e}"))?;
    if outgoing.body.len() > 1 {
        let head = outgoing.body.slice(..outgoing.body.len() - 1);
        send.send_data(head, false)
            .map_err(|e| format!("sending content failed: {e}"))?;
    }
    Ok((send, response))
}

async fn receive(response: client::ResponseFuture, max_body: usize) -> Result<Received, String> {
    let response = response
        .await
        .map_err(|e| format!("no response on the stream: {e}"))?;
    let (parts, mut body): (_, RecvStream) = response.into_parts();
    let mut content = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| format!("reading the response content failed: {e}"))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if content.len() + chunk.len() > max_body {
            return Err(format!(
                "response content larger than {max_body} bytes (--max-body)"
            ));
        }
        content.extend_from_slice(&chunk);
    }
    Ok(Received {
        status: parts.status.as_u16(),
        version: "HTTP/2.0",
        headers: crate::record::owned_headers(parts.headers),
        body: Bytes::from(content),
    })
}

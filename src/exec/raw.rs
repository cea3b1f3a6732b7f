//! `raw: true` requests: one request on a fresh connection with `Connection: close`, and the
//! response recorded exactly as the server sent it. HTTP clients (reqwest and hyper alike)
//! drop what a server sends after a 304's or a HEAD's header section; this reads to the end, so
//! the passive check `304.no-content` can see it.

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::connect::{self, origin_form};
use crate::record::{Outgoing, Received};

/// Sends `outgoing` and reads until the server closes the connection.
pub(super) async fn exchange(outgoing: &Outgoing) -> Result<Received, String> {
    connect::within(outgoing.timeout, async {
        let mut io = connect::open(&outgoing.url).await?;
        io.write_all(&request_bytes(outgoing))
            .await
            .map_err(|e| format!("sending failed: {e}"))?;
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let read = match io.read(&mut chunk).await {
                Ok(read) => read,
                // A TLS server that closes without close_notify, after a whole response: that
                // response stands (the parse below says whether it is whole).
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !bytes.is_empty() => 0,
                Err(e) => return Err(format!("reading failed: {e}")),
            };
            if read == 0 {
                break;
            }
            if bytes.len() + read > outgoing.max_body {
                return Err(format!(
                    "response larger than {} bytes (--max-body)",
                    outgoing.max_body
                ));
            }
            bytes.extend_from_slice(&chunk[..read]);
        }
        parse(&bytes)
    })
    .await
}

fn request_bytes(outgoing: &Outgoing) -> Vec<u8> {
    let url = &outgoing.url;
    let mut out = format!(
        "{} {} HTTP/1.1\r\nhost: {}\r\n",
        outgoing.method,
        origin_form(url),
        connect::authority(url)
    )
    .into_bytes();
    for (name, value) in &outgoing.headers {
        if matches!(name.as_str(), "host" | "connection" | "content-length") {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !outgoing.body.is_empty()
        || !matches!(outgoing.method, hyper::Method::GET | hyper::Method::HEAD)
    {
        out.extend_from_slice(format!("content-length: {}\r\n", outgoing.body.len()).as_bytes());
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&outgoing.body);
    out
}

/// The status line and header section (httparse), and everything after them as the content.
fn parse(bytes: &[u8]) -> Result<Received, String> {
    let mut fields = [httparse::EMPTY_HEADER; 128];
    let mut response = httparse::Response::new(&mut fields);
    let head_len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return Err("the connection closed before the header section ended".into())
        }
        Err(e) => return Err(format!("invalid HTTP response: {e}")),
    };
    let mut headers = HeaderMap::new();
    for field in response.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_bytes(field.value).map_err(|e| e.to_string())?;
        headers.append(name, value);
    }
    Ok(Received {
        status: response.code.unwrap_or_default(),
        version: match response.version {
            Some(0) => "HTTP/1.0",
            _ => "HTTP/1.1",
        },
        headers,
        body: Bytes::copy_from_slice(&bytes[head_len..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_after_the_header_section_is_content() {
        let r = parse(b"HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\nhello").unwrap();
        assert_eq!((r.status, &r.body[..]), (304, &b"hello"[..]));
        assert_eq!(r.header("etag").as_deref(), Some("\"a\""));
        assert!(parse(b"HTTP/1.1 200 OK\r\nETag: \"a\"\r\n").is_err());
        assert!(parse(b"HELLO\r\n\r\n").is_err());
    }
}

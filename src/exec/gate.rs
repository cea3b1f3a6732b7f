//! A gate on a connection's writes: hyper writes the whole request into it; the gate passes all
//! but the held-back bytes to the socket at once and keeps the rest until [`Gate::release`].
//!
//! `last-byte` holds the request's final byte (so the server has everything but one byte and
//! cannot act yet); `barrier` holds the whole request. One task then releases every gate of a
//! group in a loop: the final bytes leave within microseconds of each other, instead of waiting
//! on N tasks to be scheduled.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use super::connect::Io;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hold {
    /// Hold the request's last byte.
    LastByte,
    /// Hold the whole request.
    All,
}

struct State {
    io: Box<dyn Io>,
    hold: Hold,
    /// Length of the request content, known from the request (explicit Content-Length).
    content_length: usize,
    /// Bytes of the header section seen so far end with this much of "\r\n\r\n".
    terminator_matched: usize,
    /// Content bytes still to come once the header section has ended.
    content_left: Option<usize>,
    /// Request bytes accepted from hyper and not yet taken by the socket.
    outbox: Vec<u8>,
    held: Vec<u8>,
    /// The whole request has come through the gate (sent, waiting in the outbox, or held).
    ended: bool,
    /// Everything but the held bytes is on the wire; the request waits for release.
    ready: bool,
}

/// The shared half: the group's release task holds one per member.
#[derive(Clone)]
pub(super) struct Gate {
    state: Arc<Mutex<State>>,
    ready: Arc<Notify>,
}

/// The half hyper drives as its connection's IO.
pub(super) struct GatedIo(Gate);

pub(super) fn gate(io: Box<dyn Io>, hold: Hold, content_length: usize) -> (Gate, GatedIo) {
    let state = State {
        io,
        hold,
        content_length,
        terminator_matched: 0,
        content_left: None,
        outbox: Vec::new(),
        held: Vec::new(),
        ended: false,
        ready: false,
    };
    let gate = Gate {
        state: Arc::new(Mutex::new(state)),
        ready: Arc::new(Notify::new()),
    };
    (gate.clone(), GatedIo(gate))
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the gate hold the next request on its connection (kept from an earlier round) as
    /// it held the first. Called before the request is handed to hyper.
    pub(super) fn rearm(&self, hold: Hold, content_length: usize) {
        let mut state = self.lock();
        state.hold = hold;
        state.content_length = content_length;
        state.terminator_matched = 0;
        state.content_left = None;
        state.held.clear();
        state.ended = false;
        state.ready = false;
    }

    /// Waits until the request has been written up to the held bytes.
    pub(super) async fn ready(&self) {
        loop {
            let notified = self.ready.notified();
            if self.lock().ready {
                return;
            }
            notified.await;
        }
    }

    /// Writes the held bytes to the socket and flushes. Called from the group's one release
    /// task; a socket's send buffer takes a few bytes at once, so this rarely waits.
    pub(super) async fn release(&self) -> io::Result<()> {
        let mut written = 0;
        std::future::poll_fn(|cx| {
            let mut state = self.lock();
            let State { io, held, .. } = &mut *state;
            while written < held.len() {
                match Pin::new(&mut *io).poll_write(cx, &held[written..]) {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Poll::Ready(Ok(n)) => written += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            Pin::new(&mut *io).poll_flush(cx)
        })
        .await
    }
}

impl State {
    /// How many of `buf`'s bytes are still part of the request, and whether they end it.
    fn scan(&mut self, buf: &[u8]) -> (usize, bool) {
        let mut consumed = 0;
        if self.content_left.is_none() {
            for &byte in buf {
                consumed += 1;
                let expected = b"\r\n\r\n"[self.terminator_matched];
                self.terminator_matched = match (byte == expected, byte == b'\r') {
                    (true, _) => self.terminator_matched + 1,
                    (false, true) => 1,
                    (false, false) => 0,
                };
                if self.terminator_matched == 4 {
                    self.content_left = Some(self.content_length);
                    break;
                }
            }
        }
        let Some(left) = self.content_left.as_mut() else {
            return (consumed, false);
        };
        let take = (*left).min(buf.len() - consumed);
        *left -= take;
        (consumed + take, *left == 0)
    }
}

impl State {
    /// Writes what waits in the outbox; marks the gate ready once the request is all out but
    /// the held bytes. Returns whether the outbox is empty.
    fn drain(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        while !self.outbox.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &self.outbox) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => drop(self.outbox.drain(..n)),
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(false),
            }
        }
        Ok(true)
    }
}

impl GatedIo {
    fn settle(&self, state: &mut MutexGuard<'_, State>) {
        if state.ended && state.outbox.is_empty() && !state.ready {
            state.ready = true;
            self.0.ready.notify_waiters();
        }
    }
}

impl AsyncWrite for GatedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.0.lock();
        if state.ended {
            // After the request: nothing more is expected; pass anything through.
            return Pin::new(&mut state.io).poll_write(cx, buf);
        }
        let (part, ends) = state.scan(buf);
        let request = &buf[..part];
        let (send, keep) = match (state.hold, ends) {
            (Hold::All, _) => (&request[..0], request),
            (Hold::LastByte, true) => request.split_at(request.len() - 1),
            (Hold::LastByte, false) => (request, &request[..0]),
        };
        state.outbox.extend_from_slice(send);
        state.held.extend_from_slice(keep);
        state.ended = ends;
        // Whatever the socket did not take goes out at the next write or flush; hyper flushes
        // after every message, and the flush decides readiness.
        state.drain(cx)?;
        Poll::Ready(Ok(part))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.0.lock();
        if !state.drain(cx)? {
            return Poll::Pending;
        }
        // Ready only once the bytes are on the wire: a TLS stream holds them until flushed.
        let flushed = ready!(Pin::new(&mut state.io).poll_flush(cx));
        if flushed.is_ok() {
            self.settle(&mut state);
        }
        Poll::Ready(flushed)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0.lock().io).poll_shutdown(cx)
    }
}

impl AsyncRead for GatedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0.lock().io).poll_read(cx, buf)
    }
}

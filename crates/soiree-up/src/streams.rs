//! Byte streams the gateway serves to a bridge: a response body (`ByteStream`, written by the
//! bridge while the app sends it) and the browser's end of a WebSocket (`WebSocketStream`).

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use soiree_schema::util_capnp::byte_stream;
use soiree_schema::web_session_capnp::web_session::web_socket_stream;
use tokio::sync::mpsc;

/// What a response body stream delivers: bytes, then its end (a channel closed before the end
/// means the bridge failed).
pub enum Chunk {
    Data(Bytes),
    End,
}

/// `ByteStream` for a response body: every write goes to the HTTP response being sent.
pub struct BodySink {
    tx: RefCell<Option<mpsc::UnboundedSender<Chunk>>>,
}

impl BodySink {
    pub fn new() -> (BodySink, mpsc::UnboundedReceiver<Chunk>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            BodySink {
                tx: RefCell::new(Some(tx)),
            },
            rx,
        )
    }

    fn send(&self, chunk: Chunk) -> Result<(), capnp::Error> {
        match &*self.tx.borrow() {
            Some(tx) => tx
                .send(chunk)
                .map_err(|_| capnp::Error::disconnected("the client went away".into())),
            None => Err(capnp::Error::failed("write after done".into())),
        }
    }
}

impl byte_stream::Server for BodySink {
    fn write(
        self: Rc<Self>,
        params: byte_stream::WriteParams,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let r = params
            .get()
            .and_then(|p| p.get_data())
            .and_then(|d| self.send(Chunk::Data(Bytes::copy_from_slice(d))));
        std::future::ready(r)
    }

    fn done(
        self: Rc<Self>,
        _: byte_stream::DoneParams,
        _: byte_stream::DoneResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let r = self.send(Chunk::End);
        self.tx.borrow_mut().take();
        std::future::ready(r)
    }

    /// The size is only a hint; the body is sent chunked whatever it says.
    fn expect_size(
        self: Rc<Self>,
        _: byte_stream::ExpectSizeParams,
        _: byte_stream::ExpectSizeResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        std::future::ready(Ok(()))
    }
}

/// The browser's side of a WebSocket as the bridge sees it: raw protocol bytes from the app,
/// queued for the upgraded connection (the app may speak before the upgrade completes).
pub struct SocketSink {
    pub tx: mpsc::UnboundedSender<Bytes>,
}

impl web_socket_stream::Server for SocketSink {
    fn send_bytes(
        self: Rc<Self>,
        params: web_socket_stream::SendBytesParams,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let r = params.get().and_then(|p| p.get_message()).and_then(|m| {
            self.tx
                .send(Bytes::copy_from_slice(m))
                .map_err(|_| capnp::Error::disconnected("the client went away".into()))
        });
        std::future::ready(r)
    }
}

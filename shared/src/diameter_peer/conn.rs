//! One Diameter transport connection: framing over a byte stream, the packet tap,
//! and the capabilities exchange (CER/CEA) that opens every connection.

use super::PeerError;
use crate::codec::diameter::FindAvp;
use crate::codec::diameter::{
    Capabilities, CapabilitiesExchangeAnswer, CapabilitiesExchangeRequest, Command, Message,
    ResultCode, dict, frame_length,
};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Which way a packet went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketDirection {
    Sent,
    Received,
}

/// Sees every Diameter packet sent or received, raw (for `--log`, MM9TEST.LOG).
pub trait PacketTap: Send + Sync {
    fn packet(&self, peer: &str, direction: PacketDirection, bytes: &[u8]);
}

/// Writes packets as text that people can read and `text2pcap -D` can turn into
/// a capture: a `#` comment line, `O`/`I` for sent/received, then an `od`-style
/// hex dump with offsets from 0.
pub struct PacketLog {
    file: Mutex<std::fs::File>,
}

impl PacketLog {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: Mutex::new(std::fs::File::create(path)?),
        })
    }

    /// The text for one packet.
    pub fn format(peer: &str, direction: PacketDirection, bytes: &[u8]) -> String {
        let mut s = String::new();
        let (word, mark) = match direction {
            PacketDirection::Sent => ("sent to", 'O'),
            PacketDirection::Received => ("received from", 'I'),
        };
        let what = Message::from_bytes(bytes)
            .map(|m| {
                format!(
                    "{} {}",
                    m.header.code,
                    if m.header.is_request() {
                        "request"
                    } else {
                        "answer"
                    }
                )
            })
            .unwrap_or_else(|_| "undecodable".into());
        let _ = writeln!(
            s,
            "# {} {word} {peer}: {what}, {} bytes",
            humantime::format_rfc3339_millis(std::time::SystemTime::now()),
            bytes.len()
        );
        let _ = writeln!(s, "{mark}");
        for (i, chunk) in bytes.chunks(16).enumerate() {
            let _ = write!(s, "{:06x}", i * 16);
            for b in chunk {
                let _ = write!(s, " {b:02x}");
            }
            s.push('\n');
        }
        s.push('\n');
        s
    }
}

impl PacketTap for PacketLog {
    fn packet(&self, peer: &str, direction: PacketDirection, bytes: &[u8]) {
        let text = Self::format(peer, direction, bytes);
        if let Ok(mut f) = self.file.lock() {
            let _ = f.write_all(text.as_bytes());
            let _ = f.flush();
        }
    }
}

/// The largest message we accept from a peer.
pub const MAX_MESSAGE: usize = 1 << 20;

/// Reads whole messages from a stream.
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(4096),
        }
    }

    /// The next message's bytes; `Ok(None)` at a clean end of stream.
    pub async fn next_frame(&mut self) -> Result<Option<Vec<u8>>, PeerError> {
        loop {
            match frame_length(&self.buf) {
                Ok(Some(len)) if len > MAX_MESSAGE => {
                    return Err(PeerError::Protocol(format!(
                        "peer sent a {len}-byte message; limit {MAX_MESSAGE}"
                    )));
                }
                Ok(Some(len)) if self.buf.len() >= len => {
                    let rest = self.buf.split_off(len);
                    let frame = std::mem::replace(&mut self.buf, rest);
                    return Ok(Some(frame));
                }
                Ok(_) => {}
                Err(e) => return Err(PeerError::Protocol(format!("bad framing: {e}"))),
            }
            let mut chunk = [0u8; 8192];
            let n = self
                .inner
                .read(&mut chunk)
                .await
                .map_err(|e| PeerError::Io(e.to_string()))?;
            if n == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(PeerError::Io("connection closed inside a message".into()))
                };
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// A whole connection used step by step (capabilities exchange, `mm9test`).
pub struct Connection<S> {
    pub peer: String,
    reader: FrameReader<tokio::io::ReadHalf<S>>,
    writer: tokio::io::WriteHalf<S>,
    tap: Option<std::sync::Arc<dyn PacketTap>>,
}

impl<S: AsyncRead + AsyncWrite> Connection<S> {
    pub fn new(peer: &str, stream: S, tap: Option<std::sync::Arc<dyn PacketTap>>) -> Self {
        let (r, w) = tokio::io::split(stream);
        Self {
            peer: peer.to_string(),
            reader: FrameReader::new(r),
            writer: w,
            tap,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), PeerError> {
        if let Some(t) = &self.tap {
            t.packet(&self.peer, PacketDirection::Sent, bytes);
        }
        self.writer
            .write_all(bytes)
            .await
            .map_err(|e| PeerError::Io(e.to_string()))
    }

    /// The next message; an end of stream is an error here.
    pub async fn recv(&mut self) -> Result<(Message, Vec<u8>), PeerError> {
        let frame = self
            .reader
            .next_frame()
            .await?
            .ok_or_else(|| PeerError::Io("peer closed the connection".into()))?;
        if let Some(t) = &self.tap {
            t.packet(&self.peer, PacketDirection::Received, &frame);
        }
        let m = Message::from_bytes(&frame)
            .map_err(|e| PeerError::Protocol(format!("undecodable message: {e}")))?;
        Ok((m, frame))
    }

    /// Sends CER and waits for the CEA (with `timeout`); succeeds only on 2001.
    pub async fn capabilities_exchange(
        &mut self,
        caps: &Capabilities,
        ids: (u32, u32),
        timeout: Duration,
    ) -> Result<CapabilitiesExchangeAnswer, PeerError> {
        let cer = CapabilitiesExchangeRequest {
            hop_by_hop: ids.0,
            end_to_end: ids.1,
            capabilities: caps.clone(),
            extra: Vec::new(),
        };
        let bytes = cer
            .to_bytes()
            .map_err(|e| PeerError::Protocol(e.to_string()))?;
        self.send(&bytes).await?;
        let (m, _) = tokio::time::timeout(timeout, self.recv())
            .await
            .map_err(|_| PeerError::Timeout("no CEA".into()))??;
        if m.header.code != crate::codec::diameter::CommandCode::CEA || m.header.is_request() {
            return Err(PeerError::Protocol(format!(
                "expected CEA, got {}",
                m.header.code
            )));
        }
        // A refusing CEA may lack AVPs a successful one has: read the code first.
        let code: Option<ResultCode> = m.get(&dict::RESULT_CODE).ok().flatten();
        match code {
            Some(c) if c.is_success() => CapabilitiesExchangeAnswer::from_message(&m)
                .map_err(|e| PeerError::Protocol(format!("bad CEA: {e}"))),
            Some(c) => Err(PeerError::Refused(c.0)),
            None => Err(PeerError::Protocol("CEA without Result-Code".into())),
        }
    }
}

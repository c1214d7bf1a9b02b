//! PROXY protocol version 2 (the binary header a TCP load balancer such as an AWS
//! Network Load Balancer puts in front of the client's bytes), as specified in
//! HAProxy's `proxy-protocol.txt` §2.2.
//!
//! ```text
//! 0                   12   13    14   16
//! | signature (12 bytes) | v/c | fam | len (u16, big endian) | addresses | TLVs |
//! ```
//!
//! Only the header is parsed: the addresses tell us who the client really is. TLVs
//! (the NLB's VPC endpoint id, CRC, padding...) are checked for structure and skipped.
//! Version 1 (the text form) is not accepted: a listener configured for PROXY v2 must
//! not guess.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The 12-byte signature every v2 header starts with.
pub const SIGNATURE: [u8; 12] = [
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
];

/// Length of the fixed part: signature, version/command, family/protocol, length.
pub const FIXED_LEN: usize = 16;

/// Address block lengths by family.
const INET_LEN: usize = 12;
const INET6_LEN: usize = 36;
const UNIX_LEN: usize = 216;

/// What the header says about the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `LOCAL`: the proxy's own connection (health check); use the socket addresses.
    Local,
    /// `PROXY` with an address family we cannot use as an IP (`AF_UNSPEC`, `AF_UNIX`):
    /// the specification says to use the socket addresses.
    Unspecified,
    /// `PROXY` over TCP/UDP on IPv4 or IPv6: the real client and the address it called.
    Proxied {
        source: SocketAddr,
        destination: SocketAddr,
    },
}

impl ProxyHeader {
    /// The client address to use, given the address of the socket we accepted.
    pub fn client_addr(&self, socket_peer: SocketAddr) -> SocketAddr {
        match self {
            ProxyHeader::Proxied { source, .. } => *source,
            ProxyHeader::Local | ProxyHeader::Unspecified => socket_peer,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("not a PROXY protocol v2 header (bad signature)")]
    BadSignature,
    #[error("unsupported PROXY protocol version {0}")]
    BadVersion(u8),
    #[error("unknown PROXY protocol command {0}")]
    BadCommand(u8),
    #[error("unknown PROXY protocol address family {0}")]
    BadFamily(u8),
    #[error("unknown PROXY protocol transport {0}")]
    BadTransport(u8),
    #[error("PROXY header length {len} is too short for its address family (needs {need})")]
    ShortAddresses { len: usize, need: usize },
    #[error("PROXY header TLV at offset {0} overruns the header")]
    BadTlv(usize),
    #[error("{0} unexpected bytes after the PROXY header")]
    TrailingBytes(usize),
    #[error("PROXY header truncated: {have} of {need} bytes")]
    Truncated { have: usize, need: usize },
}

/// Validates the fixed 16-byte part and returns how many bytes follow it.
pub fn remaining_len(fixed: &[u8]) -> Result<usize, ProxyError> {
    if fixed.len() < FIXED_LEN {
        // Report a bad signature as early as the bytes show it.
        let n = fixed.len().min(SIGNATURE.len());
        if fixed[..n] != SIGNATURE[..n] {
            return Err(ProxyError::BadSignature);
        }
        return Err(ProxyError::Truncated {
            have: fixed.len(),
            need: FIXED_LEN,
        });
    }
    if fixed[..12] != SIGNATURE {
        return Err(ProxyError::BadSignature);
    }
    let version = fixed[12] >> 4;
    if version != 2 {
        return Err(ProxyError::BadVersion(version));
    }
    let command = fixed[12] & 0x0F;
    if command > 1 {
        return Err(ProxyError::BadCommand(command));
    }
    let family = fixed[13] >> 4;
    if family > 3 {
        return Err(ProxyError::BadFamily(family));
    }
    let transport = fixed[13] & 0x0F;
    if transport > 2 {
        return Err(ProxyError::BadTransport(transport));
    }
    let len = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    let need = match (command, family) {
        // LOCAL may carry anything (or nothing); it is ignored.
        (0, _) => 0,
        (_, 1) => INET_LEN,
        (_, 2) => INET6_LEN,
        (_, 3) => UNIX_LEN,
        _ => 0,
    };
    if len < need {
        return Err(ProxyError::ShortAddresses { len, need });
    }
    Ok(len)
}

/// Decodes one complete header (`FIXED_LEN + remaining_len` bytes). Trailing bytes
/// are an error: the caller reads exactly the header and nothing of the SMTP stream.
pub fn decode(header: &[u8]) -> Result<ProxyHeader, ProxyError> {
    let len = remaining_len(header)?;
    let need = FIXED_LEN + len;
    if header.len() < need {
        return Err(ProxyError::Truncated {
            have: header.len(),
            need,
        });
    }
    if header.len() > need {
        return Err(ProxyError::TrailingBytes(header.len() - need));
    }
    let command = header[12] & 0x0F;
    let family = header[13] >> 4;
    let body = &header[FIXED_LEN..];
    let (result, addr_len) = match (command, family) {
        (0, _) => (ProxyHeader::Local, 0),
        (_, 1) => {
            let src = Ipv4Addr::new(body[0], body[1], body[2], body[3]);
            let dst = Ipv4Addr::new(body[4], body[5], body[6], body[7]);
            let sport = u16::from_be_bytes([body[8], body[9]]);
            let dport = u16::from_be_bytes([body[10], body[11]]);
            (
                ProxyHeader::Proxied {
                    source: SocketAddr::new(IpAddr::V4(src), sport),
                    destination: SocketAddr::new(IpAddr::V4(dst), dport),
                },
                INET_LEN,
            )
        }
        (_, 2) => {
            let mut src = [0u8; 16];
            let mut dst = [0u8; 16];
            src.copy_from_slice(&body[0..16]);
            dst.copy_from_slice(&body[16..32]);
            let sport = u16::from_be_bytes([body[32], body[33]]);
            let dport = u16::from_be_bytes([body[34], body[35]]);
            (
                ProxyHeader::Proxied {
                    source: SocketAddr::new(IpAddr::V6(Ipv6Addr::from(src)), sport),
                    destination: SocketAddr::new(IpAddr::V6(Ipv6Addr::from(dst)), dport),
                },
                INET6_LEN,
            )
        }
        (_, 3) => (ProxyHeader::Unspecified, UNIX_LEN),
        _ => (ProxyHeader::Unspecified, 0),
    };
    // LOCAL and AF_UNSPEC bodies are opaque; elsewhere the rest must be whole TLVs.
    if command == 1 && family != 0 {
        check_tlvs(&body[addr_len..], FIXED_LEN + addr_len)?;
    }
    Ok(result)
}

/// Checks that `tlvs` is a sequence of complete type(1) length(2) value TLVs.
fn check_tlvs(tlvs: &[u8], base: usize) -> Result<(), ProxyError> {
    let mut at = 0;
    while at < tlvs.len() {
        if tlvs.len() - at < 3 {
            return Err(ProxyError::BadTlv(base + at));
        }
        let len = usize::from(u16::from_be_bytes([tlvs[at + 1], tlvs[at + 2]]));
        if tlvs.len() - at - 3 < len {
            return Err(ProxyError::BadTlv(base + at));
        }
        at += 3 + len;
    }
    Ok(())
}

/// Reads exactly one v2 header from `r` (never a byte more) and decodes it.
pub async fn read_header<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<ProxyHeader> {
    let invalid = |e: ProxyError| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let mut buf = vec![0u8; FIXED_LEN];
    r.read_exact(&mut buf).await?;
    let len = remaining_len(&buf).map_err(invalid)?;
    buf.resize(FIXED_LEN + len, 0);
    r.read_exact(&mut buf[FIXED_LEN..]).await?;
    decode(&buf).map_err(invalid)
}

/// Encodes a `PROXY` header for a TCP connection (used by tests and tools).
pub fn encode_proxied(source: SocketAddr, destination: SocketAddr, tlvs: &[u8]) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.push(0x21); // version 2, PROXY
    match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            out.push(0x11); // AF_INET, STREAM
            push_len(&mut out, INET_LEN + tlvs.len());
            out.extend_from_slice(&s.ip().octets());
            out.extend_from_slice(&d.ip().octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
        (s, d) => {
            let v6 = |a: SocketAddr| match a.ip() {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            out.push(0x21); // AF_INET6, STREAM
            push_len(&mut out, INET6_LEN + tlvs.len());
            out.extend_from_slice(&v6(s).octets());
            out.extend_from_slice(&v6(d).octets());
            out.extend_from_slice(&s.port().to_be_bytes());
            out.extend_from_slice(&d.port().to_be_bytes());
        }
    }
    out.extend_from_slice(tlvs);
    out
}

/// Encodes a `LOCAL` header (what a load balancer's health check sends).
pub fn encode_local() -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.push(0x20); // version 2, LOCAL
    out.push(0x00); // AF_UNSPEC, UNSPEC
    out.extend_from_slice(&[0, 0]);
    out
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    let len = u16::try_from(len).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_sample() -> Vec<u8> {
        let mut h = SIGNATURE.to_vec();
        h.extend_from_slice(&[
            0x21, // version 2, command PROXY
            0x11, // AF_INET, STREAM
            0x00, 0x0C, // length 12
            192, 0, 2, 10, // source 192.0.2.10
            203, 0, 113, 5, // destination 203.0.113.5
            0xC3, 0x50, // source port 50000
            0x00, 0x19, // destination port 25
        ]);
        h
    }

    #[test]
    fn decodes_ipv4() {
        let got = decode(&v4_sample()).expect("valid header");
        assert_eq!(
            got,
            ProxyHeader::Proxied {
                source: "192.0.2.10:50000".parse().expect("addr"),
                destination: "203.0.113.5:25".parse().expect("addr"),
            }
        );
        assert_eq!(
            got.client_addr("10.0.0.1:1".parse().expect("addr")),
            "192.0.2.10:50000".parse().expect("addr")
        );
    }

    #[test]
    fn decodes_ipv6_with_tlvs() {
        let mut h = SIGNATURE.to_vec();
        h.push(0x21); // v2 PROXY
        h.push(0x21); // AF_INET6, STREAM
        let tlvs: &[u8] = &[
            0xEA, 0x00, 0x05, 0x01, b'v', b'p', b'c', b'e', // PP2_TYPE_AWS, 5 bytes
            0x04, 0x00, 0x00, // PP2_TYPE_NOOP, empty
        ];
        h.extend_from_slice(&(36u16 + tlvs.len() as u16).to_be_bytes());
        let src: Ipv6Addr = "2001:db8::1".parse().expect("v6");
        let dst: Ipv6Addr = "2001:db8::25".parse().expect("v6");
        h.extend_from_slice(&src.octets());
        h.extend_from_slice(&dst.octets());
        h.extend_from_slice(&40000u16.to_be_bytes());
        h.extend_from_slice(&25u16.to_be_bytes());
        h.extend_from_slice(tlvs);
        assert_eq!(
            decode(&h).expect("valid"),
            ProxyHeader::Proxied {
                source: "[2001:db8::1]:40000".parse().expect("addr"),
                destination: "[2001:db8::25]:25".parse().expect("addr"),
            }
        );
    }

    #[test]
    fn decodes_local() {
        let h = encode_local();
        assert_eq!(h.len(), 16);
        assert_eq!(decode(&h).expect("valid"), ProxyHeader::Local);
        let sock: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        assert_eq!(ProxyHeader::Local.client_addr(sock), sock);
        // LOCAL with an (ignored) address block is fine too.
        let mut with_body = v4_sample();
        with_body[12] = 0x20;
        assert_eq!(decode(&with_body).expect("valid"), ProxyHeader::Local);
    }

    #[test]
    fn decodes_unspec_and_unix_as_unspecified() {
        let mut h = SIGNATURE.to_vec();
        h.extend_from_slice(&[0x21, 0x00, 0x00, 0x00]);
        assert_eq!(decode(&h).expect("valid"), ProxyHeader::Unspecified);
        let mut u = SIGNATURE.to_vec();
        u.extend_from_slice(&[0x21, 0x31]);
        u.extend_from_slice(&216u16.to_be_bytes());
        u.extend_from_slice(&[0u8; 216]);
        assert_eq!(decode(&u).expect("valid"), ProxyHeader::Unspecified);
    }

    #[test]
    fn round_trips_encoded_headers() {
        for (s, d) in [
            ("192.0.2.1:1234", "198.51.100.2:25"),
            ("[2001:db8::7]:1", "[2001:db8::8]:25"),
        ] {
            let s: SocketAddr = s.parse().expect("addr");
            let d: SocketAddr = d.parse().expect("addr");
            let h = encode_proxied(s, d, &[0x04, 0x00, 0x01, 0x00]);
            assert_eq!(
                decode(&h).expect("valid"),
                ProxyHeader::Proxied {
                    source: s,
                    destination: d
                }
            );
        }
    }

    #[test]
    fn rejects_malformed_headers() {
        // PROXY v1 text header.
        let v1 = b"PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n";
        assert_eq!(decode(v1), Err(ProxyError::BadSignature));
        // A plain SMTP client talking to a PROXY listener.
        assert_eq!(decode(b"EHLO x\r\n"), Err(ProxyError::BadSignature));
        let mut h = v4_sample();
        h[12] = 0x11; // version 1
        assert_eq!(decode(&h), Err(ProxyError::BadVersion(1)));
        let mut h = v4_sample();
        h[12] = 0x22; // command 2
        assert_eq!(decode(&h), Err(ProxyError::BadCommand(2)));
        let mut h = v4_sample();
        h[13] = 0x41; // family 4
        assert_eq!(decode(&h), Err(ProxyError::BadFamily(4)));
        let mut h = v4_sample();
        h[13] = 0x13; // transport 3
        assert_eq!(decode(&h), Err(ProxyError::BadTransport(3)));
        let mut h = v4_sample();
        h[15] = 8; // length 8 < 12 for AF_INET
        h.truncate(24);
        assert_eq!(
            decode(&h),
            Err(ProxyError::ShortAddresses { len: 8, need: 12 })
        );
        // A TLV that claims more bytes than the header holds.
        let mut h = v4_sample();
        h[15] = 12 + 4;
        h.extend_from_slice(&[0x04, 0x00, 0x09, 0x00]);
        assert_eq!(decode(&h), Err(ProxyError::BadTlv(28)));
        // Trailing bytes after the declared length.
        let mut h = v4_sample();
        h.push(b'E');
        assert_eq!(decode(&h), Err(ProxyError::TrailingBytes(1)));
    }

    #[test]
    fn every_truncated_prefix_fails_cleanly() {
        for full in [v4_sample(), encode_local()] {
            for n in 0..full.len() {
                let got = decode(&full[..n]);
                assert!(
                    matches!(got, Err(ProxyError::Truncated { .. })),
                    "prefix {n}: {got:?}"
                );
            }
        }
    }

    /// A small deterministic fuzzer: mutated and random headers never panic, and
    /// whatever decodes as PROXY re-encodes to a header that decodes the same.
    #[test]
    fn fuzzed_headers_never_panic() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let v6 = encode_proxied(
            "[2001:db8::1]:1".parse().expect("addr"),
            "[2001:db8::2]:2".parse().expect("addr"),
            &[0x04, 0x00, 0x01, 0x00],
        );
        let bases = [v4_sample(), v6, encode_local()];
        for round in 0..50_000 {
            let mut h = bases[round % bases.len()].clone();
            for _ in 0..(next() % 4) {
                let i = (next() as usize) % h.len();
                h[i] = next() as u8;
            }
            match next() % 4 {
                0 => h.truncate((next() as usize) % (h.len() + 1)),
                1 => h.extend((0..next() % 8).map(|_| next() as u8)),
                _ => {}
            }
            if let Ok(ProxyHeader::Proxied {
                source,
                destination,
            }) = decode(&h)
            {
                let again = encode_proxied(source, destination, &[]);
                assert_eq!(
                    decode(&again),
                    Ok(ProxyHeader::Proxied {
                        source,
                        destination
                    })
                );
            }
        }
        for _ in 0..20_000 {
            let mut h: Vec<u8> = if next() % 2 == 0 {
                SIGNATURE.to_vec()
            } else {
                Vec::new()
            };
            h.extend((0..next() % 80).map(|_| next() as u8));
            let _ = decode(&h);
        }
    }

    #[tokio::test]
    async fn reads_exactly_the_header_from_a_stream() {
        let mut bytes = v4_sample();
        bytes.extend_from_slice(b"EHLO client\r\n");
        let mut r: &[u8] = &bytes;
        let got = read_header(&mut r).await.expect("valid");
        assert!(matches!(got, ProxyHeader::Proxied { .. }));
        assert_eq!(r, b"EHLO client\r\n");
        let mut bad: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let err = read_header(&mut bad).await.expect_err("malformed");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }
}

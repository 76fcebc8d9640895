//! HTTP content codings: compressed request bodies and compressed replies.
//!
//! DynamoDB decodes request bodies sent with `Content-Encoding: gzip` or
//! `deflate` (the SDKs' request compression), and compresses replies of
//! 4 KB or more with gzip or deflate when the request's `Accept-Encoding`
//! allows it. Its rules, recorded with their sources in
//! `docs/research/http.md`, are not quite RFC 9110's (a q-value above 1
//! counts as 1, the first coding listed wins a tie, a named coding beats
//! `*`, `x-gzip` is not gzip), and `x-amz-crc32` must describe the
//! compressed bytes; tower-http's layers differ on each point, so the
//! negotiation lives here and `flate2` does the (de)compression.
//!
//! Decoding never produces more than the caller's limit: a small body that
//! inflates past it is refused as soon as the limit is crossed.

use std::io::{Read, Write};

/// A content coding Tarn decodes and produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// RFC 1952 gzip.
    Gzip,
    /// RFC 1950 zlib, which HTTP calls `deflate`.
    Deflate,
}

impl Coding {
    /// The name in `Content-Encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }
}

/// Why a request body could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A coding other than gzip, deflate and identity, or more stacked
    /// codings than [`STACKED_CODINGS_MAX`].
    Unsupported,
    /// The body is not valid data of the coding it claims (an empty body
    /// included).
    Corrupt,
    /// A decoding step produced more than the limit.
    TooLarge,
}

/// At most this many non-identity codings are undone for one request, so
/// that nested compression cannot multiply the work of one body.
pub const STACKED_CODINGS_MAX: usize = 8;

/// A reply this long or longer is compressed when the client accepts it
/// (DynamoDB's 4 KB threshold).
pub const COMPRESS_BYTES_MIN: usize = 4096;

/// The first bytes of a gzip member: magic and the deflate method.
const GZIP_MEMBER_START: [u8; 3] = [0x1f, 0x8b, 0x08];

/// The codings named by the `Content-Encoding` header values, in the order
/// they were applied (RFC 9110 §8.4: a repeated header continues the
/// list). `identity` and empty entries are skipped.
pub fn parse_content_encoding<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Coding>, DecodeError> {
    let mut codings = Vec::new();
    for value in values {
        for entry in value.split(|b| *b == b',') {
            let entry = entry.trim_ascii();
            if entry.is_empty() || entry.eq_ignore_ascii_case(b"identity") {
                continue;
            }
            let coding = if entry.eq_ignore_ascii_case(b"gzip") {
                Coding::Gzip
            } else if entry.eq_ignore_ascii_case(b"deflate") {
                Coding::Deflate
            } else {
                return Err(DecodeError::Unsupported);
            };
            if codings.len() == STACKED_CODINGS_MAX {
                return Err(DecodeError::Unsupported);
            }
            codings.push(coding);
        }
    }
    Ok(codings)
}

/// Undoes `codings` (in the order they were applied, so the last first),
/// never producing more than `limit_bytes` at any step.
pub fn decode(codings: &[Coding], body: &[u8], limit_bytes: usize) -> Result<Vec<u8>, DecodeError> {
    let mut current: Option<Vec<u8>> = None;
    for coding in codings.iter().rev() {
        let input = current.as_deref().unwrap_or(body);
        let output = match coding {
            Coding::Gzip => gunzip(input, limit_bytes)?,
            Coding::Deflate => inflate_zlib(input, limit_bytes)?,
        };
        current = Some(output);
    }
    Ok(current.unwrap_or_else(|| body.to_vec()))
}

/// Decodes gzip as Java's `GZIPInputStream` does, which is what DynamoDB
/// answers match: members are concatenated, and after a complete member
/// bytes that do not start another member are ignored.
fn gunzip(input: &[u8], limit_bytes: usize) -> Result<Vec<u8>, DecodeError> {
    if input.is_empty() {
        return Err(DecodeError::Corrupt);
    }
    let mut out = Vec::new();
    let mut rest = input;
    // Every member is at least 18 bytes, so this bounds the loop.
    for _ in 0..=input.len() / 18 {
        let mut member = flate2::bufread::GzDecoder::new(rest);
        read_bounded(&mut member, &mut out, limit_bytes)?;
        rest = member.into_inner();
        if !rest.starts_with(&GZIP_MEMBER_START) {
            return Ok(out);
        }
    }
    Err(DecodeError::Corrupt)
}

/// Decodes one zlib stream; whatever follows it is ignored, as Java's
/// `InflaterInputStream` ignores it.
fn inflate_zlib(input: &[u8], limit_bytes: usize) -> Result<Vec<u8>, DecodeError> {
    if input.is_empty() {
        return Err(DecodeError::Corrupt);
    }
    let mut out = Vec::new();
    read_bounded(
        &mut flate2::bufread::ZlibDecoder::new(input),
        &mut out,
        limit_bytes,
    )?;
    Ok(out)
}

/// Appends what `reader` decodes to `out`, failing as soon as `out` would
/// pass `limit_bytes`.
fn read_bounded(
    reader: &mut impl Read,
    out: &mut Vec<u8>,
    limit_bytes: usize,
) -> Result<(), DecodeError> {
    let room = limit_bytes.saturating_sub(out.len()) as u64 + 1;
    match reader.take(room).read_to_end(out) {
        Ok(_) if out.len() > limit_bytes => Err(DecodeError::TooLarge),
        Ok(_) => Ok(()),
        Err(_) => Err(DecodeError::Corrupt),
    }
}

/// The coding DynamoDB would choose for a reply, given the request's
/// `Accept-Encoding` value (the last one, when the header is repeated), or
/// `None` for a plain reply. The rules are DynamoDB's, listed in
/// `docs/research/http.md`.
pub fn negotiate(accept_encoding: Option<&[u8]>) -> Option<Coding> {
    /// What the header says about one name.
    #[derive(Clone, Copy, Default)]
    struct Said {
        /// Highest q of its entries (a repeated coding counts if any
        /// entry accepts it).
        q: Option<f32>,
        /// Index of its first entry.
        first: usize,
    }
    let value = accept_encoding?;
    let (mut gzip, mut deflate, mut star) = (Said::default(), Said::default(), Said::default());
    for (i, entry) in value.split(|b| *b == b',').enumerate() {
        let mut parts = entry.split(|b| *b == b';');
        let name = parts.next().unwrap_or_default().trim_ascii();
        let said = if name.eq_ignore_ascii_case(b"gzip") {
            &mut gzip
        } else if name.eq_ignore_ascii_case(b"deflate") {
            &mut deflate
        } else if name == b"*" {
            &mut star
        } else {
            continue;
        };
        let q = parts.find_map(q_param).unwrap_or(1.0);
        match said.q {
            None => {
                *said = Said {
                    q: Some(q),
                    first: i,
                }
            }
            Some(old) => said.q = Some(old.max(q)),
        }
    }
    // A candidate: (q, named rather than through `*`, earlier first).
    let rank = |said: Said, star_order: usize| -> Option<(f32, bool, usize)> {
        match (said.q, star.q) {
            (Some(q), _) => Some((q, true, said.first)),
            (None, Some(q)) => Some((q, false, star_order)),
            (None, None) => None,
        }
    };
    let mut best: Option<(Coding, (f32, bool, usize))> = None;
    for (coding, said, star_order) in [(Coding::Gzip, gzip, 0), (Coding::Deflate, deflate, 1)] {
        let Some(r) = rank(said, star_order) else {
            continue;
        };
        if r.0 <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, b)) => r.0 > b.0 || (r.0 == b.0 && (r.1 && !b.1 || r.1 == b.1 && r.2 < b.2)),
        };
        if better {
            best = Some((coding, r));
        }
    }
    best.map(|(coding, _)| coding)
}

/// The value of a `q` parameter (`q=0.5`, ` Q = 0.5 `), or `None` for any
/// other parameter. An unparsable value counts as 1, a negative one as 0
/// and one above 1 as 1, as DynamoDB counts them.
fn q_param(param: &[u8]) -> Option<f32> {
    let (name, value) = param.split_at(param.iter().position(|b| *b == b'=')?);
    if !name.trim_ascii().eq_ignore_ascii_case(b"q") {
        return None;
    }
    let value = value[1..].trim_ascii();
    let parsed = std::str::from_utf8(value)
        .ok()
        .filter(|v| !v.starts_with('+'))
        .and_then(|v| v.parse::<f32>().ok())
        .filter(|q| !q.is_nan());
    Some(parsed.map_or(1.0, |q| q.clamp(0.0, 1.0)))
}

/// Compresses a reply body; `None` if the encoder failed (the reply is then
/// sent plain).
pub fn encode(coding: Coding, body: &[u8]) -> Option<Vec<u8>> {
    // Fastest level: replies go to a local client, so latency matters more
    // than the last bytes of ratio.
    let level = flate2::Compression::fast();
    let out = Vec::with_capacity(body.len() / 4 + 64);
    match coding {
        Coding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(out, level);
            e.write_all(body).ok()?;
            e.finish().ok()
        }
        Coding::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(out, level);
            e.write_all(body).ok()?;
            e.finish().ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn codings(v: &str) -> Result<Vec<Coding>, DecodeError> {
        parse_content_encoding([v.as_bytes()])
    }

    #[test]
    fn accept_encoding_follows_dynamodb() {
        use Coding::{Deflate, Gzip};
        // Every row of the table in docs/research/http.md.
        let cases: &[(&str, Option<Coding>)] = &[
            ("identity", None),
            ("", None),
            ("br", None),
            ("zstd", None),
            ("compress", None),
            ("x-gzip", None),
            ("gzip", Some(Gzip)),
            ("deflate", Some(Deflate)),
            ("gzip, deflate", Some(Gzip)),
            ("br, identity, deflate, gzip", Some(Deflate)),
            ("GZIP, identity", Some(Gzip)),
            ("dog, gzip ,, cat", Some(Gzip)),
            ("gzip;q=0.8, deflate;q=0.5", Some(Gzip)),
            (
                "br, gzip;q=0, deflate; q = 0.5 , identity;q=0",
                Some(Deflate),
            ),
            ("*", Some(Gzip)),
            ("*, deflate;q=0.5", Some(Gzip)),
            ("*, deflate", Some(Deflate)),
            ("*, identity", Some(Gzip)),
            ("*, gzip;q=0.5", Some(Deflate)),
            ("gzip ;q=0", None),
            ("identity;q=0", None),
            ("*;q=0", None),
            ("*;q=0.5,identity", Some(Gzip)),
            ("gzip;q=0.5,identity;q=0.8", Some(Gzip)),
            ("br;q=0.8,identity;q=0.5,*;q=0", None),
            ("\"gzip\"", None),
            ("gzip br", None),
            ("gzip:q=1", None),
            ("deflate;q=0.5, gzip;q=31", Some(Gzip)),
            ("gzip;q=31,deflate;q=51", Some(Gzip)),
            ("deflate;q=0.5, gzip;q=0.2", Some(Deflate)),
            ("deflate;q=0.5, gzip;q=1;q=0.2", Some(Gzip)),
            ("deflate;q=0.5,gzip;q=0.", Some(Deflate)),
            ("deflate;q=0.5,gzip;q=0.x", Some(Gzip)),
            ("deflate;q=-0.5,gzip;q=0.2", Some(Gzip)),
            ("gzip;nq=1;q=0 ", None),
            ("gzip;q=0, gzip;q=1, gzip;q=0", Some(Gzip)),
            ("br,identity;q=0.5,gzip;q=0.0001", Some(Gzip)),
        ];
        for (header, want) in cases {
            assert_eq!(negotiate(Some(header.as_bytes())), *want, "{header:?}");
        }
        assert_eq!(negotiate(None), None);
    }

    #[test]
    fn content_encoding_lists_codings_in_applied_order() {
        assert_eq!(codings(""), Ok(vec![]));
        assert_eq!(codings("identity"), Ok(vec![]));
        assert_eq!(codings("GZip"), Ok(vec![Coding::Gzip]));
        assert_eq!(
            codings("deflate, identity,gzip"),
            Ok(vec![Coding::Deflate, Coding::Gzip])
        );
        assert_eq!(
            parse_content_encoding([b"deflate".as_slice(), b"gzip".as_slice()]),
            Ok(vec![Coding::Deflate, Coding::Gzip])
        );
        for bad in ["garbage", "x-gzip", "br", "gzip, br", "\"gzip\""] {
            assert_eq!(codings(bad), Err(DecodeError::Unsupported), "{bad}");
        }
        let nine = ["gzip"; STACKED_CODINGS_MAX + 1].join(",");
        assert_eq!(codings(&nine), Err(DecodeError::Unsupported));
        let eight = ["gzip"; STACKED_CODINGS_MAX].join(",");
        assert_eq!(codings(&eight).map(|c| c.len()), Ok(STACKED_CODINGS_MAX));
    }

    #[test]
    fn gzip_members_concatenate_and_trailing_junk_is_ignored() {
        let data = br#"{"TableName":"t"}"#;
        let mut two = gzip(&data[..5]);
        two.extend(gzip(&data[5..]));
        assert_eq!(decode(&[Coding::Gzip], &two, 1000), Ok(data.to_vec()));
        let mut junk = gzip(data);
        junk.extend_from_slice(b"junk");
        assert_eq!(decode(&[Coding::Gzip], &junk, 1000), Ok(data.to_vec()));
    }

    #[test]
    fn broken_bodies_are_corrupt() {
        let data = br#"{"TableName":"t"}"#;
        let g = gzip(data);
        let z = zlib(data);
        let cases: Vec<(Coding, Vec<u8>)> = vec![
            (Coding::Gzip, vec![]),
            (Coding::Gzip, data.to_vec()),
            (Coding::Gzip, g[..g.len() - 1].to_vec()),
            (Coding::Gzip, g[..g.len() / 2].to_vec()),
            (Coding::Deflate, vec![]),
            (Coding::Deflate, data.to_vec()),
            (Coding::Deflate, z[..z.len() - 1].to_vec()),
            (Coding::Deflate, z[..z.len() / 2].to_vec()),
            // A second member that starts like one but is cut short.
            (Coding::Gzip, [g.as_slice(), &g[..12]].concat()),
        ];
        for (coding, body) in cases {
            assert_eq!(
                decode(&[coding], &body, 1000),
                Err(DecodeError::Corrupt),
                "{coding:?} {body:?}"
            );
        }
    }

    #[test]
    fn a_second_zlib_stream_is_ignored() {
        let mut two = zlib(b"first");
        two.extend(zlib(b"second"));
        assert_eq!(
            decode(&[Coding::Deflate], &two, 1000),
            Ok(b"first".to_vec())
        );
    }

    #[test]
    fn stacked_codings_are_undone_last_first() {
        let data = b"stacked body";
        let body = gzip(&zlib(data));
        assert_eq!(
            decode(&[Coding::Deflate, Coding::Gzip], &body, 1000),
            Ok(data.to_vec())
        );
        assert_eq!(
            decode(&[Coding::Gzip, Coding::Deflate], &body, 1000),
            Err(DecodeError::Corrupt)
        );
        assert_eq!(decode(&[], data, 1000), Ok(data.to_vec()));
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let zeros = vec![0u8; 1 << 20];
        for (coding, body) in [
            (Coding::Gzip, gzip(&zeros)),
            (Coding::Deflate, zlib(&zeros)),
        ] {
            assert!(body.len() < 4096);
            assert_eq!(decode(&[coding], &body, 1 << 20), Ok(zeros.clone()));
            assert_eq!(
                decode(&[coding], &body, (1 << 20) - 1),
                Err(DecodeError::TooLarge)
            );
        }
        // Each of several members fits; together they do not.
        let mut members = Vec::new();
        for _ in 0..3 {
            members.extend(gzip(&zeros[..1000]));
        }
        assert_eq!(
            decode(&[Coding::Gzip], &members, 2999),
            Err(DecodeError::TooLarge)
        );
        // A nested bomb: the outer step stays small, the inner one is cut.
        let nested = gzip(&gzip(&zeros));
        assert_eq!(
            decode(&[Coding::Gzip, Coding::Gzip], &nested, 4096),
            Err(DecodeError::TooLarge)
        );
    }

    #[test]
    fn encoded_replies_round_trip() {
        let body: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for coding in [Coding::Gzip, Coding::Deflate] {
            let z = encode(coding, &body).expect("encode");
            assert_eq!(decode(&[coding], &z, body.len()), Ok(body.clone()));
        }
    }
}

//! AWS Signature Version 4, for DynamoDB's `POST /` requests.
//!
//! DynamoDB Local and AWS reject a request without a valid `Authorization`
//! header, so every request is signed. The AWS SDK's signer would bring the
//! whole SDK into the hot path; this one is the few lines the protocol needs,
//! on RustCrypto's `sha2` and `hmac` (the maintained, audited-by-use pure-Rust
//! implementations that the AWS SDK for Rust itself can use), with the
//! signing key cached per day and every buffer reused, so a signature costs
//! two SHA-256 passes over small inputs and one HMAC.
//!
//! The general [`canonical_request`] is checked against AWS's published
//! test-suite vectors, and the DynamoDB fast path ([`Signer`]) against it.

use std::fmt::Write as _;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Credentials; any will do for Tarn and dynalite, DynamoDB Local wants a
/// well-formed header, AWS real ones.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    // Hex digits are ASCII.
    String::from_utf8(out).expect("ascii")
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(secret: &str, date8: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date8.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The canonical request and the signed-header list, for any method, path
/// and header set. `query` pairs must already be URI-encoded; they are
/// sorted here. Header names are lowercased, values trimmed.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    payload_hash: &str,
) -> (String, String) {
    let mut q: Vec<_> = query.to_vec();
    q.sort_unstable();
    let query = q
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut h: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    h.sort_unstable();
    let mut canonical_headers = String::new();
    for (k, v) in &h {
        let _ = writeln!(canonical_headers, "{k}:{v}");
    }
    let signed = h
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (
        format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{payload_hash}"),
        signed,
    )
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time in seconds (UTC, proleptic Gregorian).
pub fn amz_date(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let secs = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (y, m, d).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The signature headers of one request, borrowed from the [`Signer`].
pub struct Signed<'a> {
    pub amz_date: &'a str,
    pub authorization: &'a str,
    pub security_token: Option<&'a str>,
}

/// Signs DynamoDB requests (`POST /`, JSON body, signed headers
/// `content-type;host;x-amz-date[;x-amz-security-token];x-amz-target`) for
/// one host. Holds the day's signing key and the scratch buffers.
pub struct Signer {
    creds: Credentials,
    region: String,
    service: String,
    host: String,
    signed_headers: &'static str,
    key_day: Option<u64>,
    key: [u8; 32],
    scope: String,
    /// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=`.
    authorization_prefix: String,
    date_sec: Option<u64>,
    amz_date: String,
    canonical: Vec<u8>,
    sts: Vec<u8>,
    authorization: String,
}

impl Signer {
    /// `host` is the exact `Host` header value sent (with the port when it
    /// is not the scheme's default).
    pub fn new(creds: Credentials, region: &str, service: &str, host: &str) -> Self {
        let signed_headers = if creds.session_token.is_some() {
            "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        } else {
            "content-type;host;x-amz-date;x-amz-target"
        };
        Self {
            creds,
            region: region.to_owned(),
            service: service.to_owned(),
            host: host.to_owned(),
            signed_headers,
            key_day: None,
            key: [0; 32],
            scope: String::new(),
            authorization_prefix: String::new(),
            date_sec: None,
            amz_date: String::new(),
            canonical: Vec::with_capacity(512),
            sts: Vec::with_capacity(256),
            authorization: String::with_capacity(256),
        }
    }

    /// Sign `POST /` with `X-Amz-Target: target` and `body` at `unix_secs`.
    pub fn sign(&mut self, unix_secs: u64, target: &str, body: &[u8]) -> Signed<'_> {
        if self.date_sec != Some(unix_secs) {
            self.amz_date = amz_date(unix_secs);
            self.date_sec = Some(unix_secs);
        }
        let day = unix_secs / 86_400;
        if self.key_day != Some(day) {
            let date8 = &self.amz_date[..8];
            self.key = signing_key(
                &self.creds.secret_access_key,
                date8,
                &self.region,
                &self.service,
            );
            self.scope = format!("{date8}/{}/{}/aws4_request", self.region, self.service);
            self.authorization_prefix = format!(
                "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature=",
                self.creds.access_key_id, self.scope, self.signed_headers
            );
            self.key_day = Some(day);
        }

        let c = &mut self.canonical;
        c.clear();
        c.extend_from_slice(b"POST\n/\n\ncontent-type:");
        c.extend_from_slice(CONTENT_TYPE.as_bytes());
        c.extend_from_slice(b"\nhost:");
        c.extend_from_slice(self.host.as_bytes());
        c.extend_from_slice(b"\nx-amz-date:");
        c.extend_from_slice(self.amz_date.as_bytes());
        if let Some(token) = &self.creds.session_token {
            c.extend_from_slice(b"\nx-amz-security-token:");
            c.extend_from_slice(token.as_bytes());
        }
        c.extend_from_slice(b"\nx-amz-target:");
        c.extend_from_slice(target.as_bytes());
        c.extend_from_slice(b"\n\n");
        c.extend_from_slice(self.signed_headers.as_bytes());
        c.push(b'\n');
        push_hex(c, &Sha256::digest(body));

        let s = &mut self.sts;
        s.clear();
        s.extend_from_slice(ALGORITHM.as_bytes());
        s.push(b'\n');
        s.extend_from_slice(self.amz_date.as_bytes());
        s.push(b'\n');
        s.extend_from_slice(self.scope.as_bytes());
        s.push(b'\n');
        push_hex(s, &Sha256::digest(&self.canonical));

        let mut sig = [0u8; 64];
        for (pair, b) in sig.chunks_exact_mut(2).zip(hmac(&self.key, &self.sts)) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 15)];
        }
        self.authorization.clear();
        self.authorization.push_str(&self.authorization_prefix);
        // Hex digits are ASCII.
        self.authorization
            .push_str(std::str::from_utf8(&sig).expect("ascii"));
        Signed {
            amz_date: &self.amz_date,
            authorization: &self.authorization,
            security_token: self.creds.session_token.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The credentials, date, region and service of AWS's SigV4 test suite.
    const ACCESS: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";
    const SCOPE: &str = "20150830/us-east-1/service/aws4_request";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn suite_signature(method: &str, query: &[(&str, &str)]) -> (String, String, String) {
        let (canonical, signed) = canonical_request(
            method,
            "/",
            query,
            &[("Host", "example.amazonaws.com"), ("X-Amz-Date", DATE)],
            EMPTY_SHA256,
        );
        let sts = string_to_sign(DATE, SCOPE, &canonical);
        let key = signing_key(SECRET, "20150830", "us-east-1", "service");
        (canonical, signed, hex(&hmac(&key, sts.as_bytes())))
    }

    #[test]
    fn get_vanilla_matches_the_aws_test_suite() {
        let (canonical, signed, sig) = suite_signature("GET", &[]);
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // get-vanilla.sts, fourth line: the hash of the canonical request.
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(signed, "host;x-amz-date");
        // get-vanilla.authz.
        assert_eq!(
            sig,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(
            format!(
                "{ALGORITHM} Credential={ACCESS}/{SCOPE}, SignedHeaders={signed}, Signature={sig}"
            ),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn post_vanilla_matches_the_aws_test_suite() {
        let (_, _, sig) = suite_signature("POST", &[]);
        assert_eq!(
            sig,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn query_parameters_are_sorted_as_in_the_aws_test_suite() {
        // get-vanilla-query-order-key-case: given as Param2, Param1.
        let (_, _, sig) = suite_signature("GET", &[("Param2", "value2"), ("Param1", "value1")]);
        assert_eq!(
            sig,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn amz_date_formats_utc() {
        assert_eq!(amz_date(1_440_938_160), DATE);
        assert_eq!(amz_date(0), "19700101T000000Z");
        // A leap day and the last second of a year.
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(1_735_689_599), "20241231T235959Z");
    }

    fn dynamodb_reference(token: Option<&str>, body: &[u8]) -> String {
        let target = "DynamoDB_20120810.GetItem";
        let mut headers = vec![
            ("Content-Type", CONTENT_TYPE),
            ("Host", "127.0.0.1:8000"),
            ("X-Amz-Date", DATE),
            ("X-Amz-Target", target),
        ];
        if let Some(t) = token {
            headers.push(("X-Amz-Security-Token", t));
        }
        let (canonical, signed) = canonical_request("POST", "/", &[], &headers, &sha256_hex(body));
        let scope = "20150830/us-east-1/dynamodb/aws4_request";
        let sts = string_to_sign(DATE, scope, &canonical);
        let key = signing_key(SECRET, "20150830", "us-east-1", "dynamodb");
        format!(
            "{ALGORITHM} Credential={ACCESS}/{scope}, SignedHeaders={signed}, Signature={}",
            hex(&hmac(&key, sts.as_bytes()))
        )
    }

    fn fast(token: Option<&str>, body: &[u8]) -> String {
        let creds = Credentials {
            access_key_id: ACCESS.into(),
            secret_access_key: SECRET.into(),
            session_token: token.map(Into::into),
        };
        let mut signer = Signer::new(creds, "us-east-1", "dynamodb", "127.0.0.1:8000");
        let signed = signer.sign(1_440_938_160, "DynamoDB_20120810.GetItem", body);
        assert_eq!(signed.amz_date, DATE);
        assert_eq!(signed.security_token, token);
        signed.authorization.to_owned()
    }

    #[test]
    fn the_dynamodb_fast_path_agrees_with_the_general_signer() {
        let body = br#"{"TableName":"t","Key":{"pk":{"S":"user1"},"sk":{"N":"1"}}}"#;
        assert_eq!(fast(None, body), dynamodb_reference(None, body));
        assert_eq!(
            fast(Some("session/token+="), body),
            dynamodb_reference(Some("session/token+="), body)
        );
    }

    #[test]
    fn a_dynamodb_request_signs_as_botocore_signs_it() {
        // Computed with botocore 1.43's SigV4Auth for the same request
        // (POST / to 127.0.0.1:8000, the headers above, this body, at
        // 2015-08-30T12:36:00Z, with and without a session token): an
        // independent implementation.
        let body = br#"{"TableName":"t","Key":{"pk":{"S":"user1"},"sk":{"N":"1"}}}"#;
        let head =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request";
        assert_eq!(
            fast(None, body),
            format!(
                "{head}, SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
                 Signature=eb2fac70eb0111bf555f8c96d4aedaf8d56da23c6a252f7ae3b74e7e480bfb1c"
            )
        );
        assert_eq!(
            fast(Some("session/token+="), body),
            format!(
                "{head}, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
                 Signature=4902a1b93d97fe0cf196b7ba38a6093acc50479b0f86fe1cc9b733eb0bb23ae1"
            )
        );
    }

    #[test]
    fn the_signing_key_is_reused_within_a_day_and_renewed_after() {
        let creds = Credentials {
            access_key_id: ACCESS.into(),
            secret_access_key: SECRET.into(),
            session_token: None,
        };
        let mut signer = Signer::new(creds, "us-east-1", "dynamodb", "h");
        let a = signer
            .sign(1_440_938_160, "T", b"")
            .authorization
            .to_owned();
        let b = signer
            .sign(1_440_938_161, "T", b"")
            .authorization
            .to_owned();
        assert_ne!(a, b, "the date is signed");
        let c = signer
            .sign(1_440_938_160 + 86_400, "T", b"")
            .authorization
            .to_owned();
        assert!(c.contains("Credential=AKIDEXAMPLE/20150831/us-east-1/dynamodb/aws4_request"));
    }
}

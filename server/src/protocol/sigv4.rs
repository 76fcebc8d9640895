//! The shape of a request's SigV4 signature, checked as AWS checks it
//! before it looks at the signature itself: an `Authorization` header
//! (`AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
//! SignedHeaders=host;…, Signature=…`) with a date header, or the same
//! parameters in the query string of a presigned URL. Tarn accepts any
//! credentials, so the signature is never computed; a request without one,
//! or with one AWS would refuse as incomplete, gets AWS's error and
//! message (`docs/research/protocols.md`, from dynalite's and kinesalite's
//! AWS-verified tests).
//!
//! The credential scope's service also routes the query protocol: SNS,
//! IAM and SQS all post forms to `/`.
//!
//! A well-formed header costs one pass over its bytes and no allocation.

use std::borrow::Cow;

use axum::http::{header, HeaderMap};

/// Why a request's signature is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header and no presigned query, or a header that
    /// is not SigV4: MissingAuthenticationToken(Exception).
    Missing,
    /// Parameters missing or malformed: IncompleteSignature(Exception),
    /// with AWS's message.
    Incomplete(String),
    /// A signature AWS would reject before comparing it (both kinds of
    /// signature at once, a scope for another service):
    /// InvalidSignatureException.
    Invalid(String),
}

/// A request's signature, of an acceptable shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The service its credential scope names (`dynamodb`, `sns`, ...).
    pub service: Cow<'a, str>,
}

/// The date header SigV4 signs.
const X_AMZ_DATE: header::HeaderName = header::HeaderName::from_static("x-amz-date");

/// The only algorithm AWS takes.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last element of every credential scope.
const TERMINATOR: &str = "aws4_request";
/// The query parameters of a presigned request, in the order AWS names the
/// missing ones.
const QUERY_PARAMS: [&str; 5] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
];

/// Checks the signature's shape; `service` is the signing name the
/// request's service expects (`None` when the scope itself decides the
/// service, as for the query protocol).
pub fn check<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
    service: Option<&str>,
) -> Result<Signed<'a>, AuthError> {
    let authorization = headers.get(header::AUTHORIZATION);
    let presigned = query.filter(|q| q.contains("X-Amz-")).and_then(|q| {
        let pairs: Vec<(Cow<'a, str>, Cow<'a, str>)> =
            form_urlencoded::parse(q.as_bytes()).collect();
        pairs
            .iter()
            .any(|(k, _)| k == "X-Amz-Algorithm")
            .then_some(pairs)
    });
    match (authorization, presigned) {
        (Some(_), Some(_)) => Err(AuthError::Invalid(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
                .to_owned(),
        )),
        (None, None) => Err(AuthError::Missing),
        (Some(value), None) => {
            let value = std::str::from_utf8(value.as_bytes()).map_err(|_| AuthError::Missing)?;
            check_header(headers, value, service)
        }
        (None, Some(pairs)) => check_query(pairs, service),
    }
}

/// The `Authorization` header's parameters, as AWS reads them: tokens
/// split at commas and spaces, the first being the algorithm; a later
/// repeat of a parameter wins.
fn check_header<'a>(
    headers: &HeaderMap,
    value: &'a str,
    service: Option<&str>,
) -> Result<Signed<'a>, AuthError> {
    if !value.trim().starts_with("AWS4-") {
        return Err(AuthError::Missing);
    }
    // Tokens end at commas and spaces; the first is the algorithm. Both
    // delimiters are ASCII, so every token boundary is a char boundary.
    let bytes = value.as_bytes();
    let (mut credential, mut signature, mut signed_headers) = (None, None, None);
    let mut algorithm = None;
    let mut start = 0;
    for end in memchr::memchr2_iter(b',', b' ', bytes).chain(std::iter::once(bytes.len())) {
        let token = &value[start..end];
        start = end + 1;
        if algorithm.is_none() {
            algorithm = Some(token);
            continue;
        }
        // `key=value`, the value ending at a further `=`.
        let Some(eq) = memchr::memchr(b'=', token.as_bytes()) else {
            continue;
        };
        let rest = &token[eq + 1..];
        let v = Some(match memchr::memchr(b'=', rest.as_bytes()) {
            Some(next) => &rest[..next],
            None => rest,
        });
        match &token[..eq] {
            "Credential" => credential = v,
            "Signature" => signature = v,
            "SignedHeaders" => signed_headers = v,
            _ => {}
        }
    }
    let algorithm = algorithm.unwrap_or("");
    let present = |v: Option<&str>| v.is_some_and(|v| !v.is_empty());
    let dated = [&X_AMZ_DATE, &header::DATE]
        .into_iter()
        .any(|h| headers.get(h).is_some_and(|v| !v.is_empty()));
    if !(present(credential) && present(signature) && present(signed_headers) && dated) {
        let mut message = String::new();
        for (name, v) in [
            ("Credential", credential),
            ("Signature", signature),
            ("SignedHeaders", signed_headers),
        ] {
            if !present(v) {
                message.push_str(&format!(
                    "Authorization header requires '{name}' parameter. "
                ));
            }
        }
        if !dated {
            message.push_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
            );
        }
        message.push_str("Authorization=");
        message.push_str(value);
        return Err(AuthError::Incomplete(message));
    }
    check_parts(
        algorithm,
        credential.unwrap_or(""),
        signed_headers.unwrap_or(""),
        service,
    )
    .map(|scope| Signed {
        service: Cow::Borrowed(scope),
    })
}

/// A presigned request's query parameters.
fn check_query<'a>(
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    service: Option<&str>,
) -> Result<Signed<'a>, AuthError> {
    let get = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    };
    let mut message = String::new();
    for name in QUERY_PARAMS {
        if get(name).is_none() {
            message.push_str(&format!(
                "AWS query-string parameters must include '{name}'. "
            ));
        }
    }
    if !message.is_empty() {
        message.push_str("Re-examine the query-string parameters.");
        return Err(AuthError::Incomplete(message));
    }
    let scope = check_parts(
        get("X-Amz-Algorithm").unwrap_or(""),
        get("X-Amz-Credential").unwrap_or(""),
        get("X-Amz-SignedHeaders").unwrap_or(""),
        service,
    )?;
    Ok(Signed {
        service: Cow::Owned(scope.to_owned()),
    })
}

/// The checks AWS makes once every parameter is there, in its order:
/// `host` signed, the algorithm, a five-part credential, then the scope's
/// service and terminator (the region and date are not checked: any
/// region is this server's, and its clock is not the point). Returns the
/// scope's service.
fn check_parts<'c>(
    algorithm: &str,
    credential: &'c str,
    signed_headers: &str,
    service: Option<&str>,
) -> Result<&'c str, AuthError> {
    // SDKs sign `host` in lower case, which a substring search finds
    // quickly; any case counts.
    let host_signed = signed_headers == "host"
        || signed_headers.starts_with("host;")
        || signed_headers.ends_with(";host")
        || signed_headers.contains(";host;")
        || signed_headers
            .split(';')
            .any(|h| h.eq_ignore_ascii_case("host"));
    if !host_signed {
        return Err(AuthError::Invalid(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    if algorithm != ALGORITHM {
        return Err(AuthError::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "
        )));
    }
    let scope = credential.trim_end_matches('/');
    let mut slashes = memchr::memchr_iter(b'/', scope.as_bytes());
    let (Some(_), Some(_), Some(service_at), Some(terminator_at), None) = (
        slashes.next(),
        slashes.next(),
        slashes.next(),
        slashes.next(),
        slashes.next(),
    ) else {
        return Err(AuthError::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    let scope_service = &scope[service_at + 1..terminator_at];
    let terminator = &scope[terminator_at + 1..];
    let mut problems = Vec::new();
    if let Some(want) = service.filter(|want| *want != scope_service) {
        problems.push(format!(
            "Credential should be scoped to correct service: '{want}'."
        ));
    }
    if terminator != TERMINATOR {
        problems.push(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        ));
    }
    if problems.is_empty() {
        Ok(scope_service)
    } else {
        Err(AuthError::Invalid(problems.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    fn incomplete(m: &str) -> Result<Signed<'static>, AuthError> {
        Err(AuthError::Incomplete(m.to_owned()))
    }

    #[test]
    fn a_well_formed_header_names_its_service() {
        let h = headers(&[("authorization", GOOD), ("x-amz-date", "20260101T000000Z")]);
        assert_eq!(
            check(&h, None, Some("dynamodb")),
            Ok(Signed {
                service: Cow::Borrowed("dynamodb")
            })
        );
        let h = headers(&[("authorization", GOOD), ("date", "Thu, 01 Jan 2026")]);
        assert!(check(&h, None, None).is_ok());
    }

    #[test]
    fn missing_and_foreign_headers_are_missing_tokens() {
        assert_eq!(check(&headers(&[]), None, None), Err(AuthError::Missing));
        for v in ["AWS4", "X", "Bearer abc", "aws4-hmac-sha256 Credential=a"] {
            let h = headers(&[("authorization", v)]);
            assert_eq!(check(&h, None, None), Err(AuthError::Missing), "{v}");
        }
        // Query parameters without X-Amz-Algorithm are no signature.
        assert_eq!(
            check(
                &headers(&[]),
                Some("X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-SignedHeaders=c&X-Amz-Date=d"),
                None
            ),
            Err(AuthError::Missing)
        );
        let h = headers(&[("authorization", "X")]);
        assert_eq!(
            check(&h, Some("X-Amz-Algorith"), None),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn incomplete_headers_list_what_is_missing() {
        let h = headers(&[("authorization", "AWS4-")]);
        assert_eq!(
            check(&h, None, None),
            incomplete("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-")
        );
        for v in [
            "AWS4- Signature=b Credential=a",
            "AWS4- Signature=b,Credential=a",
            "AWS4- Signature=b, Credential=a",
        ] {
            let h = headers(&[("authorization", v), ("date", "a")]);
            assert_eq!(
                check(&h, None, None),
                incomplete(&format!(
                    "Authorization header requires 'SignedHeaders' parameter. Authorization={v}"
                )),
                "{v}"
            );
        }
    }

    #[test]
    fn both_kinds_of_signature_are_invalid() {
        let h = headers(&[("authorization", "X")]);
        assert_eq!(
            check(&h, Some("X-Amz-Algorithm"), None),
            Err(AuthError::Invalid("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.".to_owned()))
        );
    }

    #[test]
    fn presigned_queries_list_what_is_missing() {
        assert_eq!(
            check(&headers(&[]), Some("X-Amz-Algorithm"), None),
            incomplete("AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.")
        );
        assert_eq!(
            check(
                &headers(&[]),
                Some("X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d"),
                None
            ),
            incomplete("AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.")
        );
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fsqs%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab";
        assert_eq!(
            check(&headers(&[]), Some(q), Some("sqs")).map(|s| s.service.into_owned()),
            Ok("sqs".to_owned())
        );
    }

    #[test]
    fn scopes_and_algorithms_are_checked() {
        let with = |auth: &str| headers(&[("authorization", auth), ("x-amz-date", "x")]);
        let h = with("AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=s");
        assert_eq!(
            check(&h, None, None),
            incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'")
        );
        // Trailing slashes are ignored.
        let h = with("AWS4-HMAC-SHA256 Credential=a/b/c/dynamodb/aws4_request//, SignedHeaders=host, Signature=s");
        assert!(check(&h, None, Some("dynamodb")).is_ok());
        let h = with("AWS4-HMAC-SHA25 Credential=a/b/c/d/e, SignedHeaders=host, Signature=s");
        assert_eq!(
            check(&h, None, None),
            incomplete(
                "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "
            )
        );
        let h =
            with("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=x-amz-date, Signature=s");
        assert_eq!(
            check(&h, None, None),
            Err(AuthError::Invalid(
                "'Host' must be a 'SignedHeader' in the AWS Authorization.".to_owned()
            ))
        );
        let h = with("AWS4-HMAC-SHA256 Credential=a/b/c/sqs/e, SignedHeaders=host, Signature=s");
        assert_eq!(
            check(&h, None, Some("dynamodb")),
            Err(AuthError::Invalid("Credential should be scoped to correct service: 'dynamodb'. Credential should be scoped with a valid terminator: 'aws4_request', not 'e'.".to_owned()))
        );
    }
}

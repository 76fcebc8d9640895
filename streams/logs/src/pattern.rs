//! CloudWatch Logs filter patterns, as FilterLogEvents applies them to an
//! event's message.
//!
//! - Terms: `ERROR timeout` matches messages holding every term
//!   (case-sensitive substrings); `"two words"` is one term; `?A ?B`
//!   matches messages holding either; `-term` excludes. An empty pattern
//!   (or `""`) matches everything.
//! - JSON: `{ $.level = "ERROR" }`, `{ $.latency > 100 }`,
//!   `{ $.a.b != "x" && $.n <= 3 }`, `||` too (no parentheses): selectors
//!   are dotted paths with `[n]` indexes, string values may use `*` as a
//!   wildcard, numbers compare numerically; a message that is not a JSON
//!   object matches nothing.
//! - Space-delimited: `[ip, user, status = 404, ...]` names the fields
//!   of a message split on spaces (`"…"` and `[…]` keep spaces inside);
//!   `...` matches any number of fields; conditions as in JSON patterns.

use serde_json::Value;

/// A filter pattern that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern")]
pub struct InvalidPattern;

/// A parsed filter pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// Matches every message.
    All,
    /// Plain terms.
    Terms {
        /// Each must occur.
        all: Vec<String>,
        /// At least one must occur, if any are given.
        any: Vec<String>,
        /// None may occur.
        none: Vec<String>,
    },
    /// A JSON pattern: alternatives (`||`) of conjunctions (`&&`).
    Json(Vec<Vec<Cond>>),
    /// A space-delimited pattern: field names (`None` for `...`) and
    /// conditions on named fields.
    Fields {
        /// The fields, in order.
        fields: Vec<Option<String>>,
        /// Conditions on them (alternatives of conjunctions).
        conds: Vec<Vec<Cond>>,
    },
}

/// One comparison of a selector with a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Cond {
    /// The selector: JSON path parts or a field name.
    pub path: Vec<String>,
    /// The operator.
    pub op: Op,
    /// The value compared with.
    pub value: Literal,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A value in a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A number.
    Number(f64),
    /// A string, perhaps with `*` wildcards.
    Text(String),
}

impl Pattern {
    /// Parses a pattern.
    pub fn parse(s: &str) -> Result<Pattern, InvalidPattern> {
        let t = s.trim();
        if t.is_empty() || t == "\"\"" {
            return Ok(Pattern::All);
        }
        if let Some(body) = t.strip_prefix('{') {
            let body = body.strip_suffix('}').ok_or(InvalidPattern)?;
            return Ok(Pattern::Json(parse_conds(body, true)?));
        }
        if let Some(body) = t.strip_prefix('[') {
            let body = body.strip_suffix(']').ok_or(InvalidPattern)?;
            return parse_fields(body);
        }
        parse_terms(t)
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms { all, any, none } => {
                all.iter().all(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                    && !none.iter().any(|t| message.contains(t.as_str()))
            }
            Pattern::Json(alts) => {
                let Ok(v) = serde_json::from_str::<Value>(message) else {
                    return false;
                };
                if !v.is_object() {
                    return false;
                }
                alts.iter().any(|conj| {
                    conj.iter().all(|c| {
                        let mut at = &v;
                        for p in &c.path {
                            let next = match p.parse::<usize>() {
                                Ok(i) if at.is_array() => at.get(i),
                                _ => at.get(p.as_str()),
                            };
                            match next {
                                Some(n) => at = n,
                                None => return false,
                            }
                        }
                        compare_json(at, c.op, &c.value)
                    })
                })
            }
            Pattern::Fields { fields, conds } => {
                let words = split_fields(message);
                let Some(bound) = bind(fields, &words) else {
                    return false;
                };
                conds.is_empty()
                    || conds.iter().any(|conj| {
                        conj.iter().all(|c| {
                            let name = c.path.first().map(String::as_str).unwrap_or("");
                            bound
                                .iter()
                                .find(|(n, _)| *n == name)
                                .is_some_and(|(_, w)| compare_text(w, c.op, &c.value))
                        })
                    })
            }
        }
    }
}

fn parse_terms(t: &str) -> Result<Pattern, InvalidPattern> {
    let (mut all, mut any, mut none) = (Vec::new(), Vec::new(), Vec::new());
    let mut chars = t.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut kind = 0u8;
        if c == '?' || c == '-' {
            kind = if c == '?' { 1 } else { 2 };
            chars.next();
        }
        let mut term = String::new();
        if chars.peek().map(|&(_, c)| c) == Some('"') {
            chars.next();
            let mut closed = false;
            for (_, c) in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                term.push(c);
            }
            if !closed {
                return Err(InvalidPattern);
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                term.push(c);
                chars.next();
            }
        }
        if term.is_empty() {
            continue;
        }
        match kind {
            1 => any.push(term),
            2 => none.push(term),
            _ => all.push(term),
        }
    }
    if all.is_empty() && any.is_empty() && none.is_empty() {
        return Ok(Pattern::All);
    }
    Ok(Pattern::Terms { all, any, none })
}

/// `a && b || c`: alternatives of conjunctions. `json`: selectors start
/// with `$.`.
fn parse_conds(body: &str, json: bool) -> Result<Vec<Vec<Cond>>, InvalidPattern> {
    let mut alts = Vec::new();
    for alt in split_outside_quotes(body, "||") {
        let mut conj = Vec::new();
        for c in split_outside_quotes(alt, "&&") {
            let c = c
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim();
            conj.push(parse_cond(c, json)?);
        }
        alts.push(conj);
    }
    Ok(alts)
}

fn split_outside_quotes<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            quoted = !quoted;
        } else if !quoted && bytes[i..].starts_with(sep.as_bytes()) {
            out.push(&s[start..i]);
            i += sep.len();
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

fn parse_cond(c: &str, json: bool) -> Result<Cond, InvalidPattern> {
    let ops = [
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let (at, op, len) = ops
        .iter()
        .filter_map(|(s, op)| c.find(s).map(|i| (i, *op, s.len())))
        .min_by_key(|(i, _, len)| (*i, usize::MAX - len))
        .ok_or(InvalidPattern)?;
    let sel = c[..at].trim();
    let val = c[at + len..].trim();
    let path: Vec<String> = if json {
        let rest = sel.strip_prefix("$.").ok_or(InvalidPattern)?;
        rest.replace('[', ".")
            .replace(']', "")
            .split('.')
            .map(str::to_owned)
            .collect()
    } else {
        vec![sel.to_owned()]
    };
    if path.iter().any(String::is_empty) || val.is_empty() {
        return Err(InvalidPattern);
    }
    let value = if let Some(q) = val.strip_prefix('"') {
        Literal::Text(q.strip_suffix('"').ok_or(InvalidPattern)?.to_owned())
    } else if let Ok(n) = val.parse::<f64>() {
        Literal::Number(n)
    } else {
        Literal::Text(val.to_owned())
    };
    if matches!(value, Literal::Text(_)) && !matches!(op, Op::Eq | Op::Ne) {
        return Err(InvalidPattern);
    }
    Ok(Cond { path, op, value })
}

fn parse_fields(body: &str) -> Result<Pattern, InvalidPattern> {
    let mut fields = Vec::new();
    let mut conds = Vec::new();
    for part in split_outside_quotes(body, ",") {
        let part = part.trim();
        if part.is_empty() {
            return Err(InvalidPattern);
        }
        if part == "..." {
            fields.push(None);
            continue;
        }
        let name_end = part
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(part.len());
        let name = &part[..name_end];
        if name.is_empty() {
            return Err(InvalidPattern);
        }
        if name_end < part.len() {
            for alt in parse_conds(part, false)? {
                for c in alt {
                    if c.path.first().map(String::as_str) != Some(name) {
                        return Err(InvalidPattern);
                    }
                    conds.push(c);
                }
            }
        }
        fields.push(Some(name.to_owned()));
    }
    let conds = if conds.is_empty() {
        Vec::new()
    } else {
        vec![conds]
    };
    Ok(Pattern::Fields { fields, conds })
}

/// Splits a message into space-delimited fields; `"…"` and `[…]` keep
/// their spaces (and lose their delimiters).
fn split_fields(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = message.trim();
    while !rest.is_empty() {
        let (close, skip) = match rest.as_bytes()[0] {
            b'"' => (Some('"'), 1),
            b'[' => (Some(']'), 1),
            _ => (None, 0),
        };
        let (field, next) = match close.and_then(|c| rest[skip..].find(c)) {
            Some(end) => (&rest[skip..skip + end], &rest[skip + end + 1..]),
            None => match rest.find(' ') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            },
        };
        out.push(field);
        rest = next.trim_start();
    }
    out
}

/// Names each field; `...` takes as many as it must. `None` if the
/// message does not have the pattern's number of fields.
fn bind<'a, 'b>(
    fields: &'a [Option<String>],
    words: &[&'b str],
) -> Option<Vec<(&'a str, &'b str)>> {
    let named = fields.iter().filter(|f| f.is_some()).count();
    let gaps = fields.len() - named;
    if gaps == 0 && words.len() != named || words.len() < named {
        return None;
    }
    let mut out = Vec::new();
    let mut w = 0;
    // Only the first `...` takes the slack.
    let mut slack = words.len() - named;
    for f in fields {
        match f {
            Some(name) => {
                out.push((name.as_str(), *words.get(w)?));
                w += 1;
            }
            None => {
                w += slack;
                slack = 0;
            }
        }
    }
    Some(out)
}

fn wildcard(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
    }
    true
}

fn compare_num(a: f64, op: Op, b: f64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
    }
}

fn compare_text(s: &str, op: Op, lit: &Literal) -> bool {
    match lit {
        Literal::Number(n) => s.parse::<f64>().is_ok_and(|v| compare_num(v, op, *n)),
        Literal::Text(t) => match op {
            Op::Eq => wildcard(t, s),
            Op::Ne => !wildcard(t, s),
            _ => false,
        },
    }
}

fn compare_json(v: &Value, op: Op, lit: &Literal) -> bool {
    match (v, lit) {
        (Value::Number(n), Literal::Number(b)) => {
            n.as_f64().is_some_and(|a| compare_num(a, op, *b))
        }
        (Value::String(s), _) => compare_text(s, op, lit),
        (Value::Bool(b), Literal::Text(t)) => compare_text(
            if *b { "true" } else { "false" },
            op,
            &Literal::Text(t.clone()),
        ),
        (Value::Null, Literal::Text(t)) => compare_text("null", op, &Literal::Text(t.clone())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, msg: &str) -> bool {
        Pattern::parse(p).expect("parses").matches(msg)
    }

    #[test]
    fn terms_phrases_alternatives_and_exclusions() {
        assert!(m("", "anything"));
        assert!(m("\"\"", "anything"));
        assert!(m("ERROR", "an ERROR here"));
        assert!(!m("ERROR", "an error here"));
        assert!(m("ERROR timeout", "timeout: ERROR"));
        assert!(!m("ERROR timeout", "ERROR only"));
        assert!(m("\"two words\"", "has two words in it"));
        assert!(!m("\"two words\"", "words two"));
        assert!(m("?WARN ?ERROR", "WARN x"));
        assert!(!m("?WARN ?ERROR", "INFO x"));
        assert!(m("ERROR -retry", "ERROR once"));
        assert!(!m("ERROR -retry", "ERROR retry"));
        assert!(Pattern::parse("\"open").is_err());
    }

    #[test]
    fn json_patterns_select_and_compare() {
        let msg =
            r#"{"level":"ERROR","latency":120,"req":{"path":"/a/b"},"tags":["x","y"],"ok":false}"#;
        assert!(m(r#"{ $.level = "ERROR" }"#, msg));
        assert!(!m(r#"{ $.level = "INFO" }"#, msg));
        assert!(m(r#"{ $.latency > 100 }"#, msg));
        assert!(!m(r#"{ $.latency <= 100 }"#, msg));
        assert!(m(r#"{ $.req.path = "/a/*" }"#, msg));
        assert!(m(r#"{ $.tags[1] = "y" }"#, msg));
        assert!(m(r#"{ $.level = "ERROR" && $.latency >= 120 }"#, msg));
        assert!(m(r#"{ $.level = "INFO" || $.latency != 1 }"#, msg));
        assert!(m(r#"{ $.ok = false }"#, msg));
        assert!(!m(r#"{ $.missing = "x" }"#, msg));
        assert!(!m(r#"{ $.level = "ERROR" }"#, "not json"));
        assert!(Pattern::parse("{ level = 1 }").is_err());
        assert!(Pattern::parse("{ $.level = 1").is_err());
    }

    /// Any text parses or is refused, and any pattern matches or not,
    /// without a panic (non-ASCII included: the parser slices strings).
    #[test]
    fn random_patterns_never_panic() {
        const ALPHABET: &[&str] = &[
            "{", "}", "[", "]", "$.", "a", "é", "\"", "=", "!=", ">", "<=", "&&", "||", " ", ",",
            "...", "*", "1", "-", "?", "(", ")", ".", "0",
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let messages = [r#"{"a":1,"é":"x"}"#, "a é 1", "", "[1] \"é\" 3", "{"];
        for _ in 0..20_000 {
            let text: String = (0..next(12))
                .map(|_| ALPHABET[next(ALPHABET.len())])
                .collect();
            if let Ok(p) = Pattern::parse(&text) {
                for m in messages {
                    let _ = p.matches(m);
                }
            }
        }
    }

    #[test]
    fn space_delimited_patterns_name_fields() {
        let msg = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /x HTTP/1.0" 404 1534"#;
        assert!(m("[ip, id, user, time, request, status = 404, size]", msg));
        assert!(!m("[ip, id, user, time, request, status = 200, size]", msg));
        assert!(m("[ip, ..., status = 4*, size > 1000]", msg));
        assert!(!m("[ip, user]", msg));
        assert!(m(r#"[..., request = "GET *", status, size]"#, msg));
    }
}

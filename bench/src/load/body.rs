//! DynamoDB JSON request bodies, written straight into a reused buffer.
//!
//! Record `i` is `{pk: S "user{i/10}", sk: N i%10, field0: S <value>}`, so
//! the ten records of a partition are one 10-item Query. Table names are
//! checked against DynamoDB's alphabet (`[A-Za-z0-9_.-]`) once, and values
//! are ASCII alphanumerics, so nothing written here needs JSON escaping.

use std::io::Write;

use super::dist::Rng;

/// DynamoDB's table-name rule: 3 to 255 characters of `[A-Za-z0-9_.-]`.
pub fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The partition of record `id`.
pub fn partition_of(id: u64) -> u64 {
    id / 10
}

/// Random alphanumeric text, from which each write takes a window of
/// `value_bytes` at a random offset: values differ from write to write
/// without generating fresh random bytes for each.
#[derive(Clone, Debug)]
pub struct ValuePool {
    text: Vec<u8>,
    value_bytes: usize,
}

impl ValuePool {
    pub fn new(rng: &mut Rng, value_bytes: usize) -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let len = value_bytes * 2 + 64;
        let text = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
            .collect();
        Self { text, value_bytes }
    }

    pub fn value(&self, rng: &mut Rng) -> &[u8] {
        let room = self.text.len() - self.value_bytes;
        let at = rng.below(room as u64 + 1) as usize;
        &self.text[at..at + self.value_bytes]
    }
}

fn key(buf: &mut Vec<u8>, id: u64) {
    // Writes to a Vec cannot fail.
    let _ = write!(
        buf,
        r#""pk":{{"S":"user{}"}},"sk":{{"N":"{}"}}"#,
        partition_of(id),
        id % 10
    );
}

fn item(buf: &mut Vec<u8>, id: u64, value: &[u8]) {
    buf.push(b'{');
    key(buf, id);
    buf.extend_from_slice(br#","field0":{"S":""#);
    buf.extend_from_slice(value);
    buf.extend_from_slice(br#""}}"#);
}

fn table(buf: &mut Vec<u8>, table: &str) {
    buf.extend_from_slice(br#"{"TableName":""#);
    buf.extend_from_slice(table.as_bytes());
    buf.extend_from_slice(b"\"");
}

/// `PutItem` of record `id`.
pub fn put_item(buf: &mut Vec<u8>, table_name: &str, id: u64, value: &[u8]) {
    table(buf, table_name);
    buf.extend_from_slice(br#","Item":"#);
    item(buf, id, value);
    buf.push(b'}');
}

/// `GetItem` of record `id`.
pub fn get_item(buf: &mut Vec<u8>, table_name: &str, id: u64, consistent: bool) {
    table(buf, table_name);
    buf.extend_from_slice(br#","Key":{"#);
    key(buf, id);
    buf.push(b'}');
    if consistent {
        buf.extend_from_slice(br#","ConsistentRead":true"#);
    }
    buf.push(b'}');
}

/// `UpdateItem` setting `field0` of record `id`.
pub fn update_item(buf: &mut Vec<u8>, table_name: &str, id: u64, value: &[u8]) {
    table(buf, table_name);
    buf.extend_from_slice(br#","Key":{"#);
    key(buf, id);
    buf.extend_from_slice(
        br#"},"UpdateExpression":"SET field0 = :v","ExpressionAttributeValues":{":v":{"S":""#,
    );
    buf.extend_from_slice(value);
    buf.extend_from_slice(br#""}}}"#);
}

/// `Query` of one partition, optionally with a `Limit`.
pub fn query(
    buf: &mut Vec<u8>,
    table_name: &str,
    partition: u64,
    limit: Option<u32>,
    consistent: bool,
) {
    table(buf, table_name);
    let _ = write!(
        buf,
        r#","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"user{partition}"}}}}"#
    );
    if let Some(limit) = limit {
        let _ = write!(buf, r#","Limit":{limit}"#);
    }
    if consistent {
        buf.extend_from_slice(br#","ConsistentRead":true"#);
    }
    buf.push(b'}');
}

/// `BatchWriteItem` of one `PutRequest` per id. The ids must be distinct
/// (DynamoDB rejects a batch that names a key twice) and at most 25.
pub fn batch_write(
    buf: &mut Vec<u8>,
    table_name: &str,
    ids: &[u64],
    values: &ValuePool,
    rng: &mut Rng,
) {
    debug_assert!(ids.len() <= 25);
    buf.extend_from_slice(br#"{"RequestItems":{""#);
    buf.extend_from_slice(table_name.as_bytes());
    buf.extend_from_slice(br#"":["#);
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(br#"{"PutRequest":{"Item":"#);
        item(buf, *id, values.value(rng));
        buf.extend_from_slice(b"}}");
    }
    buf.extend_from_slice(b"]}}");
}

/// `CreateTable`: hash key `pk` (S), range key `sk` (N), on demand.
pub fn create_table(buf: &mut Vec<u8>, table_name: &str) {
    table(buf, table_name);
    buf.extend_from_slice(
        br#","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"}"#,
    );
}

/// `DescribeTable`.
pub fn describe_table(buf: &mut Vec<u8>, table_name: &str) {
    table(buf, table_name);
    buf.push(b'}');
}

/// Fill `out` with `n` distinct record ids drawn by `draw` (bounded: after
/// `n * 64` draws the rest are taken uniformly, so a very skewed distribution
/// over few records cannot loop for long). `n` must not exceed `records`.
pub fn distinct_ids(
    out: &mut Vec<u64>,
    n: usize,
    records: u64,
    rng: &mut Rng,
    mut draw: impl FnMut(&mut Rng) -> u64,
) {
    debug_assert!(n as u64 <= records);
    out.clear();
    let mut attempts = 0;
    while out.len() < n {
        let id = if attempts < n * 64 {
            draw(rng)
        } else {
            rng.below(records)
        };
        attempts += 1;
        if !out.contains(&id) {
            out.push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(buf: &[u8]) -> Value {
        serde_json::from_slice(buf).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(buf));
        })
    }

    #[test]
    fn put_item_body_is_the_record() {
        let mut buf = Vec::new();
        put_item(&mut buf, "tarn-load", 1234, b"abc");
        assert_eq!(
            parse(&buf),
            json!({"TableName":"tarn-load","Item":{
                "pk":{"S":"user123"},"sk":{"N":"4"},"field0":{"S":"abc"}}})
        );
    }

    #[test]
    fn get_item_body_names_the_key() {
        let mut buf = Vec::new();
        get_item(&mut buf, "t.1", 7, false);
        assert_eq!(
            parse(&buf),
            json!({"TableName":"t.1","Key":{"pk":{"S":"user0"},"sk":{"N":"7"}}})
        );
        buf.clear();
        get_item(&mut buf, "t.1", 7, true);
        assert_eq!(parse(&buf)["ConsistentRead"], json!(true));
    }

    #[test]
    fn update_item_body_sets_field0() {
        let mut buf = Vec::new();
        update_item(&mut buf, "tbl", 99, b"xyz");
        assert_eq!(
            parse(&buf),
            json!({"TableName":"tbl","Key":{"pk":{"S":"user9"},"sk":{"N":"9"}},
                "UpdateExpression":"SET field0 = :v",
                "ExpressionAttributeValues":{":v":{"S":"xyz"}}})
        );
    }

    #[test]
    fn query_body_selects_one_partition() {
        let mut buf = Vec::new();
        query(&mut buf, "tbl", 42, None, false);
        assert_eq!(
            parse(&buf),
            json!({"TableName":"tbl","KeyConditionExpression":"pk = :p",
                "ExpressionAttributeValues":{":p":{"S":"user42"}}})
        );
        buf.clear();
        query(&mut buf, "tbl", 42, Some(3), true);
        let v = parse(&buf);
        assert_eq!(v["Limit"], json!(3));
        assert_eq!(v["ConsistentRead"], json!(true));
    }

    #[test]
    fn batch_write_body_has_one_put_per_id() {
        let mut rng = Rng::new(1);
        let pool = ValuePool::new(&mut rng, 100);
        let mut ids = Vec::new();
        distinct_ids(&mut ids, 25, 1000, &mut rng, |r| r.below(30));
        let mut buf = Vec::new();
        batch_write(&mut buf, "tbl", &ids, &pool, &mut rng);
        let v = parse(&buf);
        let puts = v["RequestItems"]["tbl"].as_array().expect("array");
        assert_eq!(puts.len(), 25);
        let mut keys: Vec<(String, String)> = puts
            .iter()
            .map(|p| {
                let item = &p["PutRequest"]["Item"];
                assert_eq!(item["field0"]["S"].as_str().map(str::len), Some(100));
                (
                    item["pk"]["S"].as_str().expect("pk").to_owned(),
                    item["sk"]["N"].as_str().expect("sk").to_owned(),
                )
            })
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 25, "keys in a batch are distinct");
    }

    #[test]
    fn distinct_ids_terminates_on_a_degenerate_draw() {
        let mut rng = Rng::new(5);
        let mut ids = Vec::new();
        distinct_ids(&mut ids, 25, 25, &mut rng, |_| 0);
        ids.sort_unstable();
        assert_eq!(ids, (0..25).collect::<Vec<_>>());
    }

    #[test]
    fn create_and_describe_table_bodies_parse() {
        let mut buf = Vec::new();
        create_table(&mut buf, "tarn-load");
        let v = parse(&buf);
        assert_eq!(v["BillingMode"], json!("PAY_PER_REQUEST"));
        assert_eq!(v["KeySchema"][1]["AttributeName"], json!("sk"));
        buf.clear();
        describe_table(&mut buf, "tarn-load");
        assert_eq!(parse(&buf), json!({"TableName":"tarn-load"}));
    }

    #[test]
    fn values_have_the_requested_size_and_need_no_escaping() {
        let mut rng = Rng::new(9);
        let pool = ValuePool::new(&mut rng, 37);
        for _ in 0..100 {
            let v = pool.value(&mut rng);
            assert_eq!(v.len(), 37);
            assert!(v.iter().all(u8::is_ascii_alphanumeric));
        }
    }

    #[test]
    fn table_names_follow_dynamodb_rules() {
        assert!(valid_table_name("tarn-load"));
        assert!(valid_table_name("a.b_c-D9"));
        assert!(!valid_table_name("ab"));
        assert!(!valid_table_name("has space"));
        assert!(!valid_table_name("quo\"te"));
    }
}

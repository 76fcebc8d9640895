//! SQS's stored records and the input it decodes from clients beside
//! JSON: queue and message records, deduplication records, index keys,
//! receipt handles and message attributes. Never a panic; what decodes
//! encodes back to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tarn_sqs::codec::{
    decode_dedup, encode_dedup, group_key_seq, parse_receipt_handle, receipt_handle,
    split_time_key, MessageRecord, QueueRecord,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = QueueRecord::decode(data) {
        assert_eq!(q.encode(), data, "queue records have one encoding");
    }
    if let Ok(m) = MessageRecord::decode(data) {
        assert_eq!(m.encode(), data, "message records have one encoding");
    }
    if let Ok((expires, seq, id)) = decode_dedup(data) {
        assert_eq!(encode_dedup(expires, seq, &id), data);
    }
    let _ = split_time_key(data);
    let _ = group_key_seq(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some((queue, seq, count)) = parse_receipt_handle(text) {
            assert_eq!(receipt_handle(queue, seq, count), text);
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            if let Ok(attrs) = tarn_sqs::drain::parse_json_attributes(&v) {
                let _ = tarn_sqs::model::check_attributes(&attrs);
                let _ = tarn_sqs::digest::attributes(&attrs);
            }
        }
    }
});

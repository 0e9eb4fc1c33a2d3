//! `google.protobuf.Timestamp` ↔ `chrono`, for events and RPCs.

use chrono::{DateTime, Utc};

pub fn to_proto(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn from_proto(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
}

/// A random 256-bit token, URL-safe base64 (sessions, CSRF).
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("operating system randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let at = DateTime::from_timestamp(1_780_000_000, 5_000).unwrap();
        assert_eq!(from_proto(Some(&to_proto(at))), Some(at));
        assert_eq!(from_proto(None), None);
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
    }
}

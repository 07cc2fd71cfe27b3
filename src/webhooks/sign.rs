//! Webhook signatures, Stripe-style: `Signpost-Signature: t=<unix seconds>,v1=<hex>`
//! where `v1` is HMAC-SHA256 over `"<t>.<raw body>"`. Signing the timestamp
//! with the body lets a receiver reject replays of old deliveries.
//!
//! The HMAC key is the secret's bytes exactly as shown to the organisation
//! (the hex string itself, not hex-decoded), so a receiver can paste it in.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a receiver should let a signature's timestamp be from its own
/// clock; suggested in the receiver docs, not enforced by the sender.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

const SECRET_BYTES: usize = 32;
const SIGNATURE_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed signature header: {0}")]
    Malformed(&'static str),
    #[error("signature does not match")]
    Mismatch,
    #[error(
        "signature timestamp is {age_secs} s from now, beyond the {tolerance_secs} s tolerance"
    )]
    Stale { age_secs: i64, tolerance_secs: i64 },
}

/// Lowercase hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    crate::encoding::hex(&keyed(secret, timestamp, body).finalize().into_bytes())
}

/// The `Signpost-Signature` header value: `t=<timestamp>,v1=<hex>`.
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

/// What a receiver does with `Signpost-Signature` and the raw body.
///
/// Accepts the header if any `v1` matches (several may be sent while a
/// secret is rotated); unknown keys are skipped so a future scheme can be
/// sent alongside `v1`. The signature is checked before the timestamp, so
/// `Stale` means "genuine but too old or too far ahead" (a replay, or clock
/// skew), never a forgery.
pub fn verify(
    secret: &[u8],
    header_value: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header_value.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(VerifyError::Malformed("expected key=value pairs"));
        };
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(VerifyError::Malformed("more than one t"));
                }
                let t = value
                    .parse::<i64>()
                    .map_err(|_| VerifyError::Malformed("t is not a unix timestamp"))?;
                timestamp = Some(t);
            }
            "v1" => candidates
                .push(decode_hex(value).ok_or(VerifyError::Malformed("v1 is not 64 hex digits"))?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed("missing t"))?;
    if candidates.is_empty() {
        return Err(VerifyError::Malformed("missing v1"));
    }

    let mac = keyed(secret, timestamp, body);
    // verify_slice compares in constant time.
    if !candidates
        .iter()
        .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
    {
        return Err(VerifyError::Mismatch);
    }

    let age_secs = now_unix.saturating_sub(timestamp);
    if age_secs.saturating_abs() > tolerance_secs {
        return Err(VerifyError::Stale {
            age_secs,
            tolerance_secs,
        });
    }
    Ok(())
}

/// A new endpoint secret: 32 bytes from the OS random source, as 64 hex digits.
pub fn new_secret() -> Result<String, getrandom::Error> {
    crate::encoding::random_hex(SECRET_BYTES)
}

fn keyed(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first); the Result
    // only exists for MACs with fixed key sizes.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        unreachable!("HMAC accepts keys of any length");
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    if s.len() != SIGNATURE_BYTES * 2 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const BODY: &[u8] = br#"{"hello":"world"}"#;
    const T: i64 = 1_700_000_000;

    #[test]
    fn known_answer() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_secret",
        //   b"1700000000.{\"hello\":\"world\"}", hashlib.sha256).hexdigest())'
        let expected = "86748dbec9cc87a9219f8a96632da703271bf5e85aa0afa2b310c37ba059d514";
        assert_eq!(signature(SECRET, T, BODY), expected);
        assert_eq!(
            signature_header(SECRET, T, BODY),
            format!("t=1700000000,v1={expected}")
        );
    }

    #[test]
    fn verify_accepts_a_good_signature_within_tolerance() {
        let header = signature_header(SECRET, T, BODY);
        assert_eq!(verify(SECRET, &header, BODY, T, 300), Ok(()));
        assert_eq!(verify(SECRET, &header, BODY, T + 300, 300), Ok(()));
        assert_eq!(verify(SECRET, &header, BODY, T - 300, 300), Ok(()));
        // Spaces after commas and uppercase hex are tolerated.
        let spaced = format!("t={T}, v1={}", signature(SECRET, T, BODY).to_uppercase());
        assert_eq!(verify(SECRET, &spaced, BODY, T, 300), Ok(()));
    }

    #[test]
    fn verify_rejects_tampering_and_wrong_secret() {
        let header = signature_header(SECRET, T, BODY);
        let tampered = br#"{"hello":"World"}"#;
        assert_eq!(
            verify(SECRET, &header, tampered, T, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"other_secret", &header, BODY, T, 300),
            Err(VerifyError::Mismatch)
        );
        // Moving the timestamp forward to dodge the replay check breaks the signature.
        let moved = header.replace("t=1700000000", "t=1700000999");
        assert_eq!(
            verify(SECRET, &moved, BODY, T + 999, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn verify_rejects_stale_and_future_timestamps() {
        let header = signature_header(SECRET, T, BODY);
        assert_eq!(
            verify(SECRET, &header, BODY, T + 301, 300),
            Err(VerifyError::Stale {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            verify(SECRET, &header, BODY, T - 301, 300),
            Err(VerifyError::Stale {
                age_secs: -301,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn verify_rejects_malformed_headers() {
        let sig = signature(SECRET, T, BODY);
        for header in [
            String::new(),
            "garbage".to_string(),
            format!("v1={sig}"),
            format!("t={T}"),
            format!("t=yesterday,v1={sig}"),
            format!("t={T},t={T},v1={sig}"),
            format!("t={T},v1={}", &sig[..62]),
            format!("t={T},v1={}zz", &sig[..62]),
        ] {
            assert!(
                matches!(
                    verify(SECRET, &header, BODY, T, 300),
                    Err(VerifyError::Malformed(_))
                ),
                "{header:?}"
            );
        }
    }

    #[test]
    fn verify_accepts_any_of_several_signatures_and_skips_unknown_schemes() {
        let old = signature(b"old_secret", T, BODY);
        let new = signature(SECRET, T, BODY);
        let header = format!("t={T},v1={old},v1={new},v9=whatever");
        assert_eq!(verify(SECRET, &header, BODY, T, 300), Ok(()));
    }

    #[test]
    fn new_secrets_are_64_hex_digits_and_differ() -> Result<(), getrandom::Error> {
        let a = new_secret()?;
        let b = new_secret()?;
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
        Ok(())
    }
}

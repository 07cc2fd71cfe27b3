//! API key tokens: `sp_<prefix>_<secret>`. The prefix (12 hex digits) is
//! public: it finds the key row and identifies the key in lists and logs.
//! The whole token is stored only as its SHA-256. A fast hash is right here
//! because the secret is 256 bits from the OS random source, so there is
//! nothing to brute-force; slow password hashes exist for guessable secrets.

use sha2::{Digest, Sha256};

use crate::encoding::{hex, random_hex};

const PREFIX_BYTES: usize = 6;
const SECRET_BYTES: usize = 32;

/// A newly generated key: `token` is shown once and then forgotten.
pub struct IssuedToken {
    pub token: String,
    pub prefix: String,
    pub secret_hash: String,
}

/// A syntactically valid presented token.
#[derive(Debug, PartialEq, Eq)]
pub struct PresentedToken {
    pub prefix: String,
    pub secret_hash: String,
}

pub fn issue() -> Result<IssuedToken, getrandom::Error> {
    let prefix = random_hex(PREFIX_BYTES)?;
    let token = format!("sp_{prefix}_{}", random_hex(SECRET_BYTES)?);
    Ok(IssuedToken {
        secret_hash: hash(&token),
        token,
        prefix,
    })
}

/// Parses a presented token; `None` when it cannot be one of ours.
pub fn parse(token: &str) -> Option<PresentedToken> {
    let rest = token.strip_prefix("sp_")?;
    let (prefix, secret) = rest.split_once('_')?;
    let is_hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    if !is_hex(prefix, PREFIX_BYTES * 2) || !is_hex(secret, SECRET_BYTES * 2) {
        return None;
    }
    Some(PresentedToken {
        prefix: prefix.to_string(),
        secret_hash: hash(token),
    })
}

pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_parse_back_to_their_hash() {
        let issued = issue().expect("random");
        assert!(issued.token.starts_with(&format!("sp_{}_", issued.prefix)));
        assert_eq!(issued.token.len(), 3 + 12 + 1 + 64);
        let presented = parse(&issued.token).expect("parses");
        assert_eq!(presented.prefix, issued.prefix);
        assert_eq!(presented.secret_hash, issued.secret_hash);
        assert!(!issued.secret_hash.contains(&issued.token[16..]));
    }

    #[test]
    fn tokens_are_unique() {
        let a = issue().expect("random");
        let b = issue().expect("random");
        assert_ne!(a.token, b.token);
        assert_ne!(a.prefix, b.prefix);
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let good = issue().expect("random").token;
        for bad in [
            "",
            "sp_",
            "Bearer x",
            &good[..good.len() - 1],
            &good.to_uppercase(),
            &good.replacen("sp_", "xx_", 1),
            &format!("{good}0"),
            "sp_zzzzzzzzzzzz_0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}

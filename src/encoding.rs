//! Lowercase hex text, for random secrets and digests.

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `len` bytes from the operating system's random source, as hex.
pub fn random_hex(len: usize) -> Result<String, getrandom::Error> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        let a = random_hex(16).expect("random");
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_hex(16).expect("random"));
    }
}

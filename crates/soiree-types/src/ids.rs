//! App ids (Ed25519 public keys in Sandstorm's base32) and package ids (hex of a SHA-256 prefix).

use data_encoding::{Encoding, Specification};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// Sandstorm's base32: RFC 4648 bit order, lowercase alphabet without b, i, l, o, no padding.
/// Decoding is case-insensitive and reads the look-alikes o→0, i→1, l→1, b→8.
fn base32() -> &'static Encoding {
    static ENCODING: OnceLock<Encoding> = OnceLock::new();
    ENCODING.get_or_init(|| {
        let mut spec = Specification::new();
        spec.symbols.push_str("0123456789acdefghjkmnpqrstuvwxyz");
        spec.translate.from.push_str("ACDEFGHJKMNPQRSTUVWXYZOoIiLlBb");
        spec.translate.to.push_str("acdefghjkmnpqrstuvwxyz00111188");
        spec.check_trailing_bits = true;
        // A fixed alphabet and translation table: this cannot fail.
        spec.encoding()
            .unwrap_or_else(|e| unreachable!("base32 spec: {e}"))
    })
}

/// Decodes base64 as people paste it: the standard or the URL-safe alphabet, with or without
/// `=` padding, whitespace and line breaks ignored (keys in CI secrets, powerbox descriptors).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, data_encoding::DecodeError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let trimmed = compact.trim_end_matches('=').as_bytes();
    data_encoding::BASE64_NOPAD
        .decode(trimmed)
        .or_else(|_| data_encoding::BASE64URL_NOPAD.decode(trimmed))
}

/// An app id: the 32-byte Ed25519 public key that signs every version of one app.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppId(pub [u8; 32]);

/// Why a text is not an app id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppIdError {
    #[error("an app id has 52 characters, this has {0}")]
    Length(usize),
    #[error("not an app id: {0}")]
    Invalid(String),
}

impl AppId {
    pub const TEXT_LEN: usize = 52;

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base32().encode(&self.0))
    }
}

impl fmt::Debug for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppId({self})")
    }
}

impl FromStr for AppId {
    type Err = AppIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != Self::TEXT_LEN {
            return Err(AppIdError::Length(s.chars().count()));
        }
        let bytes = base32()
            .decode(s.as_bytes())
            .map_err(|e| AppIdError::Invalid(e.to_string()))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| AppIdError::Length(s.len()))?;
        Ok(AppId(arr))
    }
}

/// A package id: the first 16 bytes of the SHA-256 of the whole `.spk` file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageId(pub [u8; 16]);

impl PackageId {
    /// The package id of a file whose SHA-256 is `sha256`.
    pub fn from_sha256(sha256: &[u8; 32]) -> Self {
        let mut id = [0u8; 16];
        id.copy_from_slice(&sha256[..16]);
        PackageId(id)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE.decode(s.as_bytes()).ok()?;
        Some(PackageId(bytes.try_into().ok()?))
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&data_encoding::HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PackageId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Sandstorm's own vectors (id-to-text-test.c++).
    const A: &str = "vjvekechd398fn1t1kn1dgdnmaekqq9jkjv3zsgzymc4z913ref0";
    const B: &str = "wq95qmutckc0yfmecv0ky96cqxgp156up8sv81yxvmery58q87jh";

    #[test]
    fn sandstorm_vectors_round_trip() {
        for text in [A, B] {
            let id: AppId = text.parse().unwrap();
            assert_eq!(id.to_string(), text);
        }
        let a: AppId = A.parse().unwrap();
        assert_eq!(a.0[..4], [0xdc, 0x76, 0xd9, 0x35]);
        assert_eq!(a.0[29..], [0x23, 0xbb, 0x5c]);
        let b: AppId = B.parse().unwrap();
        assert_eq!(b.0[..4], [0xe5, 0x92, 0x5b, 0x4f]);
        assert_eq!(b.0[29..], [0x16, 0x41, 0xe3]);
    }

    #[test]
    fn sandstorm_vector_with_case_and_look_alikes() {
        let id: AppId = "WQ95QMUTCKCOYFMECV0KY96CQXGPi56UP8SV8LYXVMERY5bQB7JH"
            .parse()
            .unwrap();
        assert_eq!(id.to_string(), B);
    }

    #[test]
    fn sandstorm_rejections() {
        assert_eq!(
            "wq95qmutckc0yfmecv0ky96cqxgp156up8sv81yxvmery58q87j".parse::<AppId>(),
            Err(AppIdError::Length(51))
        );
        assert!(matches!(
            "wq95qmutckc0yfmecv0ky96cqxgp156up8sv81yxvmery58q87jhh".parse::<AppId>(),
            Err(AppIdError::Length(53))
        ));
        assert!(matches!(
            "wq95qmutckc0yfmecv0ky96cqxgp156up8sv81yxvmery58q87jz".parse::<AppId>(),
            Err(AppIdError::Invalid(_))
        ));
        assert!(matches!(
            "u".repeat(52).parse::<AppId>(),
            Err(AppIdError::Invalid(_))
        ));
    }

    #[test]
    fn last_character_is_0_or_h() {
        for byte in 0..=255u8 {
            let text = AppId([byte; 32]).to_string();
            assert_eq!(text.len(), 52);
            assert!(text.ends_with('0') || text.ends_with('h'), "{text}");
        }
    }

    #[test]
    fn package_id_is_hex_of_first_16_bytes() {
        let mut h = [0u8; 32];
        h[0] = 0xb5;
        h[15] = 0x01;
        h[16] = 0xff;
        let id = PackageId::from_sha256(&h);
        assert_eq!(id.to_string(), "b5000000000000000000000000000001");
        assert_eq!(PackageId::from_hex(&id.to_string()), Some(id));
    }
}

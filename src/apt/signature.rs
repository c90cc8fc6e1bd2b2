//! OpenPGP: a [`Keyring`] of trusted keys (binary `.gpg` keyrings holding several keys, as
//! Debian ships them in `/usr/share/keyrings`, or armored `.asc` files) and the check of a
//! clearsigned `InRelease` against it, with rpgp (pure Rust). As apt (through gpgv) decides: the
//! Release is accepted when a signature by a key (or subkey) of the keyring verifies; a
//! signature by a keyring key that does not verify refuses it, whatever else signed it; a
//! Release signed by no keyring key is refused naming the keys that did sign. Only the signed
//! text is returned, so nothing outside the signature is ever read.

use std::path::Path;

use pgp::composed::{CleartextSignedMessage, Deserializable, SignedPublicKey, SignedPublicSubKey};
use pgp::packet::Signature;
use pgp::types::KeyDetails;

use super::error::AptError;

/// The first line of a clearsigned message.
const CLEARSIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----";

/// The keys a Release may be signed with.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: Vec<SignedPublicKey>,
    /// Where the keys came from, for errors.
    sources: Vec<String>,
}

impl Keyring {
    /// Reads the keys of `bytes` (binary or armored), from `source` (named in errors).
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self, AptError> {
        let mut keyring = Self::default();
        keyring.add(bytes, source)?;
        Ok(keyring)
    }

    /// Reads the keyring files `paths` (apt's `trusted.gpg.d` or a spec's `signed-by`).
    pub fn from_files(paths: &[&Path]) -> Result<Self, AptError> {
        let mut keyring = Self::default();
        for path in paths {
            let bytes = std::fs::read(path).map_err(|source| AptError::KeyringFile {
                path: path.display().to_string(),
                source,
            })?;
            keyring.add(&bytes, &path.display().to_string())?;
        }
        Ok(keyring)
    }

    /// Adds the keys of `bytes`, from `source`.
    pub fn add(&mut self, bytes: &[u8], source: &str) -> Result<(), AptError> {
        let error = |source_error| AptError::Keyring {
            path: source.to_string(),
            source: source_error,
        };
        let before = self.keys.len();
        for block in armor_blocks(bytes) {
            let (keys, _) = SignedPublicKey::from_reader_many(block).map_err(error)?;
            for key in keys {
                self.keys.push(key.map_err(error)?);
            }
        }
        if self.keys.len() == before {
            return Err(AptError::EmptyKeyring {
                path: source.to_string(),
            });
        }
        self.sources.push(source.to_string());
        Ok(())
    }

    /// The fingerprints of the primary keys, uppercase hex.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|key| hex::encode_upper(key.fingerprint().as_bytes()))
            .collect()
    }

    /// The keys of this keyring whose primary key's fingerprint (or its last 16 hex digits, a
    /// long key ID) is one of `fingerprints` (hex, any case, spaces ignored), as apt's
    /// `signed-by` names keys of its trusted keyrings.
    pub fn only(&self, fingerprints: &[String]) -> Self {
        let wanted: Vec<String> = fingerprints
            .iter()
            .map(|f| f.replace(' ', "").to_ascii_uppercase())
            .collect();
        let keys = self
            .keys
            .iter()
            .filter(|key| {
                let own = hex::encode_upper(key.fingerprint().as_bytes());
                wanted
                    .iter()
                    .any(|w| !w.is_empty() && own.ends_with(w.as_str()))
            })
            .cloned()
            .collect();
        Self {
            keys,
            sources: vec![format!(
                "the keys {} of {}",
                wanted.join(", "),
                self.sources.join(", ")
            )],
        }
    }

    /// What the keyring holds, for errors: its files and key count.
    fn describe(&self) -> String {
        format!("{} keys from {}", self.keys.len(), self.sources.join(", "))
    }

    /// Checks the clearsigned InRelease `text`, fetched from `url`, and returns its signed text
    /// (line breaks as `\n`).
    pub fn verify_clearsigned(&self, text: &str, url: &str) -> Result<String, AptError> {
        if !text.starts_with(CLEARSIGNED) {
            return Err(AptError::Unsigned {
                url: url.to_string(),
            });
        }
        let (message, _) = CleartextSignedMessage::from_string(text).map_err(|source| {
            AptError::MalformedSignature {
                url: url.to_string(),
                source,
            }
        })?;
        let signed = message.signed_text();
        let mut verified = false;
        let mut issuers = Vec::new();
        for signature in message.signatures() {
            issuers.push(issuer_of(signature));
            let keys = self.keys_for(signature);
            if keys.is_empty() {
                continue;
            }
            if !keys
                .iter()
                .any(|key| key.verifies(signature, signed.as_bytes()))
            {
                return Err(AptError::BadSignature {
                    url: url.to_string(),
                    key: issuer_of(signature),
                });
            }
            verified = true;
        }
        if !verified {
            return Err(AptError::UnknownKey {
                url: url.to_string(),
                keys: if issuers.is_empty() {
                    "no key".to_string()
                } else {
                    issuers.join(", ")
                },
                keyring: self.describe(),
            });
        }
        Ok(signed.replace("\r\n", "\n"))
    }

    /// The keyring's keys and subkeys that `signature` names as its issuer.
    fn keys_for(&self, signature: &Signature) -> Vec<Candidate<'_>> {
        let fingerprints = signature.issuer_fingerprint();
        let ids = signature.issuer_key_id();
        let named = |key: &dyn KeyDetails| {
            let fingerprint = key.fingerprint();
            let id = key.legacy_key_id();
            fingerprints.iter().any(|f| **f == fingerprint) || ids.iter().any(|i| **i == id)
        };
        let mut found = Vec::new();
        for key in &self.keys {
            if named(key) {
                found.push(Candidate::Primary(key));
            }
            found.extend(
                key.public_subkeys
                    .iter()
                    .filter(|subkey| named(*subkey))
                    .map(Candidate::Subkey),
            );
        }
        found
    }
}

/// The armored key blocks of `bytes` (an `.asc` file may hold several, one after the other),
/// or `bytes` whole when it is a binary keyring.
fn armor_blocks(bytes: &[u8]) -> Vec<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN PGP PUBLIC KEY BLOCK-----";
    let starts: Vec<usize> = memchr::memmem::find_iter(bytes, BEGIN).collect();
    if starts.is_empty() || !bytes[..starts[0]].iter().all(u8::is_ascii) {
        return vec![bytes];
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| &bytes[start..starts.get(i + 1).copied().unwrap_or(bytes.len())])
        .collect()
}

/// A key a signature may be checked with: a primary key or a subkey.
#[derive(Clone, Copy)]
enum Candidate<'a> {
    Primary(&'a SignedPublicKey),
    Subkey(&'a SignedPublicSubKey),
}

impl Candidate<'_> {
    /// Whether `signature` over `data` verifies with this key.
    fn verifies(self, signature: &Signature, data: &[u8]) -> bool {
        match self {
            Self::Primary(key) => signature.verify(key, data).is_ok(),
            Self::Subkey(key) => signature.verify(key, data).is_ok(),
        }
    }
}

/// The issuer a signature names: its fingerprint, else its key id, uppercase hex.
fn issuer_of(signature: &Signature) -> String {
    if let Some(fingerprint) = signature.issuer_fingerprint().first() {
        return hex::encode_upper(fingerprint.as_bytes());
    }
    signature.issuer_key_id().first().map_or_else(
        || "an unnamed key".to_string(),
        |id| hex::encode_upper(id.as_ref()),
    )
}

//! The errors of apt metadata: a file that does not parse (naming the file, line and field), a
//! Release whose signature, key or validity fails, an index whose checksum differs from its
//! Release's, and fetching. Each says what the user can do.

use super::deb822::SyntaxError;
use super::relation::RelationError;
use super::version::VersionError;

/// Why one field's value is refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FieldError {
    /// A relation field that does not parse.
    #[error(transparent)]
    Relation(#[from] RelationError),
    /// A version that does not parse.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// A number that does not parse.
    #[error("not a whole number")]
    Number(#[from] std::num::ParseIntError),
    /// Any other value out of its field's grammar.
    #[error("{0}")]
    Invalid(&'static str),
}

/// An error reading apt metadata.
#[derive(Debug, thiserror::Error)]
pub enum AptError {
    /// A file that is not deb822.
    #[error("`{file}` is not a deb822 control file")]
    Syntax {
        /// The file or URL.
        file: String,
        /// Where and why.
        #[source]
        source: SyntaxError,
    },

    /// A field whose value is out of its grammar.
    #[error("`{file}` line {line}: the field `{field}` is not valid")]
    Field {
        /// The file or URL.
        file: String,
        /// The field's line, 1-based.
        line: usize,
        /// The field's name.
        field: &'static str,
        /// Why.
        #[source]
        source: FieldError,
    },

    /// A stanza without a field it must have.
    #[error("`{file}` line {line}: the stanza has no `{field}` field, which it must have")]
    MissingField {
        /// The file or URL.
        file: String,
        /// The stanza's first line.
        line: usize,
        /// The missing field.
        field: &'static str,
    },

    /// A sources line or `.sources` stanza that is not a repository.
    #[error("`{file}` line {line}: `{text}` is not an apt repository: {reason}")]
    Source {
        /// The file (or the spec key) it was read from.
        file: String,
        /// Its line, 1-based.
        line: usize,
        /// What was written.
        text: String,
        /// Why, and what form is expected.
        reason: String,
    },

    /// A keyring file that cannot be read as OpenPGP keys.
    #[error(
        "`{path}` is not an OpenPGP keyring (binary `.gpg` or armored `.asc`): give the repository's keyring file"
    )]
    Keyring {
        /// The keyring's path.
        path: String,
        /// Why.
        #[source]
        source: pgp::errors::Error,
    },

    /// A keyring file without a public key.
    #[error("`{path}` holds no OpenPGP public key: give the repository's keyring file")]
    EmptyKeyring {
        /// The keyring's path.
        path: String,
    },

    /// A keyring file that could not be read.
    #[error("could not read the keyring `{path}`")]
    KeyringFile {
        /// The keyring's path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// A Release that is not clearsigned.
    #[error(
        "`{url}` is not signed (not an OpenPGP clearsigned message): imglock reads only signed repositories; use a mirror that serves a signed InRelease"
    )]
    Unsigned {
        /// The InRelease URL.
        url: String,
    },

    /// A clearsigned Release whose signature block does not parse.
    #[error(
        "the signature of `{url}` cannot be read: the file is damaged; fetch it again (`imglock resolve --refresh`) or use another mirror"
    )]
    MalformedSignature {
        /// The InRelease URL.
        url: String,
        /// Why.
        #[source]
        source: pgp::errors::Error,
    },

    /// A signature made by a key of the keyring that does not verify.
    #[error(
        "the signature of `{url}` by key {key} does not verify: the Release was altered or damaged on its way; fetch it again (`imglock resolve --refresh`) or use another mirror"
    )]
    BadSignature {
        /// The InRelease URL.
        url: String,
        /// The signing key's fingerprint or id.
        key: String,
    },

    /// A Release signed only by keys the keyring does not hold.
    #[error(
        "`{url}` is signed by {keys}, none of which is in the keyring ({keyring}): give the keyring of this repository (the base image's `/usr/share/keyrings/…` or a file the spec names)"
    )]
    UnknownKey {
        /// The InRelease URL.
        url: String,
        /// The keys that signed it.
        keys: String,
        /// What the keyring holds.
        keyring: String,
    },

    /// A Release past its `Valid-Until`.
    #[error(
        "`{url}` expired at {valid_until} (its Valid-Until) and it is now {now}: the mirror is out of date or replays an old Release; use an up-to-date mirror"
    )]
    Expired {
        /// The InRelease URL.
        url: String,
        /// Its Valid-Until.
        valid_until: String,
        /// The time it was checked at.
        now: String,
    },

    /// An index the Release does not list.
    #[error(
        "the Release `{release}` lists no `{path}` (in any compression): the suite has no such component or architecture; check the repository line"
    )]
    NotInRelease {
        /// The InRelease URL.
        release: String,
        /// The index path below the suite.
        path: String,
    },

    /// An index whose checksum or size is not the Release's.
    #[error(
        "`{url}` has sha256 {actual_sha256} and {actual_size} bytes, but its signed Release says sha256 {expected_sha256} and {expected_size} bytes: refused (the mirror is inconsistent or was tampered with); try again later or use another mirror"
    )]
    Checksum {
        /// The index URL.
        url: String,
        /// The Release's sha256.
        expected_sha256: String,
        /// The Release's size.
        expected_size: u64,
        /// The body's sha256.
        actual_sha256: String,
        /// The body's size.
        actual_size: u64,
    },

    /// An index that does not decompress.
    #[error("`{url}` does not decompress")]
    Decompress {
        /// The index URL.
        url: String,
        /// Why (a [`crate::fetch::is_too_large`] error when it exceeds its limit).
        #[source]
        source: std::io::Error,
    },

    /// A Release or index that is not UTF-8.
    #[error("`{url}` is not UTF-8 text")]
    NotText {
        /// The URL.
        url: String,
    },

    /// Neither the spec nor the base image names an apt source.
    #[error(
        "neither `[repositories] apt` nor the base image `{base}` (its /etc/apt/sources.list and sources.list.d) names an apt source: add one, like `[repositories] apt = [\"http://deb.debian.org/debian bookworm main\"]`"
    )]
    NoSources {
        /// The base image.
        base: String,
    },

    /// A source's `signed-by` names a keyring file the base image does not have.
    #[error(
        "the apt source `{line}` says `signed-by={path}`, which the base image does not have: name a keyring the base has, or drop `signed-by` and give the key with `[repositories] apt-keyring`"
    )]
    MissingKeyring {
        /// The source, in the one-line form.
        line: String,
        /// The keyring path it names.
        path: String,
    },

    /// The base image was not read, so what it has installed is unknown.
    #[error(
        "the spec installs Debian packages on `{base}`, whose installed packages could not be read"
    )]
    NoBase {
        /// The base image.
        base: String,
    },

    /// A source file of the base image that is not UTF-8.
    #[error("the base image's `{path}` is not UTF-8 text")]
    SourcesNotText {
        /// Its path in the image.
        path: String,
    },

    /// An installed package of the base image whose dpkg record does not read.
    #[error("the base image's dpkg status lists `{name}` with a {what} that does not read")]
    Installed {
        /// The package.
        name: String,
        /// `version` or `Provides`.
        what: &'static str,
        /// Why.
        #[source]
        source: FieldError,
    },

    /// Fetching failed.
    #[error("could not fetch the apt metadata")]
    Fetch(#[from] crate::fetch::FetchErrors),
}

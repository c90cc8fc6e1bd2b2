//! A Packages index (`dists/<suite>/<component>/binary-<arch>/Packages`): one deb822 stanza per
//! binary package, read into [`BinaryPackage`]s with the fields resolution and locking need
//! (name, version, architecture, Multi-Arch, Essential, Priority, source, the relation fields,
//! and the .deb's `Filename`, `Size` and `SHA256`). Other fields (Description, Tag, ...) are
//! skipped unread. An error names the file, the line and the field.

use super::deb822::{Stanza, stanzas};
use super::error::{AptError, FieldError};
use super::relation::{Provided, Relations, parse_provides};
use super::version::Version;

/// `Multi-Arch` (the multiarch spec): how a package co-installs across architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MultiArch {
    /// `no` (or absent): only packages of its own architecture satisfy or co-install.
    #[default]
    No,
    /// `same`: co-installable with itself for other architectures.
    Same,
    /// `foreign`: satisfies dependencies of packages of any architecture.
    Foreign,
    /// `allowed`: satisfies `:any` dependencies of packages of any architecture.
    Allowed,
}

/// `Priority`, Debian Policy 2.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// `required`: needed for the system to work; already in every Debian base image.
    Required,
    /// `important`.
    Important,
    /// `standard`.
    Standard,
    /// `optional`.
    Optional,
    /// `extra` (deprecated, read as `optional` by apt).
    Extra,
}

/// The source package a binary was built from, with its version when it differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// The source package's name.
    pub name: String,
    /// The source version, when it differs from the binary's (`Source: gcc-12 (12.2.0-14)`).
    pub version: Option<Version>,
}

/// One binary package of a Packages index.
#[derive(Debug, Clone)]
pub struct BinaryPackage {
    /// `Package`.
    pub name: String,
    /// `Version`.
    pub version: Version,
    /// `Architecture`: a Debian architecture or `all`.
    pub architecture: String,
    /// `Multi-Arch`.
    pub multi_arch: MultiArch,
    /// `Essential: yes`.
    pub essential: bool,
    /// `Priority`, when given.
    pub priority: Option<Priority>,
    /// `Source`; when absent the source package has the binary's name and version.
    pub source: Option<SourceRef>,
    /// `Depends`.
    pub depends: Relations,
    /// `Pre-Depends`.
    pub pre_depends: Relations,
    /// `Recommends`.
    pub recommends: Relations,
    /// `Conflicts`.
    pub conflicts: Relations,
    /// `Breaks`.
    pub breaks: Relations,
    /// `Provides`.
    pub provides: Vec<Provided>,
    /// `Filename`: the .deb's path below the archive root (`pool/main/...`).
    pub filename: String,
    /// `Size` in bytes.
    pub size: u64,
    /// `SHA256`, lowercase hex.
    pub sha256: String,
}

/// Parses every stanza of the Packages index `text`, read from `file` (named in errors).
pub fn parse_packages(text: &str, file: &str) -> Result<Vec<BinaryPackage>, AptError> {
    stanzas(text)
        .map(|stanza| {
            let stanza = stanza.map_err(|source| AptError::Syntax {
                file: file.to_string(),
                source,
            })?;
            BinaryPackage::from_stanza(&stanza, file)
        })
        .collect()
}

impl BinaryPackage {
    /// Reads one Packages stanza, from `file`.
    pub fn from_stanza(stanza: &Stanza<'_>, file: &str) -> Result<Self, AptError> {
        let reader = FieldReader { stanza, file };
        let relations = |name| reader.optional(name, Relations::parse);
        Ok(Self {
            name: reader.required("Package", parse_name)?,
            version: reader.required("Version", Version::parse)?,
            architecture: reader.required("Architecture", parse_name)?,
            multi_arch: reader
                .optional("Multi-Arch", parse_multi_arch)?
                .unwrap_or_default(),
            essential: reader.optional("Essential", parse_yes_no)?.unwrap_or(false),
            priority: reader.optional("Priority", parse_priority)?,
            source: reader.optional("Source", parse_source)?,
            depends: relations("Depends")?.unwrap_or_default(),
            pre_depends: relations("Pre-Depends")?.unwrap_or_default(),
            recommends: relations("Recommends")?.unwrap_or_default(),
            conflicts: relations("Conflicts")?.unwrap_or_default(),
            breaks: relations("Breaks")?.unwrap_or_default(),
            provides: reader
                .optional("Provides", parse_provides)?
                .unwrap_or_default(),
            filename: reader.required("Filename", parse_filename)?,
            size: reader.required("Size", |text| text.parse::<u64>())?,
            sha256: reader.required("SHA256", parse_sha256)?,
        })
    }

    /// The source package's name and version (the binary's own when `Source` omits them).
    pub fn source_package(&self) -> (&str, &Version) {
        match &self.source {
            None => (&self.name, &self.version),
            Some(source) => (
                &source.name,
                source.version.as_ref().unwrap_or(&self.version),
            ),
        }
    }
}

/// Reads fields of one stanza, naming the file, line and field in errors.
struct FieldReader<'s, 'a> {
    stanza: &'s Stanza<'a>,
    file: &'s str,
}

impl FieldReader<'_, '_> {
    fn optional<T, E: Into<FieldError>>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, AptError> {
        let Some(field) = self.stanza.field(name) else {
            return Ok(None);
        };
        parse(field.value)
            .map(Some)
            .map_err(|source| AptError::Field {
                file: self.file.to_string(),
                line: field.line,
                field: name,
                source: source.into(),
            })
    }

    fn required<T, E: Into<FieldError>>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, AptError> {
        self.optional(name, parse)?
            .ok_or_else(|| AptError::MissingField {
                file: self.file.to_string(),
                line: self.stanza.line,
                field: name,
            })
    }
}

/// A package or architecture name: lowercase letters, digits and `+-.`.
fn parse_name(text: &str) -> Result<String, FieldError> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
    ok.then(|| text.to_string()).ok_or(FieldError::Invalid(
        "not a Debian name (lowercase letters, digits, `+-.`)",
    ))
}

fn parse_multi_arch(text: &str) -> Result<MultiArch, FieldError> {
    Ok(match text {
        "no" => MultiArch::No,
        "same" => MultiArch::Same,
        "foreign" => MultiArch::Foreign,
        "allowed" => MultiArch::Allowed,
        _ => return Err(FieldError::Invalid("not one of no, same, foreign, allowed")),
    })
}

fn parse_yes_no(text: &str) -> Result<bool, FieldError> {
    match text {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(FieldError::Invalid("neither `yes` nor `no`")),
    }
}

fn parse_priority(text: &str) -> Result<Priority, FieldError> {
    Ok(match text {
        "required" => Priority::Required,
        "important" => Priority::Important,
        "standard" => Priority::Standard,
        "optional" => Priority::Optional,
        "extra" => Priority::Extra,
        _ => {
            return Err(FieldError::Invalid(
                "not one of required, important, standard, optional, extra",
            ));
        }
    })
}

/// `Source: name` or `Source: name (version)`.
fn parse_source(text: &str) -> Result<SourceRef, FieldError> {
    let (name, version) = match text.split_once('(') {
        None => (text.trim(), None),
        Some((name, rest)) => {
            let version = rest.strip_suffix(')').ok_or(FieldError::Invalid(
                "its version's parenthesis is not closed",
            ))?;
            (name.trim(), Some(Version::parse(version.trim())?))
        }
    };
    Ok(SourceRef {
        name: parse_name(name)?,
        version,
    })
}

/// A pool path: relative, without `..`, `//`, spaces or control characters (it becomes a URL
/// and, once locked, a shell word).
fn parse_filename(text: &str) -> Result<String, FieldError> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"+-._~/".contains(&b);
    let ok = !text.is_empty()
        && !text.starts_with('/')
        && text.bytes().all(safe)
        && text
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != ".");
    ok.then(|| text.to_string()).ok_or(FieldError::Invalid(
        "not a relative path of plain characters below the archive root",
    ))
}

/// A SHA-256 in hex, lowercased.
pub(super) fn parse_sha256(text: &str) -> Result<String, FieldError> {
    (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
        .ok_or(FieldError::Invalid("not 64 hexadecimal digits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANZA: &str = "Package: libgcc-s1\nSource: gcc-12 (12.2.0-14)\nVersion: 12.2.0-14\n\
        Architecture: amd64\nMulti-Arch: same\nPriority: optional\nProtected: yes\n\
        Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)\nProvides: libgcc1 (= 1:12.2.0-14)\n\
        Breaks: libgcc1 (<< 1:10)\nFilename: pool/main/g/gcc-12/libgcc-s1_12.2.0-14_amd64.deb\n\
        Size: 49880\nSHA256: 0bdbbd0d61b6ebbf1b0aa8bd1cdb2a4e39b2ebf4dd6a4de4ee1e6ea1e4fd0a46\n\
        Description: GCC support library\n multi-line\n";

    #[test]
    fn a_stanza_is_read_whole() {
        let packages = parse_packages(STANZA, "Packages").unwrap();
        let package = &packages[0];
        assert_eq!(package.name, "libgcc-s1");
        assert_eq!(package.multi_arch, MultiArch::Same);
        assert_eq!(package.priority, Some(Priority::Optional));
        assert!(!package.essential);
        let (source, version) = package.source_package();
        assert_eq!((source, version.as_str()), ("gcc-12", "12.2.0-14"));
        assert_eq!(package.depends.0.len(), 2);
        assert_eq!(package.provides[0].version.as_ref().unwrap().epoch(), 1);
        assert_eq!(package.breaks.0[0].to_string(), "libgcc1 (<< 1:10)");
        assert_eq!(package.size, 49880);
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let broken = STANZA.replace("libc6 (>= 2.35)", "libc6 (>= 2.35");
        let error = parse_packages(&broken, "bookworm/Packages")
            .unwrap_err()
            .to_string();
        assert!(error.contains("`bookworm/Packages` line 8"), "{error}");
        assert!(error.contains("`Depends`"), "{error}");
        let missing = STANZA.replace("Size: 49880\n", "");
        let error = parse_packages(&missing, "P").unwrap_err().to_string();
        assert!(
            error.contains("`Size`") && error.contains("line 1"),
            "{error}"
        );
        let escaping = STANZA.replace("pool/main/g", "../../etc");
        assert!(parse_packages(&escaping, "P").is_err());
    }
}

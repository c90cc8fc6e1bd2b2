//! Direct references: a spec's `name @ URL` requirement (PEP 508), which names the one file to
//! install instead of asking an index. The file, a wheel or an sdist over `https://`, `http://`
//! or `file:`, becomes the project's only candidate, so the rest of resolution (its metadata,
//! its dependencies from the indexes, the lock entry, the verified install) is the same as for a
//! file an index lists. It is pinned by sha256: the URL's `#sha256=` fragment when given (checked
//! when the file is read), else the file's own, read once at resolve. `git+` references are
//! made projects of the same kind by [`super::git`].

use std::path::Path;
#[cfg(test)]
use std::str::FromStr;

use pep508_rs::PackageName;

use super::index::{Candidate, Project, ProjectSource};
use super::left_out::LeftOut;
use super::simple::{DistFile, MetadataFile, version_of};
use super::tags::Target;
use crate::fetch::{ArtifactRequest, Checksum, Fetcher};
use crate::repository::Repository;

/// Why a direct reference cannot be locked.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    #[error(transparent)]
    Git(#[from] super::git::GitError),

    #[error(
        "`{requirement}`: only https://, http:// and file: URLs can be locked, not `{scheme}:`"
    )]
    Scheme { requirement: String, scheme: String },

    #[error(
        "`{requirement}`: `{filename}` is not a wheel or an sdist of {name} (`{name}-VERSION.tar.gz`, `.zip` or a `.whl`): name the distribution file itself"
    )]
    NotADistribution {
        requirement: String,
        filename: String,
        name: String,
    },

    #[error(
        "`{requirement}`: the wheel `{filename}` does not run on the image (Python {python}, {arch}): name a wheel built for it, or the sdist"
    )]
    IncompatibleWheel {
        requirement: String,
        filename: String,
        python: String,
        arch: String,
    },

    #[error("`{requirement}`: `{fragment}` is not a sha256 (`#sha256=` and 64 hex digits)")]
    BadDigest {
        requirement: String,
        fragment: String,
    },

    #[error(
        "{name} is named by two different URLs, `{first}` and `{second}`: one image installs one file of it; name the same URL in both places"
    )]
    TwoUrls {
        name: String,
        first: String,
        second: String,
    },

    #[error("`{requirement}`: {reason}")]
    Location { requirement: String, reason: String },

    #[error("`{requirement}`: downloading `{url}` failed")]
    Download {
        requirement: String,
        url: String,
        #[source]
        source: Box<crate::fetch::FetchError>,
    },
}

/// A direct reference: to one file, or to a commit of a git repository.
pub(super) enum Reference {
    File(DirectReference),
    Git(super::git::GitReference),
}

impl Reference {
    /// Reads the direct reference `given` of `name` (see [`DirectReference::read`]).
    pub fn read(
        name: &PackageName,
        requirement: &str,
        given: &str,
        spec_dir: &Path,
        lock_dir: &Path,
    ) -> Result<Self, DirectError> {
        if given.starts_with("git+") {
            let reference =
                super::git::GitReference::read(name, requirement, given, spec_dir, lock_dir)?;
            return Ok(Self::Git(reference));
        }
        DirectReference::read(name, requirement, given, spec_dir, lock_dir).map(Self::File)
    }

    /// The project this reference makes (see [`DirectReference::project`] and
    /// [`super::git::GitReference::project`]).
    pub fn project(&self, fetcher: &Fetcher, target: &Target) -> Result<Project, DirectError> {
        match self {
            Self::File(reference) => reference.project(fetcher, target),
            Self::Git(reference) => Ok(reference.project(fetcher.cache())?),
        }
    }

    /// The requirement as written.
    fn requirement(&self) -> &str {
        match self {
            Self::File(reference) => &reference.requirement,
            Self::Git(reference) => &reference.requirement,
        }
    }
}

/// The URL a direct reference names, read from `given` (the text as the spec wrote it) and
/// checked: its scheme, its file name, its sha256 fragment.
pub(super) struct DirectReference {
    pub name: PackageName,
    /// The requirement as written, for messages.
    pub requirement: String,
    /// The file, without its fragment: fetched from its `url`, named in the lock by its `label`
    /// (the URL as written, or a `file:` path relative to the lock).
    pub file: Repository,
    /// The fragment's sha256, when given.
    pub sha256: Option<String>,
}

impl DirectReference {
    /// Reads the direct reference `given` of `name` (`requirement` as written), relative paths
    /// from `spec_dir`, labelled for a lock in `lock_dir`.
    pub fn read(
        name: &PackageName,
        requirement: &str,
        given: &str,
        spec_dir: &Path,
        lock_dir: &Path,
    ) -> Result<Self, DirectError> {
        let (location, fragment) = match given.split_once('#') {
            Some((location, fragment)) => (location, Some(fragment)),
            None => (given, None),
        };
        let scheme = location.split(':').next().unwrap_or_default();
        if !["https", "http", "file"].contains(&scheme) {
            return Err(DirectError::Scheme {
                requirement: requirement.to_string(),
                scheme: scheme.to_string(),
            });
        }
        let repository = Repository::parse(location, spec_dir, lock_dir).map_err(|error| {
            DirectError::Location {
                requirement: requirement.to_string(),
                reason: error.to_string(),
            }
        })?;
        let sha256 = fragment
            .map(|fragment| sha256_of(requirement, fragment))
            .transpose()?;
        Ok(Self {
            name: name.clone(),
            requirement: requirement.to_string(),
            file: repository,
            sha256,
        })
    }

    /// The project this reference makes: its one file, at the version its name gives. Reads the
    /// file for its sha256 and size when the URL gives no sha256.
    pub fn project(&self, fetcher: &Fetcher, target: &Target) -> Result<Project, DirectError> {
        let filename = self
            .file
            .url
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .unwrap_or_default()
            .to_string();
        let not_a_distribution = || DirectError::NotADistribution {
            requirement: self.requirement.clone(),
            filename: filename.clone(),
            name: self.name.to_string(),
        };
        let (version, is_wheel) =
            version_of(&filename, self.name.as_ref()).ok_or_else(not_a_distribution)?;
        if is_wheel && target.wheel_priority(&filename).is_none() {
            return Err(DirectError::IncompatibleWheel {
                requirement: self.requirement.clone(),
                filename,
                python: format!("{}.{}", target.python.0, target.python.1),
                arch: target.arch.clone(),
            });
        }
        let (sha256, size) = match &self.sha256 {
            Some(sha256) => (sha256.clone(), None),
            None => {
                let artifact = self.download(fetcher)?;
                (artifact.sha256, Some(artifact.size))
            }
        };
        let file = DistFile {
            filename,
            url: self.file.url.clone(),
            version: version.clone(),
            is_wheel,
            sha256: Some(sha256),
            size,
            requires_python: None,
            yanked: false,
            upload_time: None,
            core_metadata: MetadataFile::NotOffered,
        };
        let candidate = Candidate {
            file,
            yanked: false,
        };
        Ok(Project {
            source: ProjectSource::Direct(self.file.clone()),
            versions: [(version, candidate)].into_iter().collect(),
            left_out: LeftOut::default(),
        })
    }

    fn download(&self, fetcher: &Fetcher) -> Result<crate::fetch::Artifact, DirectError> {
        let request = ArtifactRequest {
            url: self.file.url.clone(),
            expected: self.sha256.clone().map(Checksum::Sha256),
            published: None,
        };
        let mut results = fetcher.download_all(&[request], "Fetching direct references");
        results
            .pop()
            .expect("one result per request")
            .map_err(|source| DirectError::Download {
                requirement: self.requirement.clone(),
                url: self.file.label.clone(),
                source: Box::new(source),
            })
    }
}

/// The sha256 of a `sha256=HEX` fragment, lowercased.
fn sha256_of(requirement: &str, fragment: &str) -> Result<String, DirectError> {
    let bad = || DirectError::BadDigest {
        requirement: requirement.to_string(),
        fragment: fragment.to_string(),
    };
    let hex = fragment.strip_prefix("sha256=").ok_or_else(bad)?;
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(bad())
    }
}

/// Checks that no two references name `name` by different URLs.
pub(super) fn check_same(
    name: &PackageName,
    first: &Reference,
    second: &Reference,
) -> Result<(), DirectError> {
    let same = match (first, second) {
        (Reference::File(first), Reference::File(second)) => {
            first.file.url == second.file.url && first.sha256 == second.sha256
        }
        (Reference::Git(first), Reference::Git(second)) => first.same_as(second),
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(DirectError::TwoUrls {
            name: name.to_string(),
            first: first.requirement().to_string(),
            second: second.requirement().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> PackageName {
        PackageName::from_str(text).unwrap()
    }

    fn read(given: &str) -> Result<DirectReference, DirectError> {
        DirectReference::read(
            &name("hail"),
            &format!("hail @ {given}"),
            given,
            Path::new("/spec"),
            Path::new("/spec"),
        )
    }

    #[test]
    fn reads_the_url_and_its_sha256() {
        let digest = "AB".repeat(32);
        let reference = read(&format!(
            "https://files.example/hail-0.2.93-py3-none-any.whl#sha256={digest}"
        ))
        .unwrap();
        assert_eq!(
            reference.file.url.as_str(),
            "https://files.example/hail-0.2.93-py3-none-any.whl"
        );
        assert_eq!(reference.sha256, Some("ab".repeat(32)));
        assert_eq!(
            reference.file.label,
            "https://files.example/hail-0.2.93-py3-none-any.whl"
        );
    }

    #[test]
    fn refuses_other_schemes_and_bad_digests() {
        assert!(matches!(
            read("ftp://files.example/hail-0.2.93.tar.gz"),
            Err(DirectError::Scheme { .. })
        ));
        assert!(matches!(
            read("https://files.example/hail-0.2.93.tar.gz#md5=00"),
            Err(DirectError::BadDigest { .. })
        ));
        assert!(matches!(
            read("https://files.example/hail-0.2.93.tar.gz#sha256=0123"),
            Err(DirectError::BadDigest { .. })
        ));
    }
}

//! The credentials written in the spec's repository URLs (`https://alice:s3cret@host/simple`),
//! taken out of them as the spec is read: every URL the rest of imglock sees, hashes, locks,
//! emits or prints is the one without them, so no secret can reach an output. The fetcher is
//! given them ([`crate::fetch::Fetcher::add_credentials`]) and sends them to their origin.

use url::Url;

use super::Spec;
use crate::cran::spec::BioconductorSource;
use crate::fetch::{Credentials, split_userinfo};

/// The credentials of the spec's repositories, by the repository's URL without them.
#[derive(Debug, Clone, Default)]
pub struct WrittenCredentials(Vec<(Url, Credentials)>);

impl WrittenCredentials {
    /// Each repository's URL (without credentials) and its credentials.
    pub fn iter(&self) -> impl Iterator<Item = &(Url, Credentials)> {
        self.0.iter()
    }

    /// Takes the user and password out of `written`, keeping them when it is a URL.
    fn take(&mut self, written: &mut String) {
        let (stripped, credentials) = split_userinfo(written);
        if let Some(credentials) = credentials
            && let Ok(url) = Url::parse(stripped.trim())
        {
            self.0.push((url, credentials));
        }
        *written = stripped;
    }
}

/// Takes the credentials out of every repository URL of `spec`: each ecosystem's
/// `[repositories]`, a layer entry's own `repository` and a layer's `files`.
pub(super) fn take_credentials(spec: &mut Spec) -> WrittenCredentials {
    let mut taken = WrittenCredentials::default();
    let repositories = &mut spec.repositories;
    let lists = [
        &mut repositories.r.cran,
        &mut repositories.pypi.indexes,
        &mut repositories.conda.channels,
        &mut repositories.maven.repositories,
    ];
    for written in lists.into_iter().flatten() {
        taken.take(written);
    }
    if let BioconductorSource::Mirror(mirror) = &mut repositories.r.bioconductor {
        taken.take(mirror);
    }
    if let Some(api) = &mut repositories.r.github {
        taken.take(api);
    }
    for layer in &mut spec.layers {
        for written in layer
            .requirements
            .iter_mut()
            .filter_map(|entry| entry.repository.as_mut())
        {
            taken.take(written);
        }
        for file in &mut layer.files {
            taken.take(&mut file.url);
        }
    }
    taken
}

//! Which channel a conda package is asked from: `channel::name` in a match spec, or a layer
//! entry's `{ name = "skorch", channel = "conda-forge" }` (its table form).
//!
//! A channel is written as conda users write it: a URL (`https://…`, `file:///…`, or a `file:`
//! path relative to the spec), or a bare name. A URL means the channel at that URL, however its
//! trailing slash or relative path is spelt; a bare name means the channel of `[repositories]
//! conda` whose last path segment it is (`conda-forge` for
//! `https://conda.anaconda.org/conda-forge` or `file:mirror/conda-forge`), else conda's
//! `https://conda.anaconda.org/<name>`. A channel `[repositories] conda` does not list is fetched
//! with the others and serves the packages named for it, and nothing else.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use rattler_conda_types::{MatchSpec, PackageName, RepoDataRecord};

use super::channel::{ChannelRecords, conda_channel};
use crate::repository::{InvalidRepository, Repository};

/// Where conda's bare channel names live, as conda's default `channel_alias` says.
const CHANNEL_ALIAS: &str = "https://conda.anaconda.org";

/// A conda requirement as written: the match spec without its channel, and the channel it names.
pub(super) fn split(text: &str, channel: Option<&str>) -> Result<(String, Option<String>), String> {
    let named = text.rsplit_once("::");
    match (named, channel) {
        (Some(_), Some(channel)) => Err(format!(
            "`{text}` names a channel and the entry's `channel` is `{channel}`: name the channel once"
        )),
        (Some((channel, spec)), None) => Ok((spec.trim().into(), Some(channel.trim().into()))),
        (None, channel) => Ok((text.trim().into(), channel.map(|c| c.trim().to_string()))),
    }
}

/// The spec's channels: those of `[repositories] conda` first, in priority order, then those
/// only layer entries name, each with the packages it serves.
pub(super) struct Channels {
    /// Every channel, `[repositories] conda`'s first.
    pub repositories: Vec<Repository>,
    /// How many of them `[repositories] conda` lists.
    pub general: usize,
    /// For each channel past `general`, the packages named for it.
    serves: Vec<BTreeSet<String>>,
}

impl Channels {
    /// The channels of `[repositories] conda`.
    pub fn new(listed: Vec<Repository>) -> Self {
        Self {
            general: listed.len(),
            repositories: listed,
            serves: Vec::new(),
        }
    }

    /// The position of the channel `written` names for the package `name`, added when
    /// `[repositories] conda` does not list it.
    pub fn find_or_add(
        &mut self,
        written: &str,
        name: &str,
        spec_dir: &Path,
        lock_dir: &Path,
    ) -> Result<usize, InvalidRepository> {
        let written = written.trim().trim_end_matches('/');
        let repository = if written.contains(':') {
            Repository::parse(written, spec_dir, lock_dir)?
        } else if let Some(at) = self.repositories[..self.general]
            .iter()
            .position(|listed| last_segment(listed) == Some(written))
        {
            return Ok(at);
        } else {
            Repository::parse(&format!("{CHANNEL_ALIAS}/{written}"), spec_dir, lock_dir)?
        };
        let at = match self
            .repositories
            .iter()
            .position(|known| known.url == repository.url)
        {
            Some(at) => at,
            None => {
                self.repositories.push(repository);
                self.serves.push(BTreeSet::new());
                self.repositories.len() - 1
            }
        };
        if let Some(serves) = at
            .checked_sub(self.general)
            .and_then(|extra| self.serves.get_mut(extra))
        {
            serves.insert(name.to_string());
        }
        Ok(at)
    }

    /// Keeps, of each channel only entries name, the records of the packages named for it.
    pub fn keep_named(&self, channels: &mut [ChannelRecords]) {
        for (channel, serves) in channels[self.general..].iter_mut().zip(&self.serves) {
            channel
                .records
                .retain(|record| serves.contains(record.package_record.name.as_normalized()));
        }
    }
}

/// `spec` restricted to the channel `repository`, as the records of that channel name it (so
/// the solver's comparison holds whatever spelling the spec used).
pub(super) fn restrict(spec: &mut MatchSpec, repository: &Repository) {
    spec.channel = Some(Arc::new(conda_channel(repository)));
}

/// The labels of the channels other than `at` that have `name`, for an error.
pub(super) fn elsewhere(channels: &[ChannelRecords], at: usize, name: &PackageName) -> Vec<String> {
    channels
        .iter()
        .enumerate()
        .filter(|(position, channel)| *position != at && has(&channel.records, name))
        .map(|(_, channel)| channel.repository.label.clone())
        .collect()
}

/// Whether `records` hold a record of `name`.
pub(super) fn has(records: &[RepoDataRecord], name: &PackageName) -> bool {
    records.iter().any(|r| &r.package_record.name == name)
}

/// The last segment of a channel's URL path, like `conda-forge`.
fn last_segment(repository: &Repository) -> Option<&str> {
    repository
        .url
        .path()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|segment| !segment.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_is_split_off_the_spec_or_taken_from_the_entry() {
        let split = |text, channel| split(text, channel).unwrap();
        assert_eq!(split("skorch", None), ("skorch".into(), None));
        assert_eq!(
            split("conda-forge::skorch >=0.10", None),
            ("skorch >=0.10".into(), Some("conda-forge".into()))
        );
        assert_eq!(
            split("file:///srv/forge/::skorch", None),
            ("skorch".into(), Some("file:///srv/forge/".into()))
        );
        assert_eq!(
            split("skorch", Some(" conda-forge ")),
            ("skorch".into(), Some("conda-forge".into()))
        );
        assert!(super::split("a::skorch", Some("b")).is_err());
    }

    #[test]
    fn a_bare_name_is_a_listed_channel_by_its_last_segment_else_condas() {
        let here = Path::new("/spec");
        let listed = |text: &str| Repository::parse(text, here, here).unwrap();
        let mut channels = Channels::new(vec![
            listed("https://conda.example/main"),
            listed("file:mirror/conda-forge"),
        ]);
        let find = |channels: &mut Channels, written: &str| {
            channels.find_or_add(written, "skorch", here, here).unwrap()
        };
        assert_eq!(find(&mut channels, "conda-forge"), 1);
        assert_eq!(find(&mut channels, "main"), 0);
        assert_eq!(find(&mut channels, "https://conda.example/main/"), 0);
        assert_eq!(find(&mut channels, "file:///spec/mirror/conda-forge"), 1);
        assert_eq!(find(&mut channels, "bioconda"), 2);
        assert_eq!(
            channels.repositories[2].label,
            "https://conda.anaconda.org/bioconda"
        );
        assert_eq!(
            find(&mut channels, "https://conda.anaconda.org/bioconda/"),
            2
        );
        assert_eq!(channels.serves, [BTreeSet::from(["skorch".to_string()])]);
    }
}

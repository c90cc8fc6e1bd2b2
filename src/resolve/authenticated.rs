//! Which origins of a lock need credentials: the lock says so (`authenticated-origins` in its
//! `[resolution]`, never the credentials themselves) so that `imglock emit` gives the downloads
//! from them the build's netrc secret.

use url::Url;

use crate::fetch::Fetcher;
use crate::lock::Lock;
use crate::package::SettingValue;

/// Records in `lock` the origins (`https://host:port`) of its repositories and artifacts the
/// fetcher has credentials for (see [`Lock::add_authenticated_origins`]); nothing when there
/// are none.
pub(super) fn record(lock: &mut Lock, fetcher: &Fetcher) {
    let mut urls: Vec<&str> = Vec::new();
    for layer in &lock.layers {
        for package in layer.packages.iter().chain(&layer.build_packages) {
            urls.push(&package.url);
            urls.push(&package.repository);
        }
    }
    for value in lock.resolution.values() {
        match value {
            SettingValue::Text(text) => urls.push(text),
            SettingValue::List(list) => urls.extend(list.iter().map(String::as_str)),
        }
    }
    let origins = urls
        .into_iter()
        .filter_map(|text| Url::parse(text).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https") && fetcher.has_credentials(url))
        .map(|url| url.origin().ascii_serialization())
        .collect();
    lock.add_authenticated_origins(origins);
}

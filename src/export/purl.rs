//! Package URLs (purl, <https://github.com/package-url/purl-spec>) of locked packages, in the
//! canonical form: `pkg:type/namespace/name@version?qualifiers#subpath`, qualifiers sorted by
//! key, every component percent-encoded. One type per ecosystem: `cran`, `bioconductor`, `github`
//! (a GitHub R package: its repository at its commit), `pypi`, `conda` (with `build`, `channel`,
//! `subdir` and `type`), `maven` (with `classifier` and `type`), `deb` (with `arch` and
//! `distro`) and `generic` for a file from a URL (with `download_url` and `checksum`).

use crate::lock::LockedPackage;
use crate::package::{Ecosystem, PackageDetails};

/// A purl being put together.
struct Purl {
    kind: &'static str,
    namespace: Vec<String>,
    name: String,
    version: String,
    qualifiers: Vec<(&'static str, String)>,
    subpath: Option<String>,
}

impl Purl {
    fn new(kind: &'static str, name: &str, version: &str) -> Self {
        Self {
            kind,
            namespace: Vec::new(),
            name: name.to_string(),
            version: version.to_string(),
            qualifiers: Vec::new(),
            subpath: None,
        }
    }

    fn qualifier(mut self, key: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.qualifiers.push((key, value));
        }
        self
    }

    fn render(mut self) -> String {
        let mut out = format!("pkg:{}/", self.kind);
        for segment in &self.namespace {
            out.push_str(&encode(segment, ""));
            out.push('/');
        }
        out.push_str(&encode(&self.name, ""));
        out.push('@');
        out.push_str(&encode(&self.version, ":"));
        self.qualifiers.sort();
        for (index, (key, value)) in self.qualifiers.iter().enumerate() {
            out.push(if index == 0 { '?' } else { '&' });
            out.push_str(key);
            out.push('=');
            out.push_str(&encode(value, ":/"));
        }
        if let Some(subpath) = &self.subpath {
            let segments: Vec<String> = subpath
                .split('/')
                .filter(|s| !s.is_empty() && *s != "." && *s != "..")
                .map(|s| encode(s, ""))
                .collect();
            out.push('#');
            out.push_str(&segments.join("/"));
        }
        out
    }
}

/// `text` percent-encoded: every byte but ASCII letters, digits, `.`, `-`, `_`, `~` and those
/// of `keep`.
fn encode(text: &str, keep: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let c = byte as char;
        if c.is_ascii_alphanumeric() || ".-_~".contains(c) || (c.is_ascii() && keep.contains(c)) {
            out.push(c);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The purl of `package`.
pub(crate) fn purl(package: &LockedPackage) -> String {
    let (name, version) = (package.name.as_str(), package.version.as_str());
    match (&package.details, package.ecosystem) {
        (PackageDetails::R(details), _) if details.github.is_some() => {
            let github = details.github.as_ref().expect("matched as some");
            let (owner, repo) = github.repo.split_once('/').unwrap_or(("", &github.repo));
            let mut purl = Purl::new("github", &repo.to_lowercase(), &github.commit);
            purl.namespace = vec![owner.to_lowercase()];
            purl.subpath = github.subdir.clone();
            purl.render()
        }
        (_, Ecosystem::Bioconductor) => Purl::new("bioconductor", name, version).render(),
        (_, Ecosystem::Cran | Ecosystem::Github) => Purl::new("cran", name, version).render(),
        (PackageDetails::Pypi(details), _) => pypi(package, details),
        (PackageDetails::Conda(build), _) => Purl::new("conda", name, version)
            .qualifier("build", &build.build)
            .qualifier("channel", &package.repository)
            .qualifier("subdir", &build.subdir)
            .qualifier("type", conda_type(&package.url))
            .render(),
        (PackageDetails::Maven(_), _) => maven(package),
        (PackageDetails::Apt(details), _) => {
            let mut purl = Purl::new("deb", name, version)
                .qualifier("arch", &details.architecture)
                .qualifier("distro", &details.suite);
            purl.namespace = vec![deb_vendor(&package.repository).to_string()];
            purl.render()
        }
        _ => Purl::new("generic", name, version)
            .qualifier("checksum", format!("sha256:{}", package.sha256))
            .qualifier("download_url", &package.url)
            .render(),
    }
}

/// A PyPI package's purl: its normalised name (lowercase, `_` as `-`), with `vcs_url` for a
/// git reference and `download_url` for a direct URL one.
fn pypi(package: &LockedPackage, details: &crate::pypi::details::PypiDetails) -> String {
    let name = package.name.to_lowercase().replace('_', "-");
    let purl = Purl::new("pypi", &name, &package.version);
    let purl = match &details.git {
        Some(git) => purl.qualifier("vcs_url", format!("git+{}@{}", git.url, git.commit)),
        None if package.repository == package.url => purl.qualifier("download_url", &package.url),
        None => purl,
    };
    purl.render()
}

/// A Maven artifact's purl: the lock names it `group:artifact[:classifier]`; its type is the
/// file's extension.
fn maven(package: &LockedPackage) -> String {
    let mut parts = package.name.splitn(3, ':');
    let group = parts.next().unwrap_or_default();
    let artifact = parts.next().unwrap_or_default();
    let classifier = parts.next().unwrap_or_default();
    let extension = package
        .url
        .rsplit('/')
        .next()
        .and_then(|file| file.rsplit_once('.'))
        .map(|(_, extension)| extension)
        .unwrap_or("jar");
    let mut purl = Purl::new("maven", artifact, &package.version)
        .qualifier("classifier", classifier)
        .qualifier("type", extension);
    purl.namespace = vec![group.to_string()];
    purl.render()
}

/// A conda artifact's format, as purl's `type` spells it: `conda` or `tar.bz2`.
fn conda_type(url: &str) -> &'static str {
    match url.ends_with(".conda") {
        true => "conda",
        false => "tar.bz2",
    }
}

/// The distribution a Debian package comes from, as purl's `deb` namespace names it.
fn deb_vendor(repository: &str) -> &'static str {
    match repository.contains("ubuntu") {
        true => "ubuntu",
        false => "debian",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock of one package per table of `tables` (each its fields after the shared ones).
    fn lock_of(tables: &[(&str, &str, &str, &str, &str)]) -> crate::lock::Lock {
        let mut text = format!(
            "version = 1\nspec-hash = \"x\"\n\n[image]\nname = \"i\"\nbase = \"docker.io/library/debian@sha256:{}\"\nplatform = \"linux/amd64\"\n\n[[layer]]\nname = \"l\"\n",
            "b".repeat(64)
        );
        for (ecosystem, name, version, url, own) in tables {
            text.push_str(&format!(
                "\n[[layer.package]]\necosystem = \"{ecosystem}\"\nname = \"{name}\"\nversion = \"{version}\"\nrepository = \"https://repo.example\"\nurl = \"{url}\"\nsha256 = \"{}\"\nsize = 1\n{own}",
                "a".repeat(64)
            ));
        }
        crate::lock::Lock::parse(std::path::Path::new("imglock.lock"), &text).unwrap()
    }

    #[test]
    fn each_ecosystem_has_its_purl_type() {
        let commit = "c".repeat(40);
        let lock = lock_of(&[
            (
                "apt",
                "libxml2",
                "2.9.14+dfsg-1.3~deb12u1",
                "https://deb.example/l.deb",
                "architecture = \"amd64\"\nsource = \"libxml2\"\nsuite = \"bookworm\"\n",
            ),
            (
                "github",
                "usethis",
                "2.2.0",
                "https://api.github.com/repos/r-lib/usethis/tarball/x",
                &format!(
                    "github = \"r-lib/UseThis\"\nref = \"main\"\ncommit = \"{commit}\"\nsubdir = \"pkg/r\"\n"
                ),
            ),
            (
                "pypi",
                "Typing_Extensions",
                "4.0.0",
                "https://codeload.example/t.tar.gz",
                &format!(
                    "git = \"https://github.com/python/typing\"\nref = \"HEAD\"\ncommit = \"{commit}\"\n"
                ),
            ),
            (
                "file",
                "chain",
                "1",
                "https://files.example/a.chain",
                "target = \"/opt/a.chain\"\n",
            ),
        ]);
        let purls: Vec<String> = lock.layers[0].packages.iter().map(purl).collect();
        assert_eq!(
            purls,
            [
                "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1.3~deb12u1?arch=amd64&distro=bookworm"
                    .to_string(),
                format!("pkg:github/r-lib/usethis@{commit}#pkg/r"),
                format!(
                    "pkg:pypi/typing-extensions@4.0.0?vcs_url=git%2Bhttps://github.com/python/typing%40{commit}"
                ),
                format!(
                    "pkg:generic/chain@1?checksum=sha256:{}&download_url=https://files.example/a.chain",
                    "a".repeat(64)
                ),
            ]
        );
    }

    #[test]
    fn components_are_percent_encoded_and_qualifiers_sorted() {
        let purl = Purl::new("generic", "a b", "1.0+x")
            .qualifier("z", "q&r=s")
            .qualifier("a", "file:../x y")
            .render();
        assert_eq!(
            purl,
            "pkg:generic/a%20b@1.0%2Bx?a=file:../x%20y&z=q%26r%3Ds"
        );
    }
}

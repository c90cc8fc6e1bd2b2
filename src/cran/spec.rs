//! R's part of the spec (CRAN, Bioconductor and GitHub): `[image] r` and `r-library`,
//! `[repositories] cran`, `bioconductor`, `cran-snapshot` and `github`, and their grammar.
//!
//! A leaf below the spec: it imports nothing of [`crate::spec`]. Each check returns the span it is
//! about and a message, which the spec locates at file, line and column.

use serde::Serialize;
use toml::Spanned;

use super::version::RVersion;
use crate::dockerfile_values::{SpanProblem, checked_image_path};
use crate::exclude_newer::ExcludeNewer;

/// The CRAN mirror used when the spec names none.
pub const CRAN_URL: &str = "https://cloud.r-project.org";
/// The GitHub REST API used when the spec names none (`[repositories] github`).
pub const GITHUB_API: &str = "https://api.github.com";
/// The Bioconductor site used when the spec names none.
pub const BIOCONDUCTOR_URL: &str = "https://bioconductor.org";

/// R's keys of the `[image]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RImage {
    /// `r`: the R version of the base image, which R packages are installed for.
    #[serde(rename = "r")]
    pub version: Option<String>,
    /// `r-library`: the R library imglock installs into (absolute); R's site library when not set.
    #[serde(rename = "r_library", skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
}

impl RImage {
    /// `image.r` (a version R's own version order reads) and `image.r-library` (an absolute path
    /// in the image), checked.
    pub fn parse(
        version: Option<Spanned<String>>,
        library: Option<Spanned<String>>,
    ) -> Result<Self, SpanProblem> {
        Ok(Self {
            version: check_r_version(version)?,
            library: checked_image_path("image.r-library", library, "/opt/R/library")?,
        })
    }

    /// Refuses a spec whose layers install R packages (`installs_r`) without saying the R version.
    pub fn check_configured(&self, installs_r: bool) -> Result<(), String> {
        if self.version.is_none() && installs_r {
            return Err("layers install R packages but `[image] r` is not set: give the R version of the base image, like `r = \"4.2.2\"`".into());
        }
        Ok(())
    }
}

/// `image.r`, when set: a version R's own version order reads.
fn check_r_version(r: Option<Spanned<String>>) -> Result<Option<String>, SpanProblem> {
    let Some(r) = r else { return Ok(None) };
    match r.get_ref().parse::<RVersion>() {
        Ok(_) => Ok(Some(r.into_inner())),
        Err(e) => Err((r.span(), format!("image.r: {e}"))),
    }
}

/// R's keys of the `[repositories]` table, as written (paths are resolved when the repositories
/// are used).
#[derive(Debug, Clone, Serialize)]
pub struct RRepositories {
    /// `cran`: CRAN-like repositories, in order.
    pub cran: Vec<String>,
    /// `bioconductor`: where Bioconductor packages come from.
    pub bioconductor: BioconductorSource,
    /// `github`: the GitHub REST API a layer's `github` packages are resolved with (GitHub
    /// Enterprise's `https://HOST/api/v3`); `None` for api.github.com (so a spec without it
    /// hashes as before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub github: Option<String>,
    /// `cran-snapshot`: CRAN as of this date or instant (each package's newest version published
    /// by then), as written.
    #[serde(rename = "cran_snapshot", skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

impl RRepositories {
    /// The repositories with CRAN's default mirror and Bioconductor's source filled in;
    /// `bioconductor` checked.
    pub fn parse(
        cran: Option<Vec<String>>,
        bioconductor: Option<Spanned<String>>,
        github: Option<Spanned<String>>,
        snapshot: Option<Spanned<String>>,
    ) -> Result<Self, SpanProblem> {
        let snapshot = match snapshot {
            None => None,
            Some(value) => match value.get_ref().trim().parse::<ExcludeNewer>() {
                Ok(_) => Some(value.get_ref().trim().to_string()),
                Err(message) => {
                    return Err((
                        value.span(),
                        format!("repositories.cran-snapshot {message}"),
                    ));
                }
            },
        };
        let bioconductor = match bioconductor {
            None => BioconductorSource::Auto,
            Some(value) => {
                BioconductorSource::parse(value.get_ref()).map_err(|m| (value.span(), m))?
            }
        };
        Ok(Self {
            cran: cran.unwrap_or_else(|| vec![CRAN_URL.to_string()]),
            bioconductor,
            github: github.map(check_github_api).transpose()?,
            snapshot,
        })
    }
}

/// `repositories.github`: an `https://` or `http://` URL of a GitHub REST API (no query or
/// fragment), kept without its trailing `/`.
fn check_github_api(api: Spanned<String>) -> Result<String, SpanProblem> {
    let text = api.get_ref().trim().trim_end_matches('/').to_string();
    match url::Url::parse(&text) {
        Ok(url)
            if matches!(url.scheme(), "https" | "http")
                && url.host().is_some()
                && url.query().is_none()
                && url.fragment().is_none() =>
        {
            Ok(text)
        }
        _ => Err((
            api.span(),
            format!(
                "repositories.github `{text}` is not a GitHub API URL: use `{GITHUB_API}`, or GitHub Enterprise's `https://HOST/api/v3`"
            ),
        )),
    }
}

/// Where Bioconductor packages come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BioconductorSource {
    /// The release matching the image's R, from bioconductor.org.
    Auto,
    /// An explicit release, like `3.16`, from bioconductor.org.
    Release(String),
    /// A mirror laid out like bioconductor.org (`<url>/packages/<release>/bioc`), with the release
    /// matching the image's R.
    Mirror(String),
}

impl BioconductorSource {
    /// `repositories.bioconductor`: `auto`, a release like `3.16`, or a mirror URL.
    fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value == "auto" {
            return Ok(Self::Auto);
        }
        if value.contains(':') {
            return Ok(Self::Mirror(value.to_string()));
        }
        let release_like = value.split('.').count() == 2
            && value
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if release_like {
            Ok(Self::Release(value.to_string()))
        } else {
            Err(format!(
                "repositories.bioconductor `{value}` must be `auto`, a release like `3.16`, or a mirror URL"
            ))
        }
    }
}

//! conda's part of the spec: `[image] glibc`, `cuda`, `conda-prefix` and `conda-installer`,
//! `[repositories] conda`, and their grammar.
//!
//! A leaf below the spec: it imports nothing of [`crate::spec`]. Each check returns the span it is
//! about and a message, which the spec locates at file, line and column.

use serde::Serialize;
use toml::Spanned;

use super::installer::CondaInstaller;
use crate::dockerfile_values::{SpanProblem, checked_image_path};

/// The conda prefix used when the spec names none.
pub const CONDA_PREFIX: &str = "/opt/conda";

/// conda's keys of the `[image]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CondaImage {
    /// `glibc`: the image's glibc version, like `2.17`: conda's `__glibc` virtual package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glibc: Option<String>,
    /// `cuda`: the CUDA driver version the image runs with, like `11.8`: conda's `__cuda` (none
    /// if unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    /// `conda-prefix`: where the image's conda environment lives (absolute), [`CONDA_PREFIX`]
    /// when not set.
    #[serde(rename = "conda_prefix", skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `conda-installer`: the program that installs conda packages in the image.
    #[serde(rename = "conda_installer", skip_serializing_if = "Option::is_none")]
    pub installer: Option<CondaInstaller>,
}

impl CondaImage {
    /// The keys, checked: `glibc` and `cuda` dotted versions, `conda-prefix` an absolute path in
    /// the image, `conda-installer` a program imglock knows how to drive.
    pub fn parse(
        glibc: Option<Spanned<String>>,
        cuda: Option<Spanned<String>>,
        prefix: Option<Spanned<String>>,
        installer: Option<Spanned<String>>,
    ) -> Result<Self, SpanProblem> {
        Ok(Self {
            glibc: check_dotted("image.glibc", glibc)?,
            cuda: check_dotted("image.cuda", cuda)?,
            prefix: checked_image_path("image.conda-prefix", prefix, CONDA_PREFIX)?,
            installer: check_installer(installer)?,
        })
    }
}

/// A version like `2.17` or `11.8`: digits separated by dots.
fn check_dotted(key: &str, value: Option<Spanned<String>>) -> Result<Option<String>, SpanProblem> {
    let Some(value) = value else { return Ok(None) };
    let dotted = value
        .get_ref()
        .split('.')
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    if dotted {
        Ok(Some(value.into_inner()))
    } else {
        Err((
            value.span(),
            format!(
                "{key} `{}` must be a version like `2.17`: numbers separated by dots",
                value.get_ref()
            ),
        ))
    }
}

/// `image.conda-installer`, when set: a program imglock knows how to drive.
fn check_installer(
    installer: Option<Spanned<String>>,
) -> Result<Option<CondaInstaller>, SpanProblem> {
    let Some(installer) = installer else {
        return Ok(None);
    };
    installer
        .get_ref()
        .parse()
        .map(Some)
        .map_err(|message: String| (installer.span(), format!("image.conda-installer {message}")))
}

/// conda's keys of the `[repositories]` table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CondaRepositories {
    /// `conda`: channels, in priority order.
    #[serde(rename = "conda", skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// `conda-channel-priority`: how the channels' order counts ([`ChannelPriority::Strict`]
    /// when not set).
    #[serde(
        rename = "conda_channel_priority",
        skip_serializing_if = "Option::is_none"
    )]
    pub priority: Option<ChannelPriority>,
}

/// How the order of the channels counts, as conda's `channel_priority` defines it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelPriority {
    /// A package comes only from the first channel that has it (conda's default).
    #[default]
    Strict,
    /// A later channel serves a package only when the earlier ones have no version that fits.
    Flexible,
    /// The highest version wins, from any channel.
    Disabled,
}

impl ChannelPriority {
    /// The name conda and the lock use, like `strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Flexible => "flexible",
            Self::Disabled => "disabled",
        }
    }

    /// `repositories.conda-channel-priority`, when set.
    pub fn parse(value: Option<Spanned<String>>) -> Result<Option<Self>, SpanProblem> {
        let Some(value) = value else { return Ok(None) };
        let known = [Self::Strict, Self::Flexible, Self::Disabled];
        match known
            .into_iter()
            .find(|p| p.as_str() == value.get_ref().trim())
        {
            Some(priority) => Ok(Some(priority)),
            None => Err((
                value.span(),
                format!(
                    "repositories.conda-channel-priority `{}` must be `strict` (a package only from the first channel that has it), `flexible` (a later channel only when the earlier ones have no fitting version) or `disabled` (the highest version from any channel)",
                    value.get_ref()
                ),
            )),
        }
    }
}

impl CondaRepositories {
    /// Refuses a spec whose layers install conda packages (`installs_conda`) from no channel.
    pub fn check_configured(&self, installs_conda: bool) -> Result<(), String> {
        if self.channels.is_empty() && installs_conda {
            return Err("layers install conda packages but `[repositories] conda` lists no channel: add the channels in priority order, like `conda = [\"https://conda.anaconda.org/conda-forge\"]`".into());
        }
        Ok(())
    }
}

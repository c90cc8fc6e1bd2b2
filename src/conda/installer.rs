//! The program that installs conda packages in the image, as the spec names it and the lock
//! records it.

/// The installer of conda packages in the image (`[image] conda-installer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CondaInstaller {
    #[default]
    Micromamba,
    Conda,
}

impl CondaInstaller {
    /// Its spelling in the spec and the lock.
    pub fn name(self) -> &'static str {
        match self {
            Self::Micromamba => "micromamba",
            Self::Conda => "conda",
        }
    }
}

impl std::str::FromStr for CondaInstaller {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "micromamba" => Ok(Self::Micromamba),
            "conda" => Ok(Self::Conda),
            other => Err(format!("`{other}` must be `micromamba` or `conda`")),
        }
    }
}

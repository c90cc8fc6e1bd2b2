//! Writing the spec `init`, `import`, `add` and `remove` made: read it as text and TOML,
//! write it atomically, and keep it only when it reads as a spec.

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use super::ImportError;

/// Why a spec could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("`{}` exists already: edit it, or `imglock import`/`add` into it", path.display())]
    Exists { path: PathBuf },
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not TOML imglock can edit", path.display())]
    Toml {
        path: PathBuf,
        #[source]
        source: toml_edit::TomlError,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the edited spec does not read as a spec, so `{}` was not changed", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: crate::spec::SpecError,
    },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Edit(#[from] super::edit::EditError),
}

/// The spec's text.
pub fn read_spec(path: &Path) -> Result<String, WriteError> {
    std::fs::read_to_string(path).map_err(|source| WriteError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The spec's TOML document, comments and layout kept.
pub fn parse(path: &Path, text: &str) -> Result<DocumentMut, WriteError> {
    text.parse().map_err(|source| WriteError::Toml {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `text` to `path` atomically, then reads it back as a spec: when it does not read,
/// `original` is put back (a new file is removed) and the error says why.
pub fn write_checked(path: &Path, text: &str, original: Option<&str>) -> Result<(), WriteError> {
    let write = |bytes: &str| {
        crate::files::write_atomic(path, bytes.as_bytes()).map_err(|source| WriteError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    write(text)?;
    if let Err(source) = crate::spec::Spec::read(path) {
        match original {
            Some(original) => write(original)?,
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
        return Err(WriteError::Invalid {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

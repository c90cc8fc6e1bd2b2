//! The system keyring as the fourth source of credentials, opt-in as in uv's
//! `--keyring-provider subprocess`: with `IMGLOCK_KEYRING_PROVIDER=subprocess`, when the earlier
//! sources give a URL's user name but no password, imglock runs the `keyring` command (no shell)
//! as `keyring get SERVICE USERNAME`, the service being the request URL, then its host (with
//! `:PORT` when the URL names one), uv's order; the password is its standard output. The answer
//! is kept in memory for the URL's origin and user, never written anywhere.

use std::collections::HashMap;
use std::process::{Command, Stdio};

use url::Url;

/// The environment variable choosing the keyring provider.
pub const PROVIDER_VARIABLE: &str = "IMGLOCK_KEYRING_PROVIDER";

/// The command the `subprocess` provider runs.
const PROGRAM: &str = "keyring";

/// A keyring lookup that failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The provider variable has a value imglock does not know.
    #[error(
        "{PROVIDER_VARIABLE} is `{value}`, which is no keyring provider: set it to `subprocess` (run the `keyring` command) or `disabled`, or unset it"
    )]
    UnknownProvider {
        /// The value (a provider name, no secret).
        value: String,
    },
    /// The command could not be started.
    #[error(
        "{PROVIDER_VARIABLE}=subprocess asks the `{PROGRAM}` command for passwords, but it could not be started: install it on PATH (`pip install keyring`, or `uv tool install keyring`), or unset {PROVIDER_VARIABLE}"
    )]
    Missing(#[source] std::io::Error),
    /// The command ran and failed with a message.
    #[error(
        "`{PROGRAM} get {service} {username}` failed ({status}): {stderr}; fix the keyring (`{PROGRAM} --list-backends`), or unset {PROVIDER_VARIABLE}"
    )]
    Failed {
        /// The service asked.
        service: String,
        /// The user name asked.
        username: String,
        /// The exit status.
        status: std::process::ExitStatus,
        /// The last line the command wrote to its standard error.
        stderr: String,
    },
}

/// The keyring, when a provider is chosen, with the passwords it gave by origin and user.
#[derive(Default)]
pub(super) struct Keyring {
    found: HashMap<(String, String), Option<String>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(passwords hidden)")
    }
}

impl Keyring {
    /// The keyring `IMGLOCK_KEYRING_PROVIDER` chooses: `None` when it is unset, empty or
    /// `disabled`.
    pub(super) fn from_environment() -> Result<Option<Self>, KeyringError> {
        let value = std::env::var(PROVIDER_VARIABLE).unwrap_or_default();
        match value.as_str() {
            "" | "disabled" => Ok(None),
            "subprocess" => Ok(Some(Self::default())),
            _ => Err(KeyringError::UnknownProvider { value }),
        }
    }

    /// The password of `username` for `url` the keyring holds (see the module's
    /// documentation), asked once per origin and user.
    pub(super) fn password(
        &mut self,
        url: &Url,
        username: &str,
    ) -> Result<Option<String>, KeyringError> {
        let key = (url.origin().ascii_serialization(), username.to_string());
        if let Some(known) = self.found.get(&key) {
            return Ok(known.clone());
        }
        let mut services = vec![url.as_str().to_string()];
        if let Some(host) = url.host_str() {
            services.push(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_string(),
            });
        }
        let mut found = None;
        for service in services {
            found = get(&service, username)?;
            if found.is_some() {
                break;
            }
        }
        self.found.insert(key, found.clone());
        Ok(found)
    }
}

/// `keyring get SERVICE USERNAME`: the password it prints, `None` when it holds none (it exits
/// with an error and says nothing).
fn get(service: &str, username: &str) -> Result<Option<String>, KeyringError> {
    let output = Command::new(PROGRAM)
        .args(["get", service, username])
        .stdin(Stdio::null())
        .output()
        .map_err(KeyringError::Missing)?;
    // The last line of a Python traceback says what failed; the lines above are its stack.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.lines().rev().find(|line| !line.trim().is_empty());
    let stderr = stderr.unwrap_or_default().trim().to_string();
    if !output.status.success() {
        if stderr.is_empty() {
            return Ok(None);
        }
        return Err(KeyringError::Failed {
            service: service.to_string(),
            username: username.to_string(),
            status: output.status,
            stderr,
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let password = stdout.strip_suffix('\n').unwrap_or(&stdout);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok((!password.is_empty()).then(|| password.to_string()))
}

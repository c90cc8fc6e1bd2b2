//! The Dockerfile instructions of custom steps: a layer's steps after its package steps, in the
//! spec's order and text (so a changed step rebuilds only what follows it), and the image's
//! `ENTRYPOINT` and `CMD` last. Package steps always run as root: when a `user` step made
//! another user current, a layer's package steps are wrapped in `USER root` … `USER <user>`.

use std::fmt::Write;

use super::{CopyStep, CustomStep, ImageCommand};
use crate::emit::step::{CONTEXT_ARTIFACTS, Step, StepContext};

/// The user the steps run as, once a `user` step named one; `None` while the base image's.
#[derive(Debug, Default)]
pub struct ActiveUser(Option<String>);

impl ActiveUser {
    /// The user, when one other than root is current.
    fn other_than_root(&self) -> Option<&str> {
        self.0
            .as_deref()
            .filter(|user| !matches!(*user, "root" | "0" | "root:root" | "0:0"))
    }

    /// A layer's package steps, as root: unchanged unless another user is current.
    pub fn around_packages(&self, layer: &str, packages: Vec<Step>) -> Vec<Step> {
        let Some(user) = self.other_than_root().filter(|_| !packages.is_empty()) else {
            return packages;
        };
        let switch = |comment: &str, to: &str| Step {
            layer: Some(layer.to_string()),
            text: format!("# {comment}\nUSER {to}\n"),
            packages: 0,
        };
        let mut steps = vec![switch("packages install as root", "root")];
        steps.extend(packages);
        steps.push(switch("back to the spec's user", user));
        steps
    }
}

/// The instructions of `steps`, the custom steps of layer `layer`; `copy` files are queued in
/// `context` for the build context (under [`CONTEXT_ARTIFACTS`], by their sha256).
pub fn layer_steps(
    layer: &str,
    steps: &[CustomStep],
    context: &mut StepContext,
    user: &mut ActiveUser,
) -> Vec<Step> {
    steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let mut text = String::new();
            if index == 0 {
                text.push_str("# the layer's own steps, in the spec's order\n");
            }
            let _ = writeln!(text, "{}", instruction(step, context));
            if let CustomStep::User(name) = step {
                user.0 = Some(name.clone());
            }
            Step {
                layer: Some(layer.to_string()),
                text,
                packages: 0,
            }
        })
        .collect()
}

/// `ENTRYPOINT` and `CMD` in exec form, when set.
pub fn image_steps(command: &ImageCommand) -> Vec<Step> {
    [("ENTRYPOINT", &command.entrypoint), ("CMD", &command.cmd)]
        .into_iter()
        .filter_map(|(instruction, words)| {
            let words = words.as_ref()?;
            let json = serde_json::to_string(words).unwrap_or_default();
            Some(Step {
                layer: None,
                text: format!(
                    "# the image's {}\n{instruction} {json}\n",
                    instruction.to_lowercase()
                ),
                packages: 0,
            })
        })
        .collect()
}

/// One step's instruction line. Values were checked when the lock was read: `env` values are
/// written in double quotes (`"` and `\` escaped, `$NAME` expanded by the build as in any
/// Dockerfile), paths and users are plain words, a `run` line is one line as written.
fn instruction(step: &CustomStep, context: &mut StepContext) -> String {
    match step {
        CustomStep::Env(variables) => {
            let pairs: Vec<String> = variables
                .iter()
                .map(|(name, value)| {
                    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
                    format!("{name}=\"{escaped}\"")
                })
                .collect();
            format!("ENV {}", pairs.join(" "))
        }
        CustomStep::Workdir(path) => format!("WORKDIR {path}"),
        CustomStep::Copy(copy) => {
            let chmod = copy
                .mode
                .as_ref()
                .map_or(String::new(), |mode| format!("--chmod={mode} "));
            format!("COPY {chmod}{} {}", context_copy(copy, context), copy.to)
        }
        CustomStep::Run(line) => format!("RUN {}", line.trim()),
        CustomStep::User(user) => format!("USER {user}"),
    }
}

/// Queues a `copy` file for the build context and gives its path there:
/// `imglock-artifacts/<sha256>/<file name>`, so two files of one name never meet and the name
/// `COPY` gives the file in a folder is its own.
fn context_copy(copy: &CopyStep, context: &mut StepContext) -> String {
    let file_name = copy.source.rsplit('/').next().unwrap_or(&copy.source);
    let name = format!("{}/{file_name}", copy.sha256);
    context.add_file(&copy.source, name.clone(), copy.sha256.clone());
    format!("{CONTEXT_ARTIFACTS}/{name}")
}

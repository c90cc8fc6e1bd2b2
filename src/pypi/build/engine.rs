//! The container engines an isolated metadata build runs in, in the order they are preferred
//! (buildah, podman, docker), and how each runs a throwaway container with no network.
//!
//! A buildah container is made, run and removed in three commands, so a process killed between
//! them leaves its container behind (a copy of the base image, with `vfs` storage). Each is
//! named `imglock-build-<process id>-<n>`, and each build first removes those whose process no
//! longer runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Where a container gets a tmpfs: the hook unpacks the build dependencies and the sdist into
/// it, many small files the container's own file system is slow to take (with buildah's `vfs`
/// storage, unpacking setuptools and PyYAML 5.3.1 took 0.7 s there, 0.13 s in memory).
pub const SCRATCH: &str = "/tmp";

/// The start of the name of every buildah container a build makes.
const CONTAINER_PREFIX: &str = "imglock-build-";

/// How long a container may run: at most `limit`, and not once `stop` is set.
#[derive(Debug, Clone, Copy)]
pub struct Until<'a> {
    pub limit: Duration,
    pub stop: &'a AtomicBool,
}

/// A program that runs containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerEngine {
    Buildah,
    Podman,
    Docker,
}

/// A host folder mounted into the container.
#[derive(Debug, Clone)]
pub struct Mount {
    pub host: PathBuf,
    pub container: &'static str,
    pub writable: bool,
}

/// Why a container could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot run `{program}`: {source}")]
    Start {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("`{program} from {image}` failed (is the image in {program}'s storage?): {stderr}")]
    NoContainer {
        program: &'static str,
        image: String,
        stderr: String,
    },
    #[error("it ran for more than {} s and was stopped", .0.as_secs())]
    TimedOut(Duration),
    #[error("it was stopped: resolution no longer needs it")]
    Stopped,
}

impl ContainerEngine {
    /// Every engine, in order of preference.
    pub const ALL: [Self; 3] = [Self::Buildah, Self::Podman, Self::Docker];

    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            Self::Buildah => "buildah",
            Self::Podman => "podman",
            Self::Docker => "docker",
        }
    }

    /// The first engine on `PATH`.
    pub fn find() -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|engine| on_path(engine.program()))
    }

    /// Runs `command` in a throwaway container of `image` (never pulled: the spec's base image
    /// must be in the engine's storage) with no network, `mounts` and a [`SCRATCH`] in memory,
    /// `until` it must stop.
    pub fn run(
        self,
        image: &str,
        mounts: &[Mount],
        command: &[&str],
        until: Until<'_>,
    ) -> Result<Output, EngineError> {
        if until.stop.load(Ordering::Relaxed) {
            return Err(EngineError::Stopped);
        }
        let volumes: Vec<String> = mounts
            .iter()
            .flat_map(|mount| {
                let mode = if mount.writable { "rw" } else { "ro" };
                let volume = format!("{}:{}:{mode}", mount.host.display(), mount.container);
                ["-v".to_string(), volume]
            })
            .chain([
                "--mount".to_string(),
                format!("type=tmpfs,destination={SCRATCH}"),
            ])
            .collect();
        match self {
            Self::Buildah => {
                let program = self.program();
                remove_dead_containers(program);
                let name = container_name();
                let from = run_for(
                    Command::new(program)
                        .args(["from", "--pull=never", "--quiet", "--name"])
                        .args([&name, image]),
                    program,
                    // Never stopped halfway: the container it makes must be known to be removed.
                    Until {
                        stop: &AtomicBool::new(false),
                        ..until
                    },
                )?;
                let container = String::from_utf8_lossy(&from.stdout).trim().to_string();
                if !from.status.success() || container.is_empty() {
                    return Err(EngineError::NoContainer {
                        program,
                        image: image.to_string(),
                        stderr: String::from_utf8_lossy(&from.stderr).trim().to_string(),
                    });
                }
                let output = run_for(
                    isolated_from_the_network(program)
                        .args(["run", "--network", "none"])
                        .args(&volumes)
                        .arg(&container)
                        .arg("--")
                        .args(command),
                    program,
                    until,
                );
                let _ = Command::new(program)
                    .args(["rm", &container])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                output
            }
            Self::Podman | Self::Docker => run_for(
                Command::new(self.program())
                    .args(["run", "--rm", "--pull=never", "--network", "none"])
                    .args(&volumes)
                    .arg(image)
                    .args(command),
                self.program(),
                until,
            ),
        }
    }
}

/// A new container name of this process: [`CONTAINER_PREFIX`], its id and a counter.
fn container_name() -> String {
    static MADE: AtomicUsize = AtomicUsize::new(0);
    let n = MADE.fetch_add(1, Ordering::Relaxed);
    format!("{CONTAINER_PREFIX}{}-{n}", std::process::id())
}

/// Removes the build containers of processes that no longer run (killed between making a
/// container and removing it). Failing to list or remove them only leaves them there.
fn remove_dead_containers(program: &str) {
    let Ok(listed) = Command::new(program)
        .args(["containers", "--format", "{{.ContainerName}}"])
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    let dead: Vec<&str> = std::str::from_utf8(&listed.stdout)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|name| owner(name).is_some_and(|pid| !runs(pid)))
        .collect();
    if !dead.is_empty() {
        let _ = Command::new(program)
            .arg("rm")
            .args(&dead)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The process id a build container's name carries, if it is one (see [`container_name`]).
fn owner(name: &str) -> Option<i32> {
    let (pid, n) = name.strip_prefix(CONTAINER_PREFIX)?.split_once('-')?;
    n.parse::<usize>().ok()?;
    pid.parse().ok()
}

/// Whether the process `pid` runs (a process of another user counts).
fn runs(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists; it has no preconditions.
    let sent = unsafe { libc::kill(pid, 0) } == 0;
    sent || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A command running `program` in an empty network namespace of its own when this process may
/// make one (as root, with util-linux's `unshare`): buildah's chroot isolation, which rootful
/// builds on hosts without a container runtime use, runs the container in the network of
/// buildah itself, whatever `--network` says. Otherwise `program` alone: its own isolation
/// applies, and the hook checks it.
fn isolated_from_the_network(program: &str) -> Command {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if root && on_path("unshare") {
        let mut command = Command::new("unshare");
        command.args(["--net", "--", program]);
        command
    } else {
        Command::new(program)
    }
}

/// Whether `program` is an executable file in a folder of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| is_program(&dir.join(program))))
}

/// Whether `path` is an executable file.
fn is_program(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `command` to its end with its output captured, killing it when `until` says.
fn run_for(
    command: &mut Command,
    program: &'static str,
    until: Until<'_>,
) -> Result<Output, EngineError> {
    let start = |source| EngineError::Start { program, source };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(start)?;
    // Both pipes are drained meanwhile, so a chatty build never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + until.limit;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(start)? {
            break status;
        }
        let stopped = if Instant::now() > deadline {
            Some(EngineError::TimedOut(until.limit))
        } else if until.stop.load(Ordering::Relaxed) {
            Some(EngineError::Stopped)
        } else {
            None
        };
        if let Some(error) = stopped {
            let _ = child.kill();
            let _ = child.wait();
            return Err(error);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

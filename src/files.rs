//! Writing files whole or not at all: through a temporary file in the same folder and a rename,
//! so a crash or an error never leaves half a file. A leaf module: it imports nothing of imglock.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The folder `path` is in: `.` for a bare file name.
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename: for the
/// user's files (the lock, the Dockerfile). The file keeps the permissions it had, and a new one
/// gets `0666` less the umask, as `touch` or an editor would leave it, not private like a
/// temporary file. Temporaries a killed write left for `path` are removed first.
///
/// The disk is not waited for (no `fsync`), as uv writes its lock (`uv_fs::write_atomic`): a
/// killed process leaves the old file or the new one. Waiting cost 0.7–1.8 ms of every resolve
/// here, as ext4 then also wrote out the cache entries the resolve had written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    remove_stale_temporaries(path);
    let permissions = std::fs::metadata(path).map(|m| m.permissions()).ok();
    write_through_temporary(path, &[bytes], 0o666, permissions)
}

/// Writes `bytes` to `path` through a temporary file and a rename: for cache entries, which are
/// private (`0600`) and checked when read.
pub fn write_renamed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_renamed_parts(path, &[bytes])
}

/// Like [`write_renamed`], for a file made of `parts`, written one after the other.
pub fn write_renamed_parts(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    write_through_temporary(path, parts, 0o600, None)
}

/// A new temporary file beside `path` (named by [`temporary_prefix`], private), for a writer
/// that renames it to `path` (or elsewhere in the folder) once it is whole.
pub fn temporary_for(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir)?;
    tempfile::Builder::new()
        .prefix(&temporary_prefix(path))
        .tempfile_in(&dir)
}

/// Writes `parts`, one after the other, to a temporary file beside `path` (named by [`temporary_prefix`], created with
/// `mode` less the umask, then given `permissions` when set) and renames it to `path`.
fn write_through_temporary(
    path: &Path,
    parts: &[&[u8]],
    mode: u32,
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(&temporary_prefix(path))
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(&dir)?;
    for bytes in parts {
        file.write_all(bytes)?;
    }
    if let Some(permissions) = permissions {
        file.as_file().set_permissions(permissions)?;
    }
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// The start of the name of a temporary file for `path`: `.<name>.tmp-<process id>-`, followed
/// by random characters; so a temporary a killed write leaves is recognisably imglock's, for
/// that file, and from a process that may no longer run.
fn temporary_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-{}-", std::process::id())
}

/// Removes the temporaries of `path` (see [`temporary_prefix`]) whose process no longer runs:
/// what a write killed before its rename left. Best effort: a file that cannot be removed stays.
fn remove_stale_temporaries(path: &Path) {
    if let Some(name) = path.file_name() {
        sweep(&parent_dir(path), Some(&name.to_string_lossy()));
    }
}

/// Removes every temporary in `dir` (see [`temporary_prefix`]), whatever file it was for, whose
/// process no longer runs: for a folder only imglock writes (the cache), where a killed run's
/// temporaries (a download streaming in among them) must not pile up. Best effort.
pub fn remove_dead_temporaries(dir: &Path) {
    sweep(dir, None);
}

/// Removes the temporaries in `dir` of the file `name` (of any file when `None`) whose process
/// no longer runs.
fn sweep(dir: &Path, name: Option<&str>) {
    for path in dead_temporaries_of(dir, name) {
        let _ = std::fs::remove_file(path);
    }
}

/// The temporaries in `dir`, of any file, whose process no longer runs (see
/// [`remove_dead_temporaries`]).
pub fn dead_temporaries(dir: &Path) -> Vec<PathBuf> {
    dead_temporaries_of(dir, None)
}

/// The temporaries in `dir` of the file `name` (of any file when `None`) whose process no
/// longer runs.
fn dead_temporaries_of(dir: &Path, name: Option<&str>) -> Vec<PathBuf> {
    let mut dead = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return dead;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some((file, pid)) = file_name.to_str().and_then(temporary_of) else {
            continue;
        };
        if name.is_none_or(|name| name == file)
            && !process_runs(pid)
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            dead.push(entry.path());
        }
    }
    dead
}

/// The file and the process id a temporary's name (`.<name>.tmp-<pid>-<random>`) gives.
fn temporary_of(file_name: &str) -> Option<(&str, u32)> {
    let (file, rest) = file_name.strip_prefix('.')?.rsplit_once(".tmp-")?;
    let (pid, _) = rest.split_once('-')?;
    Some((file, pid.parse().ok()?))
}

/// Whether process `pid` runs, as `/proc` tells; where there is no `/proc`, every process is
/// taken to run, so nothing is removed that another write may still need.
fn process_runs(pid: u32) -> bool {
    !Path::new("/proc/self").exists() || Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn temporaries_left_by_a_killed_write_are_removed_by_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglock.lock");
        // No process has this id (Linux's pid_max is at most 2^22).
        let stale = dir.path().join(".imglock.lock.tmp-999999999-abc123");
        let live = dir
            .path()
            .join(format!(".imglock.lock.tmp-{}-abc123", std::process::id()));
        let other = dir.path().join(".Dockerfile.tmp-999999999-abc123");
        for file in [&stale, &live, &other] {
            std::fs::write(file, "half a lock").unwrap();
        }
        write_atomic(&path, b"whole").unwrap();
        assert!(!stale.exists(), "a dead writer's temporary is removed");
        assert!(live.exists(), "a running writer's temporary is kept");
        assert!(
            other.exists(),
            "another file's temporary is its own write's"
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn a_sweep_removes_every_dead_temporary_of_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            ".abc.body.tmp-999999999-x1",
            ".download.tmp-999999999-x2",
            &format!(".download.tmp-{}-x3", std::process::id()),
            "abc.body",
            ".tmp-notours",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        remove_dead_temporaries(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [names[2], names[4], names[3]]);
    }

    #[test]
    fn temporaries_are_named_after_the_file_and_the_process() {
        let name = temporary_prefix(Path::new("/x/imglock.lock"));
        assert_eq!(name, format!(".imglock.lock.tmp-{}-", std::process::id()));
    }

    #[test]
    fn a_new_file_follows_the_umask_and_an_old_one_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglock.lock");
        write_atomic(&path, b"one").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // What `File::create` gives under this process's umask.
        let created = dir.path().join("created");
        std::fs::File::create(&created).unwrap();
        assert_eq!(mode(&path), mode(&created));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }
}

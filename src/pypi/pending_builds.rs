//! Metadata builds running in the background: each started, in a thread of its own, as soon as
//! resolution finds an sdist without static metadata among the versions it will likely choose,
//! so the builds of one resolve overlap each other and the fetching; at most as many containers
//! run at once as the machine has cores. A build is waited for only when resolution needs that
//! version's metadata; those never needed are stopped when the resolve ends (their containers
//! killed), so none outlives it and none makes it wait.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::build::{BuildBackend, BuildError, MetadataBuilder, SdistBuild};
use super::index_error::IndexError;
use super::metadata::CoreMetadata;
use super::sdist::source::{LookedAt, SdistSource};
use super::simple::DistFile;
use crate::progress::Progress;

/// The metadata build of one sdist, prepared on the resolving thread (its sdist downloaded, its
/// build environment solved and downloaded): what the container needs, owned, so the build can
/// run on another thread.
pub(super) struct PreparedBuild {
    pub name: PackageName,
    pub version: Version,
    /// Why its sdist holds no static metadata.
    pub looked_at: LookedAt,
    pub sdist: DistFile,
    pub path: PathBuf,
    /// The digest of the sdist's own bytes (an index need not give one): the cache key.
    pub sha256: String,
    pub backend: BuildBackend,
    /// Its build requirements, kept in its metadata.
    pub requires: Vec<String>,
    /// The wheels of its build environment.
    pub wheels: Vec<PathBuf>,
}

impl PreparedBuild {
    /// Runs the build with `builder` (on any thread): the METADATA text it gave.
    pub fn run(&self, builder: &MetadataBuilder) -> Result<String, BuildError> {
        let build = SdistBuild {
            filename: &self.sdist.filename,
            path: &self.path,
            sha256: &self.sha256,
            backend: &self.backend,
            wheels: &self.wheels,
        };
        builder.metadata(&self.name, &build)
    }

    /// The metadata of the sdist from what its build gave, once checked to describe it.
    pub fn finish(self, built: Result<String, BuildError>) -> Result<Rc<CoreMetadata>, IndexError> {
        let (name, version) = (self.name.to_string(), self.version.to_string());
        let text = built.map_err(|source| IndexError::MetadataBuild {
            name: name.clone(),
            version: version.clone(),
            looked_at: self.looked_at,
            source: Arc::new(source),
        })?;
        let metadata = CoreMetadata {
            sdist_source: Some(SdistSource::Build),
            build_requires: self.requires,
            ..CoreMetadata::parse(&text)
        };
        metadata
            .describing(&self.name, &self.version)
            .map(Rc::new)
            .map_err(|error| IndexError::WrongMetadata {
                name,
                version,
                source_url: self.sdist.url.to_string(),
                source: error,
            })
    }
}

/// What a build thread gives back: the build, and the METADATA it gave or why not.
type Finished = (PreparedBuild, Result<String, BuildError>);

/// The builds started and not yet taken, by project and version.
pub(super) struct PendingBuilds {
    running: RefCell<HashMap<(PackageName, Version), JoinHandle<Finished>>>,
    slots: Arc<Slots>,
    /// Set when the builds are no longer needed.
    stop: Arc<AtomicBool>,
}

impl PendingBuilds {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            running: RefCell::new(HashMap::new()),
            slots: Arc::new(Slots {
                free: Mutex::new(cores),
                freed: Condvar::new(),
            }),
            stop: Arc::default(),
        }
    }

    /// Whether the build of `key` was started and not yet taken.
    pub fn contains(&self, key: &(PackageName, Version)) -> bool {
        self.running.borrow().contains_key(key)
    }

    /// Starts `build` with `builder` in a thread of its own, once a slot is free.
    pub fn start(&self, build: PreparedBuild, builder: &MetadataBuilder) {
        let key = (build.name.clone(), build.version.clone());
        let builder = builder.clone().stopped_by(Arc::clone(&self.stop));
        let slots = Arc::clone(&self.slots);
        let handle = std::thread::spawn(move || {
            let _slot = slots.take();
            let built = build.run(&builder);
            (build, built)
        });
        self.running.borrow_mut().insert(key, handle);
    }

    /// The build of `key` once finished, if it was started: waited for when `wait` (counting the
    /// builds that run meanwhile on a progress bar), else only when it is done already.
    pub fn take(&self, key: &(PackageName, Version), wait: Option<Progress>) -> Option<Finished> {
        let finished = |running: &HashMap<_, JoinHandle<Finished>>| {
            running.get(key).is_none_or(JoinHandle::is_finished)
        };
        if let Some(progress) = wait.filter(|_| !finished(&self.running.borrow())) {
            let total = self.running.borrow().len();
            let bar = progress.bar(
                total as u64,
                &format!(
                    "Building the metadata of {total} sdist{}",
                    if total == 1 { "" } else { "s" }
                ),
            );
            while !finished(&self.running.borrow()) {
                let done = self
                    .running
                    .borrow()
                    .values()
                    .filter(|h| h.is_finished())
                    .count();
                bar.set_position(done as u64);
                std::thread::sleep(Duration::from_millis(20));
            }
            bar.finish_and_clear();
        }
        if !finished(&self.running.borrow()) {
            return None;
        }
        let handle = self.running.borrow_mut().remove(key)?;
        Some(joined(handle))
    }
}

impl Drop for PendingBuilds {
    /// Stops the builds never taken and waits for their containers to be gone.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for (_, handle) in self.running.get_mut().drain() {
            let _ = handle.join();
        }
    }
}

/// What the thread of `handle` gave; its panic, passed on.
fn joined(handle: JoinHandle<Finished>) -> Finished {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// How many more containers may run at once.
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

/// A slot taken, given back when dropped.
struct Slot<'a>(&'a Slots);

impl Slots {
    /// A free slot, waited for.
    fn take(&self) -> Slot<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

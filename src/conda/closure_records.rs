//! The records of a request's closure, read by rattler on every core: each package's records
//! in a subdir are read on their own ([`Packages::load`]) as soon as a record read before
//! names the package, so the cores never wait for a level of the walk to end.
//! Then the packages are walked from the requested names, as rattler's own
//! `SparseRepoData::load_records_recursive` walks them (breadth first, each name once, every
//! subdir in order for each), so the same records come out in the same order. Only the
//! packages reached through the records rattler takes (a `.conda` rather than the `.tar.bz2`
//! of the same build) are read at all.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex};

use rattler_conda_types::{PackageName, RepoDataRecord};

use super::error::CondaError;

/// The most threads that read packages: a closure has a few hundred packages at most, and
/// more threads would mostly wait for each other's turn at the queue.
const MOST_THREADS: usize = 8;

/// A subdir's repodata as the walk reads it, a package at a time.
pub(super) trait Packages: Sync {
    /// How many bytes the records of the package `name` take here: 0 when it has none.
    fn bytes_of(&self, name: &str) -> usize;
    /// The records of the package `name` here, as rattler reads them (`.conda` preferred
    /// over `.tar.bz2` for the same build).
    fn load(&self, name: &PackageName) -> Result<Vec<RepoDataRecord>, CondaError>;
}

/// One package's records in one subdir, and the packages they depend on: each once, in the
/// order the records first name them.
#[derive(Default)]
struct Package {
    records: Vec<RepoDataRecord>,
    depends_on: Vec<PackageName>,
}

impl Package {
    fn read(subdir: &impl Packages, name: &PackageName) -> Result<Self, CondaError> {
        let records = subdir.load(name)?;
        let mut depends_on: Vec<PackageName> = Vec::new();
        // Many builds of a package name the same dependency the same way: each is read once.
        let mut followed: HashSet<&str> = HashSet::new();
        for record in &records {
            let package = &record.package_record;
            let extra = package.extra_depends.values().flatten();
            for dependency in package.depends.iter().chain(extra) {
                if followed.insert(dependency) {
                    let dependency = PackageName::from_matchspec_str_unchecked(dependency);
                    if !depends_on.contains(&dependency) {
                        depends_on.push(dependency);
                    }
                }
            }
        }
        Ok(Self {
            records,
            depends_on,
        })
    }
}

/// The records of `names` and of everything their records depend on, in each of `subdirs`
/// (one list per subdir, in order).
pub(super) fn load<P: Packages>(
    subdirs: &[P],
    names: &[PackageName],
) -> Result<Vec<Vec<RepoDataRecord>>, CondaError> {
    let mut parsed = read_reachable(subdirs, names);
    let mut loaded: Vec<Vec<RepoDataRecord>> = subdirs.iter().map(|_| Vec::new()).collect();
    let mut seen: HashSet<PackageName> = HashSet::new();
    let mut pending: VecDeque<PackageName> = names
        .iter()
        .filter(|name| seen.insert((*name).clone()))
        .cloned()
        .collect();
    while let Some(name) = pending.pop_front() {
        for (subdir, loaded) in loaded.iter_mut().enumerate() {
            let package = match parsed.remove(&(subdir, name.clone())) {
                Some(package) => package?,
                // The subdir has no records of it.
                None => Package::default(),
            };
            for dependency in package.depends_on {
                if !seen.contains(&dependency) {
                    seen.insert(dependency.clone());
                    pending.push_back(dependency);
                }
            }
            loaded.extend(package.records);
        }
    }
    Ok(loaded)
}

/// A package to read: its subdir's position, and its name.
type Task = (usize, PackageName);

/// The reading shared by the threads: the packages still to read, every name met so far, how
/// many packages are being read, and those read.
#[derive(Default)]
struct Reading {
    queue: VecDeque<Task>,
    met: HashSet<PackageName>,
    busy: usize,
    read: HashMap<Task, Result<Package, CondaError>>,
}

impl Reading {
    /// Queues the package `name` in each subdir that has records of it, the first time it is
    /// met.
    fn meet(&mut self, subdirs: &[impl Packages], name: &PackageName) {
        if !self.met.insert(name.clone()) {
            return;
        }
        for (subdir, packages) in subdirs.iter().enumerate() {
            if packages.bytes_of(name.as_normalized()) > 0 {
                self.queue.push_back((subdir, name.clone()));
            }
        }
    }
}

/// Every package in `subdirs` that `names` reach through the records read, read on every core:
/// each thread takes the next package queued, and queues the packages its records name.
fn read_reachable<P: Packages>(
    subdirs: &[P],
    names: &[PackageName],
) -> HashMap<Task, Result<Package, CondaError>> {
    let mut reading = Reading::default();
    // The requested packages that take most reading first, so that no thread ends long after
    // the other on one of them.
    let mut by_weight: Vec<(usize, &PackageName)> = names
        .iter()
        .map(|name| {
            let bytes = subdirs.iter().map(|s| s.bytes_of(name.as_normalized()));
            (bytes.sum(), name)
        })
        .collect();
    by_weight.sort_by_key(|(bytes, _)| std::cmp::Reverse(*bytes));
    for (_, name) in by_weight {
        reading.meet(subdirs, name);
    }
    let reading = Mutex::new(reading);
    let changed = Condvar::new();
    let worker = || {
        while let Some((subdir, name)) = next_task(&reading, &changed) {
            let package = Package::read(&subdirs[subdir], &name);
            let mut reading = reading.lock().unwrap_or_else(|e| e.into_inner());
            if let Ok(package) = &package {
                for dependency in &package.depends_on {
                    reading.meet(subdirs, dependency);
                }
            }
            reading.read.insert((subdir, name), package);
            reading.busy -= 1;
            changed.notify_all();
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..cores.min(MOST_THREADS))
            .map(|_| crate::threads::spawn_beside(scope, worker))
            .collect();
        worker();
        crate::threads::join_all(helpers);
    });
    reading.into_inner().unwrap_or_else(|e| e.into_inner()).read
}

/// The next package to read, once there is one; `None` once every package is read and none is
/// being read (none can be queued any more).
fn next_task(reading: &Mutex<Reading>, changed: &Condvar) -> Option<Task> {
    let mut reading = reading.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(task) = reading.queue.pop_front() {
            reading.busy += 1;
            return Some(task);
        }
        if reading.busy == 0 {
            return None;
        }
        reading = changed.wait(reading).unwrap_or_else(|e| e.into_inner());
    }
}

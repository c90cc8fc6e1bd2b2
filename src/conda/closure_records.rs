//! The records of a request's closure, read by rattler on every core: each package's records in
//! each subdir are parsed at once (the packages with the most to read first), with the names
//! their `depends` and `extra_depends` give; then walked from the requested names through those
//! names, as rattler's own `SparseRepoData::load_records_recursive` walks them on one thread, so
//! the same records come out. A package the closure reaches only through a record this walk
//! does not take (a `.tar.bz2` whose `.conda` is preferred) is parsed, and left out; an error
//! in it too.

use std::collections::{HashMap, HashSet, VecDeque};

use rattler_conda_types::{PackageName, RepoDataRecord};
use rattler_repodata_gateway::sparse::{PackageFormatSelection, SparseRepoData};

use super::record_index::Closure;

/// Which of a build's files is read: `.conda` where there is one, as conda does.
const FORMATS: PackageFormatSelection = PackageFormatSelection::PreferConda;

/// One package's records in one subdir, and the packages they depend on: each once, in the
/// order the records first name them (read with the records, on every core).
struct Package {
    records: Vec<RepoDataRecord>,
    depends_on: Vec<PackageName>,
}

impl Package {
    fn read(subdir: &SparseRepoData, name: &PackageName) -> std::io::Result<Self> {
        let records = subdir.load_records(name, FORMATS)?;
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

/// The records of `names` and of everything their records depend on, in each of `subdirs` (one
/// list per subdir, in order), where `closure` holds every package the walk can reach.
pub(super) fn load(
    subdirs: &[&SparseRepoData],
    closure: &Closure,
    names: &[PackageName],
) -> std::io::Result<Vec<Vec<RepoDataRecord>>> {
    let tasks: Vec<(usize, &str)> = closure
        .heaviest_first()
        .into_iter()
        .flat_map(|name| (0..subdirs.len()).map(move |subdir| (subdir, name)))
        .collect();
    let parsed = crate::threads::map_on_every_core(&tasks, |&(subdir, name)| {
        Package::read(subdirs[subdir], &PackageName::new_unchecked(name))
    });
    // Per subdir, each package's records (or why they did not read).
    let mut parsed_in: Vec<HashMap<&str, std::io::Result<Package>>> =
        subdirs.iter().map(|_| HashMap::new()).collect();
    for ((subdir, name), package) in tasks.into_iter().zip(parsed) {
        parsed_in[subdir].insert(name, package);
    }

    let mut loaded: Vec<Vec<RepoDataRecord>> = vec![Vec::new(); subdirs.len()];
    let mut seen: HashSet<PackageName> = HashSet::new();
    let mut pending: VecDeque<PackageName> = names
        .iter()
        .filter(|name| seen.insert((*name).clone()))
        .cloned()
        .collect();
    while let Some(name) = pending.pop_front() {
        for ((subdir, parsed), loaded) in subdirs.iter().zip(&mut parsed_in).zip(&mut loaded) {
            let package = match parsed.remove(name.as_normalized()) {
                Some(package) => package?,
                // Not in the closure: the subdir has no records of it.
                None => Package::read(subdir, &name)?,
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

//! One layer's conda solve: the channels' records, the image's virtual packages, the lower layers'
//! records pinned and the previous lock's preferred, solved by resolvo with the spec's channel
//! priority (strict unless `conda-channel-priority` says otherwise), and the solver's explanation
//! reworded where it talks about internals.

use std::str::FromStr;

use rattler_conda_types::{
    GenericVirtualPackage, MatchSpec, PackageName, ParseStrictness, RepoDataRecord, Version,
};
use rattler_solve::{
    ChannelPriority, ExcludeNewer, SolveError, SolverImpl, SolverTask, TimestampPolicy,
};

use rattler_conda_types::package::BuildString;

use super::channel::ChannelRecords;
use super::error::CondaError;

/// What the image provides the solver: its subdir, virtual packages and the date limit.
#[derive(Debug, Clone)]
pub struct Environment {
    pub subdir: &'static str,
    pub virtual_packages: Vec<GenericVirtualPackage>,
    pub exclude_newer: Option<ExcludeNewer>,
    /// `--exclude-newer`, for the lock.
    pub limit: Option<crate::exclude_newer::ExcludeNewer>,
    /// How the channels' order counts.
    pub priority: super::spec::ChannelPriority,
}

/// The kernel version `__linux` stands for: the image runs on hosts unknown when it is built, so
/// a floor that every supported distribution's kernel meets (pixi uses the same).
const LINUX_KERNEL: &str = "4.18";

impl Environment {
    pub fn new(
        subdir: &'static str,
        glibc: &str,
        cuda: Option<&str>,
        exclude_newer: Option<crate::exclude_newer::ExcludeNewer>,
        priority: super::spec::ChannelPriority,
    ) -> Result<Self, CondaError> {
        let archspec = match subdir {
            "linux-64" => "x86_64",
            "linux-aarch64" => "aarch64",
            "linux-ppc64le" => "ppc64le",
            _ => "s390x",
        };
        let mut virtual_packages = vec![
            virtual_package("__unix", "0", "0")?,
            virtual_package("__linux", LINUX_KERNEL, "0")?,
            virtual_package("__glibc", glibc, "0")?,
            virtual_package("__archspec", "1", archspec)?,
        ];
        if let Some(cuda) = cuda {
            virtual_packages.push(virtual_package("__cuda", cuda, "0")?);
        }
        let cutoff = exclude_newer.map(|limit| {
            ExcludeNewer::from_datetime(limit.timestamp())
                .with_timestamp_policy(TimestampPolicy::AllowMissing)
        });
        Ok(Self {
            subdir,
            virtual_packages,
            exclude_newer: cutoff,
            limit: exclude_newer,
            priority,
        })
    }

    /// The virtual packages as `name=version=build`, for the lock.
    pub fn describe(&self) -> Vec<String> {
        self.virtual_packages
            .iter()
            .map(|p| {
                format!(
                    "{}={}={}",
                    p.name.as_normalized(),
                    p.version,
                    p.build_string.as_str()
                )
            })
            .collect()
    }
}

fn virtual_package(
    name: &str,
    version: &str,
    build: &str,
) -> Result<GenericVirtualPackage, CondaError> {
    Ok(GenericVirtualPackage {
        name: PackageName::new_unchecked(name),
        version: Version::from_str(version).map_err(|source| CondaError::VirtualPackage {
            name: name.to_string(),
            version: version.to_string(),
            source,
        })?,
        build_string: BuildString::new_unchecked(build),
    })
}

/// Solves `specs` (text and parsed) with the records of `below` installed and unchangeable.
/// Returns every record of the environment, lower layers' included.
pub fn solve(
    channels: &[ChannelRecords],
    environment: &Environment,
    specs: &[(String, MatchSpec)],
    below: &[&RepoDataRecord],
    preferred: &[&RepoDataRecord],
) -> Result<Vec<RepoDataRecord>, CondaError> {
    let mut all_specs: Vec<MatchSpec> = specs.iter().map(|(_, spec)| spec.clone()).collect();
    // The lower layers' packages are in the environment whether this layer needs them or not:
    // their `constrains` and dependencies must hold too.
    for record in below {
        let exact = format!(
            "{} =={} {}",
            record.package_record.name.as_normalized(),
            record.package_record.version.as_str(),
            record.package_record.build.as_str()
        );
        all_specs.push(
            MatchSpec::from_str(&exact, ParseStrictness::Lenient).map_err(|source| {
                CondaError::LockedRecord {
                    record: exact.clone(),
                    source,
                }
            })?,
        );
    }
    let task = SolverTask {
        locked_packages: preferred.to_vec(),
        pinned_packages: below.to_vec(),
        virtual_packages: environment.virtual_packages.clone(),
        specs: all_specs,
        channel_priority: match environment.priority {
            super::spec::ChannelPriority::Strict => ChannelPriority::Strict,
            super::spec::ChannelPriority::Flexible => ChannelPriority::Flexible,
            super::spec::ChannelPriority::Disabled => ChannelPriority::Disabled,
        },
        exclude_newer: environment.exclude_newer.clone(),
        ..SolverTask::from_iter(channels.iter().map(|channel| channel.records.iter()))
    };
    match rattler_solve::resolvo::Solver.solve(task) {
        Ok(result) => {
            let mut records = result.records;
            records.sort_by(|a, b| a.package_record.name.cmp(&b.package_record.name));
            Ok(records)
        }
        Err(SolveError::Unsolvable(reasons)) => Err(CondaError::Unsolvable {
            layer: String::new(),
            reasons,
            locked_below: Vec::new(),
        }),
        Err(other) => Err(CondaError::Solver(other)),
    }
}

//! Every integration test, in one crate so the suite links once: end-to-end runs of the `imglock`
//! binary against loopback repositories, real image builds, and comparisons with each
//! ecosystem's oracle.

mod support;

mod apt;
mod apt_build;
mod apt_mirror;
mod apt_oracle;
mod apt_resolve;
mod apt_solve;
mod architecture;
mod base_image;
mod base_spec;
mod binary_cache;
mod conda;
mod conda_install;
mod conda_oracle;
mod corpus;
mod custom_steps;
mod diff;
mod emit;
mod families;
mod families_pins;
mod faults;
mod fetch;
mod files;
mod fixtures_are_real;
mod github_r;
mod golden;
mod image_build;
mod injection;
mod kill;
mod maven;
mod maven_oracle;
mod maven_walk;
mod memory;
mod mixed;
mod pypi;
mod pypi_build;
mod pypi_direct;
mod pypi_environment;
mod pypi_metadata_build;
mod pypi_sdist;
mod r_binaries;
mod r_cache_key;
mod r_parallel;
mod real_images;
mod reproducible;
mod republished;
mod resolve_r;
mod sources;
mod spec_errors;
mod terminal;
mod verify;
mod warm;
mod whole_image;

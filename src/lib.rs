//! imglock: one lock for the packages of every layer of a data-science image, and install steps
//! a Docker build cannot drift from.
//!
//! The modules follow the pipeline: `spec` → `fetch` → one folder per ecosystem (`cran` with
//! Bioconductor, `pypi`, `conda`, `maven`, `url_files` for a layer's files from URLs; `apt` holds
//! Debian's metadata, not yet an ecosystem) → `resolve` → `lock` → `check`, `emit`, `diff`,
//! `verify`. Each folder implements `support::EcosystemSupport` (its resolver, lock settings,
//! install steps, image inventory and version order) and `registry` lists the folders: the stages
//! loop over that list and name no ecosystem. Below them all, `package` says what a locked
//! package is (the closed `Ecosystem` set and each one's details); `files`, `platform`,
//! `exclude_newer`, `dockerfile_values`, `purl`, `toml_nesting` and `annotations` (GitHub's
//! workflow commands) are leaves that import nothing of the
//! crate.
#![deny(missing_docs)]
// The docs are for developers, read with `cargo doc --document-private-items`: links to the
// crate's own private items are meant.
#![allow(rustdoc::private_intra_doc_links)]

pub(crate) mod annotations;
pub mod apt;
pub mod base;
pub(crate) mod built_binaries;
pub(crate) mod causes;
pub(crate) mod check;
pub mod cli;
pub(crate) mod conda;
pub mod cran;
pub(crate) mod custom_steps;
pub(crate) mod diff;
pub(crate) mod dockerfile_values;
pub(crate) mod ecosystem;
pub mod emit;
pub(crate) mod error;
pub(crate) mod exclude_newer;
pub mod export;
pub(crate) mod failed_downloads;
pub(crate) mod family;
pub mod fetch;
pub(crate) mod files;
pub(crate) mod image;
pub(crate) mod import;
pub(crate) mod index_digest;
pub mod lock;
pub mod maven;
pub(crate) mod package;
pub mod platform;
pub mod progress;
pub(crate) mod purl;
pub(crate) mod pypi;
pub(crate) mod registry;
pub mod repository;
pub mod resolve;
pub(crate) mod spec;
pub(crate) mod suggest;
pub(crate) mod support;
pub(crate) mod threads;
pub(crate) mod toml_nesting;
pub mod tree;
pub(crate) mod url_files;
pub mod verify;

/// Where a test's tool or data is, shared with the integration tests: under `CI=true` a missing
/// one fails.
#[cfg(test)]
#[path = "../tests/it/support/corpora.rs"]
pub(crate) mod corpora;
#[cfg(test)]
pub(crate) mod fuzz;

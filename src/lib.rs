//! imglock: one lock for the packages of every layer of a data-science image, and install steps
//! a Docker build cannot drift from.
//!
//! The modules follow the pipeline: [`spec`] → [`fetch`] → one module per ecosystem ([`cran`],
//! with Bioconductor) behind [`ecosystem::LayerResolver`] → [`resolve`] → [`lock`] → [`check`], [`emit`], [`diff`], [`verify`].
#![deny(missing_docs)]

pub(crate) mod causes;
pub(crate) mod check;
pub mod cli;
pub(crate) mod conda;
pub mod cran;
pub(crate) mod diff;
pub(crate) mod dockerfile_values;
pub(crate) mod ecosystem;
pub mod emit;
pub(crate) mod error;
pub(crate) mod exclude_newer;
pub mod fetch;
pub(crate) mod files;
pub mod lock;
pub mod maven;
pub(crate) mod package;
pub(crate) mod platform;
pub mod progress;
pub(crate) mod pypi;
pub(crate) mod registry;
pub mod repository;
pub mod resolve;
pub(crate) mod spec;
pub(crate) mod support;
pub mod verify;

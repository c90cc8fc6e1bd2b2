//! imglock: one lock for the packages of every layer of a data-science image, and install steps
//! a Docker build cannot drift from.
//!
//! The modules follow the pipeline: [`spec`] → [`fetch`] → one module per ecosystem ([`cran`],
//! with Bioconductor) behind [`ecosystem::LayerResolver`] → [`resolve`] → [`lock`] → [`check`], [`emit`], [`diff`], [`verify`].

pub mod causes;
pub mod check;
pub mod cli;
pub mod conda;
pub mod cran;
pub mod diff;
pub mod dockerfile_values;
pub mod ecosystem;
pub mod emit;
pub mod error;
pub mod exclude_newer;
pub mod fetch;
pub mod files;
pub mod lock;
pub mod maven;
pub mod package;
pub mod platform;
pub mod progress;
pub mod pypi;
pub mod registry;
pub mod repository;
pub mod resolve;
pub mod spec;
pub mod support;
pub mod verify;

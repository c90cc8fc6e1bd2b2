//! Debian packages, the apt ecosystem: Debian versions and their order ([`version`]), relation
//! fields ([`relation`]), the deb822 format ([`deb822`]), Packages indexes ([`packages`]), sources
//! lines and `.sources` files ([`sources`]), Release files ([`release`]) and their OpenPGP
//! signatures ([`signature`]), and fetching every source's verified metadata into one [`AptIndex`]
//! ([`fetch`], [`index`]).
//!
//! Resolution of a layer's requests over the index is [`solve`]; the pipeline's resolver is
//! `resolver`, the lock's fields [`details`], the spec's keys [`spec`], the install step of a
//! layer's .debs `emit`, a built image's check `inventory`, and [`support`] registers them.

pub mod deb822;
pub mod details;
mod emit;
mod error;
pub mod fetch;
pub mod index;
mod installed;
mod inventory;
pub mod packages;
mod path_filter;
pub mod relation;
pub mod release;
mod resolver;
pub mod signature;
pub mod solve;
pub mod sources;
pub mod spec;
pub mod support;
pub mod version;

pub use error::{AptError, FieldError};
pub use fetch::{fetch_index, fetch_signed_index};
pub use index::AptIndex;
pub use signature::Keyring;
pub use sources::AptSource;
pub use version::Version;

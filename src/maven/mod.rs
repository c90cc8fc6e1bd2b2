//! Maven artifacts (work in progress: the model and the resolver, not yet behind the spec's
//! `maven` keys, which stay refused): POMs read with `quick-xml`, effective models built as Maven
//! 3's model builder does, versions ordered as `ComparableVersion` orders them, and the
//! dependency tree resolved level by level as Maven 3 mediates it.

pub mod coordinate;
pub mod model;
pub mod pom;
pub mod resolve;
pub mod store;
pub mod version;
mod xml;

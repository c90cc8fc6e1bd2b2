//! Wheel compatibility: which wheels a CPython interpreter on a Linux platform can install, and
//! in which order of preference (the order of `packaging.tags.sys_tags()`).

use std::collections::HashMap;

/// The interpreter and platform of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// CPython `major.minor`.
    pub python: (u64, u64),
    /// The image's glibc as a manylinux level, `(2, 17)` for `manylinux_2_17`.
    pub manylinux: (u64, u64),
    /// `x86_64`, `aarch64`, ...
    pub arch: String,
    /// Every supported (python, abi, platform) tag, best first.
    order: HashMap<(String, String, String), usize>,
}

impl Target {
    /// The target for CPython `python` on `arch` Linux with glibc `manylinux`.
    pub fn new(python: (u64, u64), manylinux: (u64, u64), arch: &str) -> Self {
        let mut target = Self {
            python,
            manylinux,
            arch: arch.to_string(),
            order: HashMap::new(),
        };
        for (index, tag) in target.tags().into_iter().enumerate() {
            target.order.entry(tag).or_insert(index);
        }
        target
    }

    /// The linux platform tags, best first: newest manylinux level first, legacy aliases beside
    /// their level.
    fn platforms(&self) -> Vec<String> {
        let arch = &self.arch;
        let mut platforms = Vec::new();
        let (major, max_minor) = self.manylinux;
        for minor in (0..=max_minor).rev() {
            if major == 2 && minor < 5 {
                break;
            }
            platforms.push(format!("manylinux_{major}_{minor}_{arch}"));
            let legacy = match (major, minor) {
                (2, 17) => Some("manylinux2014"),
                (2, 12) => Some("manylinux2010"),
                (2, 5) => Some("manylinux1"),
                _ => None,
            };
            if let Some(legacy) = legacy {
                platforms.push(format!("{legacy}_{arch}"));
            }
        }
        platforms.push(format!("linux_{arch}"));
        platforms
    }

    fn tags(&self) -> Vec<(String, String, String)> {
        let (major, minor) = self.python;
        let cp = format!("cp{major}{minor}");
        let platforms = self.platforms();
        let mut tags = Vec::new();
        let mut add = |python: &str, abi: &str, platforms: &[String]| {
            for platform in platforms {
                tags.push((python.to_string(), abi.to_string(), platform.clone()));
            }
        };
        add(&cp, &cp, &platforms);
        add(&cp, "abi3", &platforms);
        add(&cp, "none", &platforms);
        for older in (2..minor).rev() {
            add(&format!("cp{major}{older}"), "abi3", &platforms);
        }
        add(&format!("py{major}{minor}"), "none", &platforms);
        add(&format!("py{major}"), "none", &platforms);
        for older in (0..minor).rev() {
            add(&format!("py{major}{older}"), "none", &platforms);
        }
        let any = ["any".to_string()];
        add(&cp, "none", &any);
        add(&format!("py{major}{minor}"), "none", &any);
        add(&format!("py{major}"), "none", &any);
        for older in (0..minor).rev() {
            add(&format!("py{major}{older}"), "none", &any);
        }
        tags
    }

    /// The preference of a wheel by its file name (lower is better), or `None` if the target
    /// cannot install it.
    pub fn wheel_priority(&self, filename: &str) -> Option<usize> {
        let stem = filename.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() < 5 {
            return None;
        }
        let (python, abi, platform) = (
            parts[parts.len() - 3],
            parts[parts.len() - 2],
            parts[parts.len() - 1],
        );
        let mut best: Option<usize> = None;
        for python in python.split('.') {
            for abi in abi.split('.') {
                for platform in platform.split('.') {
                    let key = (python.to_string(), abi.to_string(), platform.to_string());
                    if let Some(&rank) = self.order.get(&key) {
                        best = Some(best.map_or(rank, |b| b.min(rank)));
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_specific_wheels_and_rejects_foreign_ones() {
        let target = Target::new((3, 8), (2, 17), "x86_64");
        let specific = target
            .wheel_priority("numpy-1.18.5-cp38-cp38-manylinux1_x86_64.whl")
            .unwrap();
        let newer_glibc = target
            .wheel_priority("pyarrow-4.0.0-cp38-cp38-manylinux2014_x86_64.whl")
            .unwrap();
        let pure = target
            .wheel_priority("six-1.16.0-py2.py3-none-any.whl")
            .unwrap();
        assert!(
            newer_glibc < specific,
            "manylinux2014 beats manylinux1 on a 2.17 image"
        );
        assert!(specific < pure);
        assert!(
            target
                .wheel_priority("x-1.0-cp38-abi3-manylinux_2_17_x86_64.whl")
                .is_some()
        );
        assert!(
            target
                .wheel_priority("x-1.0-cp36-abi3-manylinux_2_17_x86_64.whl")
                .is_some()
        );
        assert_eq!(
            target.wheel_priority("x-1.0-cp39-cp39-manylinux_2_17_x86_64.whl"),
            None
        );
        assert_eq!(
            target.wheel_priority("x-1.0-cp38-cp38-manylinux_2_28_x86_64.whl"),
            None,
            "needs a newer glibc"
        );
        assert_eq!(
            target.wheel_priority("x-1.0-cp38-cp38-macosx_10_9_x86_64.whl"),
            None
        );
        assert_eq!(
            target.wheel_priority("x-1.0-cp38-cp38-manylinux2014_aarch64.whl"),
            None
        );
        assert_eq!(target.wheel_priority("x-1.0-py2-none-any.whl"), None);
    }
}

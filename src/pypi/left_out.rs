//! Why a project page offered no usable version: what it listed, counted by the reason each
//! file was left out, turned into a sentence for the user.

/// The files of a project page that gave no usable version, counted by reason.
#[derive(Debug, Default)]
pub struct LeftOut {
    /// The page's URL.
    pub page: String,
    /// Names of listed files that are neither a wheel nor an sdist of the project.
    pub unusable: Vec<String>,
    /// Files uploaded after `--exclude-newer`.
    pub too_new: usize,
    /// Files whose `Requires-Python` excludes the image's Python.
    pub other_python: usize,
    /// Versions whose files are all wheels for other platforms or interpreters.
    pub incompatible: usize,
}

impl LeftOut {
    /// Why a project page offered no version at all, for the user.
    pub fn explain(&self, project: &str) -> String {
        let mut reasons = Vec::new();
        if !self.unusable.is_empty() {
            let shown: Vec<String> = self
                .unusable
                .iter()
                .take(3)
                .map(|name| format!("`{name}`"))
                .collect();
            reasons.push(format!(
                "{} file(s) whose names are not wheels or sdists of {project} (such as {})",
                self.unusable.len(),
                shown.join(", ")
            ));
        }
        if self.too_new > 0 {
            reasons.push(format!(
                "{} file(s) uploaded after --exclude-newer",
                self.too_new
            ));
        }
        if self.other_python > 0 {
            reasons.push(format!(
                "{} file(s) whose Requires-Python excludes the image's Python",
                self.other_python
            ));
        }
        if self.incompatible > 0 {
            reasons.push(format!(
                "{} version(s) with only wheels for other platforms or interpreters",
                self.incompatible
            ));
        }
        if reasons.is_empty() {
            return format!(
                "the index page `{}` lists no files of {project}: it is not a PEP 503/691 project page (is the index URL in the spec right?)",
                self.page
            );
        }
        format!(
            "the index page `{}` offers no usable version of {project}: it lists {}",
            self.page,
            reasons.join("; ")
        )
    }
}

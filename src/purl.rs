//! Package URLs (purl, <https://github.com/package-url/purl-spec>) spelled in their canonical
//! form: `pkg:type/namespace/name@version?qualifiers#subpath`, qualifiers sorted by key, empty
//! ones left out, every component percent-encoded. Each ecosystem says its own type, namespace
//! and qualifiers (`purl` on its package details); this module only writes them. A leaf: it
//! imports nothing of the crate.

/// What a locked package's purl is made from, besides its ecosystem's details.
pub struct Identity<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// The repository, as the lock records it.
    pub repository: &'a str,
    /// The artifact's URL, as the lock records it.
    pub url: &'a str,
    pub sha256: &'a str,
}

/// A purl being put together.
pub struct Purl {
    kind: &'static str,
    namespace: Vec<String>,
    name: String,
    version: String,
    qualifiers: Vec<(&'static str, String)>,
    subpath: Option<String>,
}

impl Purl {
    /// `pkg:kind/name@version`.
    pub fn new(kind: &'static str, name: &str, version: &str) -> Self {
        Self {
            kind,
            namespace: Vec::new(),
            name: name.to_string(),
            version: version.to_string(),
            qualifiers: Vec::new(),
            subpath: None,
        }
    }

    /// With a namespace segment (a Maven group, a GitHub owner, a Debian vendor).
    pub fn namespace(mut self, segment: &str) -> Self {
        self.namespace.push(segment.to_string());
        self
    }

    /// With the qualifier `key=value`, unless `value` is empty.
    pub fn qualifier(mut self, key: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.qualifiers.push((key, value));
        }
        self
    }

    /// With a subpath (a folder inside the package), if any.
    pub fn subpath(mut self, subpath: Option<&str>) -> Self {
        self.subpath = subpath.map(str::to_string);
        self
    }

    /// The canonical text.
    pub fn render(mut self) -> String {
        let mut out = format!("pkg:{}/", self.kind);
        for segment in &self.namespace {
            out.push_str(&encode(segment, ""));
            out.push('/');
        }
        out.push_str(&encode(&self.name, ""));
        out.push('@');
        out.push_str(&encode(&self.version, ":"));
        self.qualifiers.sort();
        for (index, (key, value)) in self.qualifiers.iter().enumerate() {
            out.push(if index == 0 { '?' } else { '&' });
            out.push_str(key);
            out.push('=');
            out.push_str(&encode(value, ":/"));
        }
        if let Some(subpath) = &self.subpath {
            let segments: Vec<String> = subpath
                .split('/')
                .filter(|s| !s.is_empty() && *s != "." && *s != "..")
                .map(|s| encode(s, ""))
                .collect();
            out.push('#');
            out.push_str(&segments.join("/"));
        }
        out
    }
}

/// `text` percent-encoded: every byte but ASCII letters, digits, `.`, `-`, `_`, `~` and those
/// of `keep`.
fn encode(text: &str, keep: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let c = byte as char;
        if c.is_ascii_alphanumeric() || ".-_~".contains(c) || (c.is_ascii() && keep.contains(c)) {
            out.push(c);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_percent_encoded_and_qualifiers_sorted() {
        let purl = Purl::new("generic", "a b", "1.0+x")
            .namespace("o/p")
            .qualifier("z", "q&r=s")
            .qualifier("a", "file:../x y")
            .qualifier("empty", "")
            .subpath(Some("./src/../pkg"))
            .render();
        assert_eq!(
            purl,
            "pkg:generic/o%2Fp/a%20b@1.0%2Bx?a=file:../x%20y&z=q%26r%3Ds#src/pkg"
        );
    }
}

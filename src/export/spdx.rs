//! The SPDX 2.3 JSON SBOM (<https://spdx.github.io/spdx-spec/v2.3/>): the document describes the
//! image, a package that `CONTAINS` every exported package; each package has its purl (an external
//! reference), sha256 (and conda's md5), download location (an absolute URL), layer (in its
//! comment) and declared license, and `DEPENDS_ON` its locked dependencies.
//!
//! A license is free text in the lock (CRAN's `GPL-2 | GPL-3` is no SPDX expression), so it is
//! declared as a `LicenseRef-` whose extracted text is the metadata's words. `created` is fixed
//! (the Unix epoch): the lock records no time, and the same lock gives the same document.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use super::Selection;
use super::purl;
use crate::lock::LockedPackage;
use crate::package::Ecosystem;

/// The SPDX identifier of the image's package.
const IMAGE_ID: &str = "SPDXRef-Image";

/// The document of `selection`.
pub(super) fn render(selection: &Selection<'_>) -> String {
    let ids = identifiers(selection);
    let id_of = |package: &LockedPackage| ids[&(package.ecosystem, package.name.as_str())].clone();
    let licenses = license_identifiers(selection);
    let mut packages = vec![image_package(selection)];
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_ID)];
    for (layer, package) in &selection.packages {
        let license = package.license.as_ref().map(|text| licenses[text].clone());
        packages.push(package_entry(layer, package, id_of(package), license));
        relationships.push(relationship(IMAGE_ID, "CONTAINS", &id_of(package)));
        for dependency in selection.dependencies_of(package) {
            relationships.push(relationship(
                &id_of(package),
                "DEPENDS_ON",
                &id_of(dependency),
            ));
        }
    }
    let image = &selection.lock.image;
    let mut document = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": image.name,
        "documentNamespace": format!(
            "https://spdx.org/spdxdocs/imglock-{}-{}",
            identifier_text(&image.name),
            selection.uuid()
        ),
        "creationInfo": {
            "created": "1970-01-01T00:00:00Z",
            "creators": [format!("Tool: imglock-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    });
    if !licenses.is_empty() {
        document["hasExtractedLicensingInfos"] = licenses
            .into_iter()
            .map(|(text, id)| json!({ "licenseId": id, "extractedText": text, "name": text }))
            .collect();
    }
    super::json_text(&document)
}

/// The image as a package: what the document describes.
fn image_package(selection: &Selection<'_>) -> Value {
    let image = &selection.lock.image;
    json!({
        "SPDXID": IMAGE_ID,
        "name": image.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
        "comment": format!(
            "imglock image on base {} for {}, layers {}",
            image.base,
            image.platform,
            selection.layers.join(", ")
        ),
    })
}

/// One exported package.
fn package_entry(
    layer: &str,
    package: &LockedPackage,
    id: String,
    license: Option<String>,
) -> Value {
    let mut checksums = vec![json!({ "algorithm": "SHA256", "checksumValue": package.sha256 })];
    if let Some(md5) = package.details.conda().and_then(|c| c.md5.as_ref()) {
        checksums.push(json!({ "algorithm": "MD5", "checksumValue": md5 }));
    }
    json!({
        "SPDXID": id,
        "name": package.name,
        "versionInfo": package.version,
        "downloadLocation": download_location(&package.url),
        "filesAnalyzed": false,
        "checksums": checksums,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": license.as_deref().unwrap_or("NOASSERTION"),
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "LIBRARY",
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl(package),
        }],
        "comment": format!("imglock:layer={layer} imglock:ecosystem={}", package.ecosystem),
    })
}

/// Where SPDX says a package is downloaded from: its URL when absolute; a `file:` path relative
/// to the lock's folder is no location SPDX can use, so `NOASSERTION`.
fn download_location(url: &str) -> &str {
    match url.contains("://") {
        true => url,
        false => "NOASSERTION",
    }
}

/// Each exported package's SPDX identifier: `SPDXRef-<ecosystem>-<name>-<version>` made unique
/// ([`unique`]).
fn identifiers<'a>(selection: &Selection<'a>) -> BTreeMap<(Ecosystem, &'a str), String> {
    let mut taken = HashSet::new();
    selection
        .packages
        .iter()
        .map(|(_, package)| {
            let base = format!(
                "SPDXRef-{}-{}-{}",
                package.ecosystem,
                identifier_text(&package.name),
                identifier_text(&package.version)
            );
            let key = (package.ecosystem, package.name.as_str());
            (key, unique(base, &mut taken))
        })
        .collect()
}

/// Each license text of the exported packages, sorted, with its `LicenseRef-<text>` identifier
/// made unique ([`unique`]).
fn license_identifiers(selection: &Selection<'_>) -> BTreeMap<String, String> {
    let texts: std::collections::BTreeSet<&String> = selection
        .packages
        .iter()
        .filter_map(|(_, package)| package.license.as_ref())
        .collect();
    let mut taken = HashSet::new();
    texts
        .into_iter()
        .map(|text| {
            let base = format!("LicenseRef-{}", identifier_text(text));
            (text.clone(), unique(base, &mut taken))
        })
        .collect()
}

/// `base`, or `base-2`, `base-3`… when an earlier one came out the same (SPDX identifiers drop
/// the characters that told them apart).
fn unique(base: String, taken: &mut HashSet<String>) -> String {
    let mut id = base.clone();
    let mut n = 1;
    while !taken.insert(id.clone()) {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

/// `text` with every character an SPDX identifier may not hold (only letters, digits, `.` and
/// `-`) as `-`.
fn identifier_text(text: &str) -> String {
    text.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                true => c,
                false => '-',
            },
        )
        .collect()
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({ "spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to })
}

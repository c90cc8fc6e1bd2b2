//! The CycloneDX 1.6 JSON SBOM (<https://cyclonedx.org/docs/1.6/json/>): the image as the
//! metadata's component, every exported package a `library` component (`bom-ref` its purl) with
//! its sha256, license, download URL and the properties `imglock:layer`,
//! `imglock:ecosystem` and `imglock:requested`, and the dependency graph: the image on what its
//! layers request, each package on its locked dependencies.

use serde_json::{Value, json};

use super::Selection;
use super::purl;
use crate::lock::LockedPackage;

/// The `bom-ref` of the image itself.
const IMAGE_REF: &str = "imglock-image";

/// The SBOM of `selection`.
pub(super) fn render(selection: &Selection<'_>) -> String {
    let components: Vec<Value> = selection
        .packages
        .iter()
        .map(|(layer, package)| component(layer, package))
        .collect();
    let requested: Vec<String> = selection
        .packages
        .iter()
        .filter(|(_, p)| p.requested)
        .map(|(_, p)| purl(p))
        .collect();
    let mut dependencies = vec![json!({ "ref": IMAGE_REF, "dependsOn": requested })];
    dependencies.extend(selection.packages.iter().map(|(_, package)| {
        let on: Vec<String> = selection
            .dependencies_of(package)
            .into_iter()
            .map(purl)
            .collect();
        json!({ "ref": purl(package), "dependsOn": on })
    }));
    let bom = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", selection.uuid()),
        "version": 1,
        "metadata": metadata(selection),
        "components": components,
        "dependencies": dependencies,
    });
    super::json_text(&bom)
}

/// The tool, and the image as the component the SBOM describes.
fn metadata(selection: &Selection<'_>) -> Value {
    let image = &selection.lock.image;
    json!({
        "tools": {
            "components": [{
                "type": "application",
                "name": "imglock",
                "version": env!("CARGO_PKG_VERSION"),
            }],
        },
        "component": {
            "type": "container",
            "bom-ref": IMAGE_REF,
            "name": image.name,
            "properties": [
                property("imglock:base", &image.base),
                property("imglock:platform", &image.platform),
                property("imglock:layers", &selection.layers.join(",")),
            ],
        },
    })
}

/// A package's component.
fn component(layer: &str, package: &LockedPackage) -> Value {
    let purl = purl(package);
    let mut hashes = vec![json!({ "alg": "SHA-256", "content": package.sha256 })];
    if let Some(md5) = package.details.conda().and_then(|c| c.md5.as_ref()) {
        hashes.push(json!({ "alg": "MD5", "content": md5 }));
    }
    let (group, name) = match package.details {
        crate::package::PackageDetails::Maven(_) => {
            let (group, rest) = package.name.split_once(':').unwrap_or(("", &package.name));
            (Some(group), rest.split(':').next().unwrap_or(rest))
        }
        _ => (None, package.name.as_str()),
    };
    let mut component = json!({
        "type": "library",
        "bom-ref": purl,
        "name": name,
        "version": package.version,
        "purl": purl,
        "hashes": hashes,
        "externalReferences": [{ "type": "distribution", "url": package.url }],
        "properties": [
            property("imglock:layer", layer),
            property("imglock:ecosystem", package.ecosystem.as_str()),
            property("imglock:requested", if package.requested { "true" } else { "false" }),
        ],
    });
    if let Some(group) = group {
        component["group"] = json!(group);
    }
    if let Some(license) = &package.license {
        component["licenses"] = json!([{ "license": { "name": license } }]);
    }
    component
}

fn property(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

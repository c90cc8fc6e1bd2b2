//! `imglock export` on the mixed example's lock (lockfiles/mixed-fixture.lock): each format's
//! output is a golden file (tests/golden/export/; `IMGLOCK_BLESS=1` re-creates them, for review),
//! the CycloneDX SBOM validates against CycloneDX's own JSON schema (fixtures/cyclonedx/) and
//! lists every locked package with its purl and sha256, the SPDX document has SPDX 2.3's
//! required fields, pip reads the requirements file and checks its hashes, and a format that
//! cannot express a selection says so.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{golden, run_in, stderr};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `imglock export ARGS` on the mixed example's golden lock, from an empty folder.
fn export(args: &[&str]) -> std::process::Output {
    let work = tempfile::tempdir().unwrap();
    let lock = root().join("lockfiles/mixed-fixture.lock");
    let mut full = vec!["export", "--lock"];
    let lock_arg = lock.display().to_string();
    full.push(&lock_arg);
    full.extend_from_slice(args);
    run_in(work.path(), &full)
}

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The locked packages of the mixed example: (ecosystem, name, version, sha256).
fn locked_packages() -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(root().join("lockfiles/mixed-fixture.lock")).unwrap();
    let lock: toml::Table = toml::from_str(&text).unwrap();
    let field = |p: &toml::Value, key: &str| p[key].as_str().unwrap().to_string();
    lock["layer"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|layer| layer.get("package").and_then(|p| p.as_array()).cloned())
        .flatten()
        .map(|p| {
            let get = |key| field(&p, key);
            (get("ecosystem"), get("name"), get("version"), get("sha256"))
        })
        .collect()
}

const GOLDEN: [(&str, &str); 5] = [
    ("requirements", "requirements.txt"),
    ("conda-explicit", "conda-explicit.txt"),
    ("renv", "renv.lock"),
    ("cyclonedx", "cyclonedx.json"),
    ("spdx", "spdx.json"),
];

#[test]
fn each_format_matches_its_golden_file() {
    for (format, file) in GOLDEN {
        let text = stdout(&export(&["--format", format]));
        golden(&format!("export/{file}"), &text);
        assert_eq!(
            stdout(&export(&["--format", format])),
            text,
            "not deterministic"
        );
    }
}

/// Serves the schemas CycloneDX's refers to from fixtures/cyclonedx/, by file name; nothing is
/// fetched from the network.
struct FixtureSchemas;

impl jsonschema::Retrieve for FixtureSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        let path = root().join("fixtures/cyclonedx").join(name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{uri} is not in fixtures/cyclonedx: {e}"))?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// CycloneDX's 1.6 schema, with the SPDX license list and JSF schemas it refers to.
fn cyclonedx_validator() -> jsonschema::Validator {
    let path = root().join("fixtures/cyclonedx/bom-1.6.SNAPSHOT.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(FixtureSchemas)
        .build(&schema)
        .expect("CycloneDX's schema compiles")
}

#[test]
fn the_cyclonedx_sbom_validates_and_lists_every_locked_package_with_purl_and_sha256() {
    let sbom: Value = serde_json::from_str(&stdout(&export(&["--format", "cyclonedx"]))).unwrap();
    let validator = cyclonedx_validator();
    let errors: Vec<String> = validator
        .iter_errors(&sbom)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid CycloneDX 1.6:\n{}",
        errors.join("\n")
    );
    let components = sbom["components"].as_array().unwrap();
    let locked = locked_packages();
    assert_eq!(components.len(), locked.len());
    let purl_type = |ecosystem: &str| match ecosystem {
        "apt" => "deb".to_string(),
        "file" => "generic".to_string(),
        other => other.to_string(),
    };
    for (ecosystem, name, version, sha256) in &locked {
        let short = name.split(':').nth(1).unwrap_or(name);
        let found =
            components
                .iter()
                .find(|c| {
                    c["properties"].as_array().unwrap().iter().any(|p| {
                        p["name"] == "imglock:ecosystem" && p["value"] == ecosystem.as_str()
                    }) && (c["name"] == name.as_str() || c["name"] == short)
                        && c["version"] == version.as_str()
                        && c["hashes"][0]["content"] == sha256.as_str()
                })
                .unwrap_or_else(|| panic!("{ecosystem} {name} {version} is missing"));
        let purl = found["purl"].as_str().unwrap();
        assert!(
            purl.starts_with(&format!("pkg:{}/", purl_type(ecosystem))),
            "{purl}"
        );
        assert_eq!(found["hashes"][0]["alg"], "SHA-256");
    }
    // Tampering is caught: a component without its purl's required shape fails the schema.
    let mut broken = sbom.clone();
    broken["components"][0]["hashes"][0]["alg"] = "SHA-257".into();
    assert!(!validator.is_valid(&broken));
}

/// The purls of a CycloneDX SBOM's components, in order.
fn purls_of(sbom: &Value) -> Vec<&str> {
    sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect()
}

#[test]
fn the_purls_follow_each_ecosystems_purl_type() {
    let sbom: Value = serde_json::from_str(&stdout(&export(&["--format", "cyclonedx"]))).unwrap();
    let purls = purls_of(&sbom);
    for expected in [
        "pkg:cran/fastsum@0.3.1",
        "pkg:bioconductor/SeqTools@1.4.0",
        "pkg:pypi/charset-normalizer@2.0.12",
        "pkg:conda/tini@0.19.0?build=h166bdaf_1&channel=file:../../fixtures/conda/channels/forge&subdir=linux-64&type=conda",
        "pkg:conda/zedtool@0.9.0?build=h295c915_0&channel=file:../../fixtures/conda/channels/main&subdir=linux-64&type=tar.bz2",
        "pkg:maven/org.imglock.fixture/core-api@1.0?classifier=tests&type=jar",
        "pkg:maven/org.imglock.fixture/app@1.0?type=jar",
    ] {
        assert!(purls.contains(&expected), "{expected} not in {purls:#?}");
    }
    let unique: std::collections::BTreeSet<&&str> = purls.iter().collect();
    assert_eq!(unique.len(), purls.len(), "purls are not unique");
}

/// A lock of one layer holding `tables` (each a package's fields after `ecosystem`, `name`,
/// `version`, `url`), in a fresh folder.
fn lock_of(tables: &[(&str, &str, &str, &str, &str)]) -> tempfile::TempDir {
    let mut text = format!(
        "version = 1\nspec-hash = \"x\"\n\n[image]\nname = \"i\"\nbase = \"docker.io/library/debian@sha256:{}\"\nplatform = \"linux/amd64\"\n\n[[layer]]\nname = \"l\"\n",
        "b".repeat(64)
    );
    for (ecosystem, name, version, url, own) in tables {
        text.push_str(&format!(
            "\n[[layer.package]]\necosystem = \"{ecosystem}\"\nname = \"{name}\"\nversion = \"{version}\"\nrepository = \"https://repo.example\"\nurl = \"{url}\"\nsha256 = \"{}\"\nsize = 1\n{own}",
            "a".repeat(64)
        ));
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("imglock.lock"), text).unwrap();
    work
}

#[test]
fn debian_github_git_and_file_packages_have_their_purl_types() {
    let commit = "c".repeat(40);
    let github = format!(
        "github = \"r-lib/UseThis\"\nref = \"main\"\ncommit = \"{commit}\"\nsubdir = \"pkg/r\"\n"
    );
    let git = format!(
        "git = \"https://github.com/python/typing\"\nref = \"HEAD\"\ncommit = \"{commit}\"\n"
    );
    let deb = "architecture = \"amd64\"\nsource = \"libxml2\"\nsuite = \"bookworm\"\n";
    let work = lock_of(&[
        (
            "apt",
            "libxml2",
            "2.9.14+dfsg-1.3~deb12u1",
            "https://deb.example/l.deb",
            deb,
        ),
        (
            "github",
            "usethis",
            "2.2.0",
            "https://api.github.com/repos/r-lib/usethis/tarball/x",
            &github,
        ),
        (
            "pypi",
            "Typing_Extensions",
            "4.0.0",
            "https://codeload.example/t.tar.gz",
            &git,
        ),
        (
            "file",
            "chain",
            "1",
            "https://files.example/a.chain",
            "target = \"/opt/a.chain\"\n",
        ),
    ]);
    let output = run_in(work.path(), &["export", "--format", "cyclonedx"]);
    let sbom: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let purls = purls_of(&sbom);
    let sha = "a".repeat(64);
    assert_eq!(
        purls,
        [
            "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1.3~deb12u1?arch=amd64&distro=bookworm"
                .to_string(),
            format!("pkg:github/r-lib/usethis@{commit}#pkg/r"),
            format!(
                "pkg:pypi/typing-extensions@4.0.0?vcs_url=git%2Bhttps://github.com/python/typing%40{commit}"
            ),
            format!(
                "pkg:generic/chain@1?checksum=sha256:{sha}&download_url=https://files.example/a.chain"
            ),
        ]
    );
    assert!(cyclonedx_validator().is_valid(&sbom));
    let renv = run_in(work.path(), &["export", "--format", "renv"]);
    let renv: Value = serde_json::from_str(&stdout(&renv)).unwrap();
    let usethis = &renv["Packages"]["usethis"];
    assert_eq!(usethis["RemoteSha"], commit.as_str());
    assert_eq!(usethis["RemoteUsername"], "r-lib");
    assert_eq!(usethis["RemoteSubdir"], "pkg/r");
    let requirements = stdout(&run_in(
        work.path(),
        &["export", "--format", "requirements"],
    ));
    assert!(
        requirements.contains(&format!(
            "Typing_Extensions @ https://codeload.example/t.tar.gz \\\n    --hash=sha256:{sha}"
        )),
        "{requirements}"
    );
}

#[test]
fn the_spdx_document_has_spdx_2_3s_required_fields_and_every_package() {
    let doc: Value = serde_json::from_str(&stdout(&export(&["--format", "spdx"]))).unwrap();
    for key in [
        "spdxVersion",
        "dataLicense",
        "SPDXID",
        "name",
        "documentNamespace",
    ] {
        assert!(doc[key].is_string(), "no {key}");
    }
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
    assert!(!doc["documentNamespace"].as_str().unwrap().contains('#'));
    assert!(doc["creationInfo"]["created"].is_string());
    assert!(
        !doc["creationInfo"]["creators"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let packages = doc["packages"].as_array().unwrap();
    let ids: Vec<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let valid_id = |id: &str| {
        id.strip_prefix("SPDXRef-").is_some_and(|rest| {
            rest.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
    };
    assert!(ids.iter().all(|id| valid_id(id)), "{ids:?}");
    for package in packages {
        for key in ["name", "downloadLocation"] {
            assert!(package[key].is_string(), "{package}: no {key}");
        }
        let location = package["downloadLocation"].as_str().unwrap();
        assert!(
            location == "NOASSERTION" || location.contains("://"),
            "{location}: not a download location"
        );
    }
    for (_, name, version, sha256) in locked_packages() {
        let package = packages
            .iter()
            .find(|p| p["name"] == name.as_str() && p["versionInfo"] == version.as_str())
            .unwrap_or_else(|| panic!("{name} {version} is missing"));
        assert_eq!(package["checksums"][0]["algorithm"], "SHA256");
        assert_eq!(package["checksums"][0]["checksumValue"], sha256.as_str());
        assert_eq!(package["externalRefs"][0]["referenceType"], "purl");
    }
    for relationship in doc["relationships"].as_array().unwrap() {
        for key in ["spdxElementId", "relatedSpdxElement"] {
            let id = relationship[key].as_str().unwrap();
            assert!(
                id == "SPDXRef-DOCUMENT" || ids.contains(&id),
                "{id} is no element"
            );
        }
    }
}

#[test]
fn pip_reads_the_requirements_file_and_checks_every_hash() {
    if !crate::support::available(
        crate::support::runs("python3", &["-m", "pip", "--version"]),
        "python3 has no pip",
    ) {
        return;
    }
    let text = stdout(&export(&["--format", "requirements"]));
    let work = tempfile::tempdir().unwrap();
    // The lock's wheels in a folder pip finds them in (`--no-index --find-links`).
    let wheels = work.path().join("wheels");
    std::fs::create_dir(&wheels).unwrap();
    let lock = std::fs::read_to_string(root().join("lockfiles/mixed-fixture.lock")).unwrap();
    for url in lock.lines().filter_map(|l| l.strip_prefix("url = \"file:")) {
        // Relative to the folder the lock was resolved in, the example's.
        let path: PathBuf = root()
            .join("examples/mixed-fixture")
            .join(url.trim_end_matches('"'));
        if path.extension().is_some_and(|e| e == "whl") {
            std::fs::copy(&path, wheels.join(path.file_name().unwrap())).unwrap();
        }
    }
    let pip = |requirements: &str| {
        let file = work.path().join("requirements.txt");
        std::fs::write(&file, requirements).unwrap();
        std::process::Command::new("python3")
            .args([
                "-m",
                "pip",
                "--isolated",
                "install",
                "--dry-run",
                "--ignore-installed",
            ])
            .args(["--no-index", "--find-links"])
            .arg(&wheels)
            .arg("-r")
            .arg(&file)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .output()
            .unwrap()
    };
    let output = pip(&text);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = String::from_utf8_lossy(&output.stdout);
    let would = said
        .lines()
        .find(|l| l.starts_with("Would install "))
        .unwrap_or_default();
    for (_, name, version, _) in locked_packages().iter().filter(|p| p.0 == "pypi") {
        let name = if name == "pysocks" { "PySocks" } else { name };
        assert!(
            would.contains(&format!("{name}-{version}")),
            "{name}: {said}"
        );
    }
    // A wrong hash is refused: pip really checks them.
    let wrong = text.replacen("--hash=sha256:f", "--hash=sha256:0", 1);
    assert!(!pip(&wrong).status.success());
}

#[test]
fn a_format_that_cannot_express_the_selection_says_so() {
    let output = export(&["--format", "requirements", "--layer", "r-core"]);
    assert_eq!(output.status.code(), Some(2));
    let said = stderr(&output);
    assert!(
        said.contains("`--format requirements` writes Python packages, and layer `r-core` has no such package (it holds 5 cran)"),
        "{said}"
    );
    let output = export(&["--format", "renv", "--layer", "pythn"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the lock has no layer `pythn` (did you mean `python`?)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_one_ecosystem_format_tells_what_it_left_out_and_out_writes_the_file() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("requirements.txt");
    let output = export(&["--format", "requirements", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output)
            .contains("leaves out the lock's other packages (3 bioconductor, 5 conda, 5 cran, "),
        "{}",
        stderr(&output)
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, stdout(&export(&["--format", "requirements"])));
    let layer = stdout(&export(&["--format", "cyclonedx", "--layer", "python"]));
    let sbom: Value = serde_json::from_str(&layer).unwrap();
    assert_eq!(sbom["components"].as_array().unwrap().len(), 6);
    assert!(cyclonedx_validator().is_valid(&sbom));
}

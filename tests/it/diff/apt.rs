//! `imglock diff` of Debian packages: dpkg's version order (epochs, `~`), the binaries of one
//! source package as one change, security updates called out; and a lock whose Dockerfile
//! cannot be rendered still diffs.

use super::*;

/// A Debian package (amd64) built from `source`, listed by the index of `suite`.
fn deb(name: &str, version: &str, source: &str, suite: &str) -> String {
    let file_version = version.rsplit(':').next().unwrap();
    package(
        "apt",
        name,
        version,
        "http://deb.debian.org/debian",
        &format!("pool/main/{name}_{file_version}_amd64.deb"),
        version.chars().find(char::is_ascii_digit).unwrap(),
    ) + &format!("architecture = \"amd64\"\nsource = \"{source}\"\nsuite = \"{suite}\"\n")
}

/// The warnings of a diff but the one that says the cache impact is unknown (the Dockerfile of
/// a lock with Debian packages renders only where apt's install steps exist).
fn package_warnings(json: &serde_json::Value) -> Vec<&str> {
    warnings(json)
        .into_iter()
        .filter(|w| !w.starts_with("the Docker cache impact is unknown"))
        .collect()
}

#[test]
fn apt_changes_follow_dpkgs_order() {
    let json = json_diff(
        &[
            deb("libold", "1:0.9-1", "libold", "bookworm"),
            deb("librc", "1.0-1", "librc", "bookworm"),
            deb("libten", "9.2.1-1", "libten", "bookworm"),
            deb("libxml2", "2.9.14+dfsg-1.3~deb12u1", "libxml2", "bookworm"),
        ],
        &[
            deb("libold", "2.0-1", "libold", "bookworm"),
            deb("librc", "1.0~rc1-1", "librc", "bookworm"),
            deb("libten", "10.0-1", "libten", "bookworm"),
            deb("libxml2", "2.9.14+dfsg-1.3~deb12u2", "libxml2", "bookworm"),
        ],
    );
    // Text order says each of these the other way round.
    assert_eq!(
        change_of(&json, "libold"),
        ("downgraded".to_string(), Some("major".to_string()))
    );
    assert_eq!(
        change_of(&json, "librc"),
        ("downgraded".to_string(), Some("patch".to_string()))
    );
    assert_eq!(
        change_of(&json, "libten"),
        ("upgraded".to_string(), Some("major".to_string()))
    );
    // Only the Debian revision moves.
    assert_eq!(
        change_of(&json, "libxml2"),
        ("upgraded".to_string(), Some("other".to_string()))
    );
    assert_eq!(
        package_warnings(&json),
        [
            "libold is downgraded from 1:0.9-1 to 2.0-1 in layer `env`",
            "librc is downgraded from 1.0-1 to 1.0~rc1-1 in layer `env`"
        ]
    );
}

#[test]
fn one_source_upgrade_reads_as_one_change_listing_its_binaries() {
    let old = [
        deb("foo-tools", "1:2.0-1", "foo", "bookworm"),
        deb("libfoo-dev", "1:2.0-1", "foo", "bookworm"),
        deb("libfoo1", "1:2.0-1", "foo", "bookworm"),
        deb("zlib1g", "1:1.2.13.dfsg-1", "zlib", "bookworm"),
    ];
    let new = [
        deb("foo-tools", "1:2.1-1", "foo", "bookworm"),
        deb("libfoo-dev", "1:2.1-1", "foo", "bookworm"),
        deb("libfoo1", "1:2.1-1", "foo", "bookworm"),
        deb("libnew-dev", "0.5-2", "newlib", "bookworm"),
        deb("libnew1", "0.5-2", "newlib", "bookworm"),
        deb("zlib1g", "1:1.3.dfsg-3", "zlib", "bookworm"),
    ];
    let json = json_diff(&old, &new);
    let changes = json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{json:#}");
    let foo = changes.iter().find(|c| c["name"] == "foo").unwrap();
    assert_eq!(foo["kind"], "upgraded");
    assert_eq!(foo["level"], "minor");
    assert_eq!(foo["old_version"], "1:2.0-1");
    assert_eq!(foo["new_version"], "1:2.1-1");
    assert_eq!(
        foo["binaries"],
        serde_json::json!(["foo-tools", "libfoo-dev", "libfoo1"])
    );
    let added = changes.iter().find(|c| c["name"] == "newlib").unwrap();
    assert_eq!(added["kind"], "added");
    assert_eq!(
        added["binaries"],
        serde_json::json!(["libnew-dev", "libnew1"])
    );
    // A binary alone in its source's change stays itself.
    assert_eq!(
        change_of(&json, "zlib1g"),
        ("upgraded".to_string(), Some("minor".to_string()))
    );
    let zlib = changes.iter().find(|c| c["name"] == "zlib1g").unwrap();
    assert!(zlib.get("binaries").is_none(), "{zlib:#}");

    let (code, text) = diff_of(&old, &new, "text");
    assert_eq!(code, Some(1));
    assert!(
        text.contains(
            "  ↑ source package foo (foo-tools, libfoo-dev, libfoo1) 1:2.0-1 → 1:2.1-1 (apt; minor)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  + source package newlib (libnew-dev, libnew1) 0.5-2 (apt)\n"),
        "{text}"
    );
    assert!(
        text.contains("  ↑ zlib1g 1:1.2.13.dfsg-1 → 1:1.3.dfsg-3 (apt; minor)\n"),
        "{text}"
    );
    let (_, markdown) = diff_of(&old, &new, "markdown");
    assert!(
        markdown.contains(
            "| upgraded | `foo` (source of `foo-tools`, `libfoo-dev`, `libfoo1`) | apt | 1:2.0-1 | 1:2.1-1 | minor |"
        ),
        "{markdown}"
    );
}

#[test]
fn a_new_version_from_the_security_suite_is_a_security_update() {
    let old = [
        deb("libxml2", "2.9.14+dfsg-1.3~deb12u1", "libxml2", "bookworm"),
        deb(
            "libxml2-dev",
            "2.9.14+dfsg-1.3~deb12u1",
            "libxml2",
            "bookworm",
        ),
        deb("tzdata", "2024a-0+deb12u1", "tzdata", "bookworm"),
    ];
    let new = [
        deb(
            "libxml2",
            "2.9.14+dfsg-1.3~deb12u2",
            "libxml2",
            "bookworm-security",
        ),
        deb(
            "libxml2-dev",
            "2.9.14+dfsg-1.3~deb12u2",
            "libxml2",
            "bookworm-security",
        ),
        deb("tzdata", "2025b-0+deb12u1", "tzdata", "bookworm-updates"),
    ];
    let json = json_diff(&old, &new);
    let changes = json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{json:#}");
    let libxml2 = changes.iter().find(|c| c["name"] == "libxml2").unwrap();
    assert_eq!(libxml2["kind"], "upgraded");
    assert_eq!(libxml2["security_suite"], "bookworm-security");
    assert_eq!(
        libxml2["binaries"],
        serde_json::json!(["libxml2", "libxml2-dev"])
    );
    let tzdata = changes.iter().find(|c| c["name"] == "tzdata").unwrap();
    assert!(tzdata.get("security_suite").is_none(), "{tzdata:#}");

    let (_, text) = diff_of(&old, &new, "text");
    assert!(
        text.contains(
            "  ↑ source package libxml2 (libxml2, libxml2-dev) 2.9.14+dfsg-1.3~deb12u1 → 2.9.14+dfsg-1.3~deb12u2 (apt; other; security update from bookworm-security)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  ↑ tzdata 2024a-0+deb12u1 → 2025b-0+deb12u1 (apt; major)\n"),
        "{text}"
    );
    let (_, markdown) = diff_of(&old, &new, "markdown");
    assert!(
        markdown.contains("| other; security update from bookworm-security |"),
        "{markdown}"
    );
}

#[test]
fn a_lock_whose_dockerfile_cannot_be_rendered_still_diffs() {
    // An sdist to build, but no Python version in [resolution] to build it for.
    let sdist = |version: &str| {
        package(
            "pypi",
            "alembic",
            version,
            "https://pypi.org/simple",
            &format!("alembic-{version}.tar.gz"),
            'a',
        ) + "build-requires = [\"setuptools==60.9.3\"]\n"
    };
    let json = json_diff(&[sdist("1.4.1")], &[sdist("1.4.2")]);
    assert_eq!(
        change_of(&json, "alembic"),
        ("upgraded".to_string(), Some("patch".to_string()))
    );
    assert_eq!(json["cache"], serde_json::json!([]));
    let warnings = warnings(&json);
    assert_eq!(warnings.len(), 1, "{json:#}");
    assert!(
        warnings[0].starts_with("the Docker cache impact is unknown")
            && warnings[0].contains("no `python-version` in [resolution]"),
        "{}",
        warnings[0]
    );
}

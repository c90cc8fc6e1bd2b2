use super::*;

/// Bookworm's `/etc/apt/sources.list.d/debian.sources`, as the `debian:bookworm` image has it.
const BOOKWORM: &str = "Types: deb
# http://snapshot.debian.org/archive/debian/20240101T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20240101T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

#[test]
fn bookworm_debian_sources() {
    let sources = parse_deb822(BOOKWORM, "debian.sources").unwrap();
    let suites: Vec<(&str, &str)> = sources
        .iter()
        .map(|s| (s.uri.as_str(), s.suite.as_str()))
        .collect();
    assert_eq!(
        suites,
        vec![
            ("http://deb.debian.org/debian/", "bookworm"),
            ("http://deb.debian.org/debian/", "bookworm-updates"),
            (
                "http://deb.debian.org/debian-security/",
                "bookworm-security"
            ),
        ]
    );
    assert_eq!(
        sources[0].signed_by,
        Some(SignedBy::Files(vec![
            "/usr/share/keyrings/debian-archive-keyring.gpg".into()
        ]))
    );
    assert_eq!(
        sources[2]
            .suite_file("main/binary-amd64/Packages.xz")
            .as_str(),
        "http://deb.debian.org/debian-security/dists/bookworm-security/main/binary-amd64/Packages.xz"
    );
}

#[test]
fn one_line_with_and_without_deb() {
    let sources = parse_one_line(
        [
            "deb [arch=amd64 signed-by=/k.gpg] https://deb.debian.org/debian bookworm main contrib",
            "# a comment",
            "https://deb.debian.org/debian-security bookworm-security main",
            "deb-src https://deb.debian.org/debian bookworm main",
            "file:///srv/mirror/debian bookworm main",
        ],
        "imglock.toml",
    )
    .unwrap();
    assert_eq!(sources.len(), 3);
    assert_eq!(sources[0].components, vec!["main", "contrib"]);
    assert_eq!(sources[0].architectures, vec!["amd64"]);
    assert_eq!(
        sources[0].signed_by,
        Some(SignedBy::Files(vec!["/k.gpg".into()]))
    );
    assert_eq!(sources[1].suite, "bookworm-security");
    assert_eq!(
        sources[2].suite_file("InRelease").as_str(),
        "file:///srv/mirror/debian/dists/bookworm/InRelease"
    );
}

#[test]
fn what_is_refused_is_named() {
    for (line, expected) in [
        (
            "deb https://deb.debian.org/debian",
            "needs a URI and a suite",
        ),
        ("deb https://deb.debian.org/debian bookworm", "no component"),
        (
            "deb [trusted=yes] https://x.org/debian bookworm main",
            "turns off signature checks",
        ),
        (
            "deb ftp://x.org/debian bookworm main",
            "not an http(s) or file URL",
        ),
        ("deb https://x.org/debian ./", "flat repositories"),
        (
            "deb https://x.org/debian ../../etc main",
            "not a plain name",
        ),
        (
            "deb [arch=amd64 https://x.org/debian bookworm main",
            "`[` is not closed",
        ),
    ] {
        let error = parse_one_line([line], "imglock.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("`imglock.toml` line 1"), "{error}");
        assert!(error.contains(expected), "{line}: {error}");
    }
}

#[test]
fn disabled_and_source_stanzas_are_skipped_and_inline_keys_kept() {
    let text = "Types: deb-src\nURIs: https://x.org/d\nSuites: s\nComponents: main\n\n\
                Types: deb\nEnabled: no\nURIs: https://x.org/d\nSuites: s\nComponents: main\n\n\
                Types: deb\nURIs: https://x.org/d\nSuites: s\nComponents: main\nArchitectures: amd64 i386\n\
                Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mDMEZ\n -----END PGP PUBLIC KEY BLOCK-----\n";
    let sources = parse_deb822(text, "x.sources").unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].architectures, vec!["amd64", "i386"]);
    let Some(SignedBy::Key(key)) = &sources[0].signed_by else {
        panic!("{:?}", sources[0].signed_by);
    };
    assert_eq!(
        key,
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----"
    );
}

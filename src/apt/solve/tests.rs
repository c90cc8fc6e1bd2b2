//! Each rule of apt resolution on a small hand-written index.

use url::Url;

use super::*;
use crate::apt::index::Origin;
use crate::apt::packages::parse_packages;
use crate::apt::relation::parse_provides;

const SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An index of one source (`suite`) from stanzas without their file fields.
fn add(index: &mut AptIndex, suite: &str, stanzas: &str) {
    let text: String = stanzas
        .trim()
        .split("\n\n")
        .map(|stanza| {
            let name = stanza
                .lines()
                .next()
                .unwrap()
                .trim_start_matches("Package: ");
            let arch = if stanza.contains("Architecture:") {
                ""
            } else {
                "Architecture: amd64\n"
            };
            format!(
                "{}\n{arch}Filename: pool/{name}.deb\nSize: 1\nSHA256: {SHA}\n\n",
                stanza.trim()
            )
        })
        .collect();
    let origin = Origin {
        uri: Url::parse("http://deb.example/debian/").unwrap(),
        suite: suite.to_string(),
        component: "main".to_string(),
        architecture: "amd64".to_string(),
        source: index.origins().len(),
    };
    index.add(origin, parse_packages(&text, "Packages").unwrap());
}

fn index(stanzas: &str) -> AptIndex {
    let mut index = AptIndex::default();
    add(&mut index, "stable", stanzas);
    index
}

fn installed(name: &str, version: &str, provides: &str) -> Installed {
    Installed {
        name: name.to_string(),
        version: Version::parse(version).unwrap(),
        architecture: "amd64".to_string(),
        provides: parse_provides(provides).unwrap(),
    }
}

fn solve_with(
    index: &AptIndex,
    base: &[Installed],
    requests: &[&str],
    recommends: bool,
) -> Result<Vec<String>, SolveError> {
    let requests: Vec<String> = requests.iter().map(|r| r.to_string()).collect();
    let mut options = SolveOptions::new("amd64");
    options.recommends = recommends;
    let planned = solve(index, base, &requests, &options)?;
    Ok(planned
        .iter()
        .map(|p| format!("{}={}", p.name, p.version))
        .collect())
}

fn names(index: &AptIndex, requests: &[&str]) -> Vec<String> {
    solve_with(index, &[], requests, false).unwrap()
}

#[test]
fn only_the_candidate_and_installed_versions_are_considered() {
    let index = index(
        "Package: app\nVersion: 1\nDepends: lib (>= 2)\n\n\
         Package: lib\nVersion: 1\n\nPackage: lib\nVersion: 2\n\nPackage: lib\nVersion: 3\n\n\
         Package: tool\nVersion: 1\nPre-Depends: lib (<< 3)\n",
    );
    assert_eq!(names(&index, &["app"]), ["app=1", "lib=3"]);
    // apt's candidate of lib is 3, which tool refuses: apt fails, and so does imglock.
    let error = solve_with(&index, &[], &["app", "tool"], false)
        .unwrap_err()
        .to_string();
    assert!(error.contains("tool") && error.contains("lib"), "{error}");
    // A request with a version opens every version of its name, as `apt-get install lib=2`.
    assert_eq!(
        names(&index, &["app", "tool", "lib (= 2)"]),
        ["app=1", "lib=2", "tool=1"]
    );
    let base = [installed("lib", "1", "")];
    assert_eq!(
        solve_with(&index, &base, &["tool"], false).unwrap(),
        ["tool=1"],
        "installed 1 is kept"
    );
}

#[test]
fn the_first_alternative_is_taken_when_it_can_be() {
    let index = index(
        "Package: app\nVersion: 1\nDepends: first | second\n\n\
         Package: first\nVersion: 1\n\nPackage: second\nVersion: 9\n\n\
         Package: other\nVersion: 1\nDepends: gone | second\n",
    );
    assert_eq!(names(&index, &["app"]), ["app=1", "first=1"]);
    assert_eq!(names(&index, &["other"]), ["other=1", "second=9"]);
    assert_eq!(names(&index, &["missing | second"]), ["second=9"]);
}

#[test]
fn versioned_provides_satisfy_only_through_their_version() {
    let index = index(
        "Package: wants-versioned\nVersion: 1\nDepends: virt (>= 2)\n\n\
         Package: wants-any\nVersion: 1\nDepends: virt\n\n\
         Package: unversioned\nVersion: 5\nProvides: virt\n\n\
         Package: versioned\nVersion: 1\nProvides: virt (= 2.5)\n",
    );
    assert_eq!(
        names(&index, &["wants-versioned"]),
        ["versioned=1", "wants-versioned=1"]
    );
    // Either provider will do; the names sort `unversioned` first.
    assert_eq!(
        names(&index, &["wants-any"]),
        ["unversioned=5", "wants-any=1"]
    );
    let error = solve_with(&index, &[], &["virt (>= 3)"], false)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("versioned (Provides: virt (= 2.5))"),
        "{error}"
    );
}

#[test]
fn conflicts_and_breaks_exclude_the_versions_they_hit() {
    let index = index(
        "Package: app\nVersion: 1\nDepends: lib, helper\n\n\
         Package: lib\nVersion: 1\n\nPackage: lib\nVersion: 2\n\n\
         Package: helper\nVersion: 1\nBreaks: lib (<< 2)\n\n\
         Package: enemy\nVersion: 1\nConflicts: helper\n",
    );
    let base = [installed("lib", "1", "")];
    let planned = solve_with(&index, &base, &["app"], false).unwrap();
    assert_eq!(
        planned,
        ["app=1", "helper=1", "lib=2"],
        "helper's Breaks upgrades lib"
    );
    let error = solve_with(&index, &[], &["app", "enemy"], false).unwrap_err();
    assert!(matches!(error, SolveError::Unsolvable { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("enemy 1 declares") && text.contains("helper (Conflicts, any version)"),
        "{text}"
    );
}

#[test]
fn a_package_never_conflicts_with_itself() {
    let index =
        index("Package: solo\nVersion: 1\nConflicts: solo, solo (<< 1)\nBreaks: solo (<< 1)\n");
    assert_eq!(names(&index, &["solo"]), ["solo=1"]);
}

#[test]
fn an_exclusive_virtual_package_keeps_one_provider() {
    let index = index(
        "Package: exim\nVersion: 4\nPriority: important\nProvides: mail-transport-agent\nConflicts: mail-transport-agent\nReplaces: mail-transport-agent\n\n\
         Package: postfix\nVersion: 3\nProvides: mail-transport-agent\nConflicts: mail-transport-agent\nReplaces: mail-transport-agent\n\n\
         Package: mailer\nVersion: 1\nDepends: mail-transport-agent\n",
    );
    assert_eq!(
        names(&index, &["mailer"]),
        ["exim=4", "mailer=1"],
        "the important provider first"
    );
    assert_eq!(
        names(&index, &["postfix", "mailer"]),
        ["mailer=1", "postfix=3"]
    );
    let error = solve_with(&index, &[], &["postfix", "exim"], false).unwrap_err();
    assert!(matches!(error, SolveError::Unsolvable { .. }), "{error}");
}

#[test]
fn installed_packages_stay_at_their_version_unless_a_request_needs_more() {
    let index = index(
        "Package: libc\nVersion: 1\n\nPackage: libc\nVersion: 2\n\n\
         Package: old-app\nVersion: 1\nDepends: libc (>= 1)\n\n\
         Package: new-app\nVersion: 1\nDepends: libc (>= 2)\n",
    );
    let base = [installed("libc", "1", "")];
    assert_eq!(
        solve_with(&index, &base, &["old-app"], false).unwrap(),
        ["old-app=1"]
    );
    assert_eq!(
        solve_with(&index, &base, &["new-app"], false).unwrap(),
        ["libc=2", "new-app=1"]
    );
    let bare = solve_with(&index, &[], &["old-app"], false).unwrap();
    assert_eq!(
        bare,
        ["libc=2", "old-app=1"],
        "without the base, the latest"
    );
}

#[test]
fn an_installed_version_no_source_lists_is_kept_and_provides() {
    let index = index(
        "Package: app\nVersion: 1\nDepends: base-tool (>= 5), virt\n\nPackage: base-tool\nVersion: 4\n",
    );
    let base = [installed("base-tool", "6", "virt")];
    assert_eq!(
        solve_with(&index, &base, &["app"], false).unwrap(),
        ["app=1"]
    );
}

#[test]
fn recommends_are_installed_only_when_asked_and_when_they_can_be() {
    let index = index(
        "Package: app\nVersion: 1\nRecommends: extra, broken\n\n\
         Package: extra\nVersion: 1\nRecommends: more\n\nPackage: more\nVersion: 1\n\n\
         Package: broken\nVersion: 1\nDepends: nothing-has-this\n",
    );
    assert_eq!(names(&index, &["app"]), ["app=1"]);
    let with = solve_with(&index, &[], &["app"], true).unwrap();
    assert_eq!(with, ["app=1", "extra=1", "more=1"]);
}

#[test]
fn a_backports_suite_is_taken_only_when_asked_for() {
    let mut index =
        index("Package: tool\nVersion: 1\n\nPackage: app\nVersion: 1\nDepends: tool (>= 2)\n");
    add(
        &mut index,
        "stable-backports",
        "Package: tool\nVersion: 2\n\nPackage: new\nVersion: 1\n",
    );
    assert_eq!(names(&index, &["tool"]), ["tool=1"]);
    assert_eq!(names(&index, &["tool (>= 2)"]), ["tool=2"]);
    assert_eq!(
        names(&index, &["new"]),
        ["new=1"],
        "only backports has it: its candidate"
    );
    // apt's candidate of tool is 1 (priority 500 over 100): as apt, refused.
    let error = solve_with(&index, &[], &["app"], false)
        .unwrap_err()
        .to_string();
    assert!(error.contains("tool (>= 2)"), "{error}");
}

#[test]
fn via_is_a_shortest_chain_from_the_request() {
    let index = index(
        "Package: a\nVersion: 1\nDepends: b, deep\n\nPackage: b\nVersion: 1\nDepends: c\n\n\
         Package: c\nVersion: 1\nDepends: deep\n\nPackage: deep\nVersion: 1\n",
    );
    let planned = solve(&index, &[], &["a".to_string()], &SolveOptions::new("amd64")).unwrap();
    let via: Vec<String> = planned
        .iter()
        .map(|p| format!("{}: {}", p.name, p.via))
        .collect();
    assert_eq!(via, ["a: a", "b: a → a", "c: a → a → b", "deep: a → a"]);
}

#[test]
fn errors_name_the_request_and_what_the_sources_have() {
    let index = index("Package: libxml2-dev\nVersion: 2.9\n\nPackage: vim\nVersion: 9\n");
    let unknown = solve_with(&index, &[], &["libxml2-dve"], false)
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("no apt source has `libxml2-dve`")
            && unknown.contains("did you mean `libxml2-dev`?"),
        "{unknown}"
    );
    let version = solve_with(&index, &[], &["vim (>= 10)"], false)
        .unwrap_err()
        .to_string();
    assert!(
        version.contains("`vim (>= 10)`") && version.contains("the sources have 9"),
        "{version}"
    );
    let syntax = solve_with(&index, &[], &["vim ("], false)
        .unwrap_err()
        .to_string();
    assert!(syntax.contains("`vim (`"), "{syntax}");
    let several = solve_with(&index, &[], &["vim, libxml2-dev"], false)
        .unwrap_err()
        .to_string();
    assert!(several.contains("several relations"), "{several}");
}

#[test]
fn any_is_met_by_multi_arch_allowed_packages_only() {
    let index = index(
        "Package: py\nVersion: 3\nMulti-Arch: allowed\n\nPackage: plain\nVersion: 1\n\n\
         Package: script\nVersion: 1\nDepends: py:any\n\nPackage: other\nVersion: 1\nDepends: plain:any\n",
    );
    assert_eq!(names(&index, &["script"]), ["py=3", "script=1"]);
    assert!(solve_with(&index, &[], &["other"], false).is_err());
    assert!(solve_with(&index, &[], &["plain:i386"], false).is_err());
}

#[test]
fn an_upgrade_takes_along_the_installed_packages_of_its_source() {
    let index = index(
        "Package: libssl3\nSource: openssl\nVersion: 1\n\nPackage: libssl3\nSource: openssl\nVersion: 2\n\n\
         Package: openssl\nVersion: 1\nDepends: libssl3\n\nPackage: openssl\nVersion: 2\nDepends: libssl3\n\n\
         Package: libssl-dev\nSource: openssl\nVersion: 2\nDepends: libssl3 (= 2)\n\n\
         Package: openssl-tools\nSource: openssl\nVersion: 1\n\n\
         Package: openssl-tools\nSource: openssl\nVersion: 2\nDepends: not-in-any-source\n",
    );
    let base = [
        installed("libssl3", "1", ""),
        installed("openssl", "1", ""),
        installed("openssl-tools", "1", ""),
    ];
    let planned = solve_with(&index, &base, &["libssl-dev"], false).unwrap();
    // openssl-tools 2 cannot be installed: it stays at 1, as apt leaves it.
    assert_eq!(planned, ["libssl-dev=2", "libssl3=2", "openssl=2"]);
}

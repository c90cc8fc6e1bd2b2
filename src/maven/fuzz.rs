//! Fuzz targets of Maven's formats: POMs (the XML reader, the POM, and the effective model built
//! over the seeds as its possible parents and BOMs), property interpolation (generated chains of
//! properties), and versions and ranges (generated version strings, whose order must be a total
//! order). Seeds: the fixture repository and a sample of real Maven Central POMs.

use std::collections::HashMap;
use std::rc::Rc;

use proptest::collection::vec;
use proptest::prelude::*;

use super::coordinate::Gav;
use super::model::{self, ModelError, PomLookup};
use super::pom::Pom;
use super::version::{MavenVersion, VersionRequirement, version_change};
use super::xml;
use crate::fuzz::{self, Outcome, seeds};

/// Tokens of POMs.
const DICTIONARY: &[&str] = &[
    "<project>",
    "</project>",
    "<parent>",
    "<groupId>",
    "</groupId>",
    "<artifactId>",
    "</artifactId>",
    "<version>",
    "</version>",
    "<dependency>",
    "<dependencies>",
    "<dependencyManagement>",
    "<scope>import</scope>",
    "<type>pom</type>",
    "<properties>",
    "<profile>",
    "<activation>",
    "<jdk>[1.8,)</jdk>",
    "<activeByDefault>true</activeByDefault>",
    "<exclusions><exclusion>",
    "<relocation>",
    "${project.version}",
    "${",
    "}",
    "&amp;",
    "&#x41;",
    "&#99999999;",
    "&unknown;",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE p [<!ENTITY e \"x\">]>",
    "<?xml version=\"1.0\"?>",
    "<!--",
    "-->",
    "<",
    ">",
    "/",
    "[",
    "(",
    ",",
];

fn pom_seeds() -> Vec<Vec<u8>> {
    let mut seeds = seeds::read("fixtures/maven/repo", |name| name.ends_with(".pom"), 96);
    if let Some(central) = seeds::corpus("maven/central") {
        let relative = central.strip_prefix(seeds::root()).unwrap_or(&central);
        let folder = relative.to_string_lossy();
        seeds.extend(seeds::read(&folder, |name| name.ends_with(".pom"), 48));
    }
    seeds
}

/// The seeds' POMs by coordinates: the parents and BOMs a fuzzed POM may name.
struct Poms {
    known: HashMap<Gav, Rc<Pom>>,
}

impl Poms {
    fn of(seeds: &[Vec<u8>]) -> Self {
        let known = seeds
            .iter()
            .filter_map(|bytes| Pom::parse(&String::from_utf8_lossy(bytes)).ok())
            .filter_map(|pom| Some((gav_of(&pom)?, Rc::new(pom))))
            .collect();
        Self { known }
    }
}

/// A POM's coordinates, its parent's group and version where it names none.
fn gav_of(pom: &Pom) -> Option<Gav> {
    let parent = pom.parent.as_ref();
    Some(Gav {
        group: pom.group.clone().or_else(|| Some(parent?.group.clone()))?,
        artifact: pom.artifact.clone(),
        version: pom
            .version
            .clone()
            .or_else(|| Some(parent?.version.clone()))?,
    })
}

/// The seeds, with one fuzzed POM in place of the one of its coordinates.
struct WithFuzzed<'a> {
    poms: &'a Poms,
    gav: Gav,
    fuzzed: Rc<Pom>,
}

impl PomLookup for WithFuzzed<'_> {
    fn pom(&self, gav: &Gav) -> Result<Rc<Pom>, ModelError> {
        if *gav == self.gav {
            return Ok(self.fuzzed.clone());
        }
        self.poms
            .known
            .get(gav)
            .cloned()
            .ok_or_else(|| ModelError::Missing(gav.clone()))
    }
}

/// A POM is read or refused without a panic, and its effective model built or refused.
fn pom_property(poms: &Poms, input: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(input);
    let _ = xml::parse(&text);
    let Ok(pom) = Pom::parse(&text) else {
        return Ok(());
    };
    let Some(gav) = gav_of(&pom) else {
        return Ok(());
    };
    let lookup = WithFuzzed {
        poms,
        gav: gav.clone(),
        fuzzed: Rc::new(pom),
    };
    if let Ok(model) = model::build(&lookup, &gav) {
        for dependency in &model.dependencies {
            let _ = VersionRequirement::parse(&dependency.version);
        }
    }
    Ok(())
}

/// A chain of properties: each value literal text and references to the others.
#[derive(Debug, Clone)]
struct Properties(Vec<Vec<Result<usize, String>>>);

fn properties() -> impl Strategy<Value = Properties> {
    let piece = prop_oneof![
        3 => (0usize..12).prop_map(Ok),
        1 => "[a-z0-9.]{0,12}".prop_map(Err),
        1 => "[a-z0-9.]{0,3}".prop_map(|x| Err(x.repeat(1000))),
    ];
    vec(vec(piece, 0..12), 1..12).prop_map(Properties)
}

impl Properties {
    /// A POM declaring the properties `p0`, `p1`, … and a dependency whose version is the last.
    fn pom(&self) -> String {
        let mut properties = String::new();
        for (i, value) in self.0.iter().enumerate() {
            let value: String = value
                .iter()
                .map(|piece| match piece {
                    Ok(other) => format!("${{p{other}}}"),
                    Err(text) => text.clone(),
                })
                .collect();
            properties.push_str(&format!("<p{i}>{value}</p{i}>"));
        }
        format!(
            "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version>\
             <properties>{properties}</properties><dependencies><dependency><groupId>d</groupId>\
             <artifactId>d</artifactId><version>${{p{}}}</version></dependency></dependencies>\
             </project>",
            self.0.len() - 1
        )
    }
}

/// Interpolation ends (an input taking over a second fails), refuses cycles and values past
/// the bound, and leaves no reference to a declared property unexpanded.
fn interpolation_property(input: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(input);
    let Ok(pom) = Pom::parse(&text) else {
        return Ok(());
    };
    let gav = Gav {
        group: "g".into(),
        artifact: "a".into(),
        version: "1".into(),
    };
    let declared: Vec<String> = pom
        .properties
        .iter()
        .map(|(k, _)| format!("${{{k}}}"))
        .collect();
    let lookup = WithFuzzed {
        poms: &Poms {
            known: HashMap::new(),
        },
        gav: gav.clone(),
        fuzzed: Rc::new(pom),
    };
    let Ok(model) = model::build(&lookup, &gav) else {
        return Ok(());
    };
    for dependency in &model.dependencies {
        if dependency.version.len() > model::MAX_EXPANDED {
            return Err(format!("a version of {} bytes", dependency.version.len()));
        }
        if let Some(left) = declared
            .iter()
            .find(|d| dependency.version.contains(d.as_str()))
        {
            return Err(format!("`{left}` is left unexpanded"));
        }
    }
    Ok(())
}

/// Version strings: Maven's qualifiers, numbers and separators, or anything.
fn version() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "[0-9]{1,3}",
        Just("0".to_string()),
        Just("00".to_string()),
        "[0-9]{20,30}",
        proptest::sample::select(vec![
            "alpha",
            "a",
            "beta",
            "b",
            "milestone",
            "m",
            "rc",
            "cr",
            "snapshot",
            "ga",
            "final",
            "release",
            "sp",
            "foo",
            "",
            "RC",
            "SNAPSHOT",
            "é",
        ])
        .prop_map(str::to_string),
        proptest::sample::select(vec![".", "-", "_", " "]).prop_map(str::to_string),
    ];
    prop_oneof![
        5 => vec(token, 0..8).prop_map(|tokens| tokens.concat()),
        1 => any::<String>(),
    ]
}

/// Three versions and a range built of them.
fn versions() -> impl Strategy<Value = (String, String, String, String)> {
    let open = proptest::sample::select(vec!["[", "(", ""]);
    let close = proptest::sample::select(vec!["]", ")", ""]);
    (version(), version(), version(), open, close).prop_map(|(a, b, c, open, close)| {
        let range = format!("{open}{a},{b}{close}");
        (a, b, c, range)
    })
}

/// The order of versions is a total order, equality agrees with it, and ranges read without a
/// panic and hold their own inclusive bounds.
fn version_property((a, b, c, range): &(String, String, String, String)) -> Outcome {
    let [x, y, z] = [a, b, c].map(|text| MavenVersion::parse(text));
    if x.cmp(&y) != y.cmp(&x).reverse() {
        return Err(format!("`{a}` vs `{b}` is not antisymmetric"));
    }
    if x <= y && y <= z && x > z {
        return Err(format!("`{a}` <= `{b}` <= `{c}` but `{a}` > `{c}`"));
    }
    if (x == y) != (x.cmp(&y) == std::cmp::Ordering::Equal) {
        return Err(format!("`{a}` == `{b}` disagrees with the order"));
    }
    let _ = x.change_level(&y);
    let _ = version_change(a, b);
    let requirement = VersionRequirement::parse(range);
    let plain = |text: &str| !text.contains([',', ']', ')', '[', '(']);
    let pinned_both = range.starts_with('[') && range.ends_with(']') && x <= y;
    if let Ok(requirement) = requirement
        && pinned_both
        && plain(a)
        && plain(b)
        && !(requirement.contains(&x) && requirement.contains(&y))
    {
        return Err(format!("`{range}` does not hold both its bounds"));
    }
    Ok(())
}

#[test]
fn fuzz_pom() {
    let seeds = pom_seeds();
    let poms = Poms::of(&seeds);
    fuzz::bytes("pom", seeds, DICTIONARY, |input| pom_property(&poms, input));
}

#[test]
fn fuzz_interpolation() {
    fuzz::run(
        "interpolation",
        properties(),
        |properties| properties.pom().into_bytes(),
        |properties| interpolation_property(properties.pom().as_bytes()),
    );
}

#[test]
fn fuzz_maven_version() {
    fuzz::run(
        "maven-version",
        versions(),
        |(a, b, c, range)| format!("{a}\n{b}\n{c}\n{range}").into_bytes(),
        version_property,
    );
}

/// A regression input of the version target: three versions and a range, one a line.
fn version_lines(input: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(input);
    let mut lines = text.split('\n').map(str::to_string);
    let mut next = || lines.next().unwrap_or_default();
    version_property(&(next(), next(), next(), next()))
}

#[test]
fn fuzz_regressions_replay() {
    let seeds = pom_seeds();
    let poms = Poms::of(&seeds);
    fuzz::replay("pom", |input| pom_property(&poms, input));
    fuzz::replay("interpolation", interpolation_property);
    fuzz::replay("maven-version", version_lines);
}

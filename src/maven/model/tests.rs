//! Effective models built from hand-written POMs.
use std::collections::HashMap;

use super::*;

struct Poms(HashMap<Gav, Rc<Pom>>);

impl PomLookup for Poms {
    fn pom(&self, gav: &Gav) -> Result<Rc<Pom>, ModelError> {
        self.0
            .get(gav)
            .cloned()
            .ok_or_else(|| ModelError::Missing(gav.clone()))
    }
}

fn gav(text: &str) -> Gav {
    let parts: Vec<&str> = text.split(':').collect();
    Gav {
        group: parts[0].into(),
        artifact: parts[1].into(),
        version: parts[2].into(),
    }
}

fn poms(list: &[(&str, &str)]) -> Poms {
    Poms(
        list.iter()
            .map(|(g, text)| (gav(g), Rc::new(Pom::parse(text).unwrap())))
            .collect(),
    )
}

const DEPENDENCY: &str =
    "<dependency><groupId>org.lib</groupId><artifactId>lib</artifactId></dependency>";

#[test]
fn inherits_interpolates_and_manages() {
    let lookup = poms(&[
        (
            "org.x:grand:1",
            r#"<project><groupId>org.x</groupId><artifactId>grand</artifactId><version>1</version>
              <properties><lib.version>2.${lib.minor}</lib.version><lib.minor>5</lib.minor></properties>
              <dependencyManagement><dependencies>
                <dependency><groupId>org.lib</groupId><artifactId>lib</artifactId><version>${lib.version}</version><scope>runtime</scope></dependency>
                <dependency><groupId>org.bom</groupId><artifactId>bom</artifactId><version>7</version><type>pom</type><scope>import</scope></dependency>
              </dependencies></dependencyManagement></project>"#,
        ),
        (
            "org.x:parent:1",
            r#"<project><parent><groupId>org.x</groupId><artifactId>grand</artifactId><version>1</version></parent>
              <artifactId>parent</artifactId>
              <dependencies><dependency><groupId>${project.groupId}</groupId><artifactId>sibling</artifactId><version>${project.version}</version></dependency></dependencies></project>"#,
        ),
        (
            "org.x:app:3",
            &format!(
                r#"<project><parent><groupId>org.x</groupId><artifactId>parent</artifactId><version>1</version></parent>
              <artifactId>app</artifactId><version>3</version>
              <dependencies>{DEPENDENCY}<dependency><groupId>org.bommed</groupId><artifactId>b</artifactId></dependency></dependencies></project>"#
            ),
        ),
        (
            "org.bom:bom:7",
            r#"<project><groupId>org.bom</groupId><artifactId>bom</artifactId><version>7</version><packaging>pom</packaging>
              <dependencyManagement><dependencies>
                <dependency><groupId>org.bommed</groupId><artifactId>b</artifactId><version>9.1</version></dependency>
                <dependency><groupId>org.lib</groupId><artifactId>lib</artifactId><version>0.1</version></dependency>
              </dependencies></dependencyManagement></project>"#,
        ),
    ]);
    let model = build(&lookup, &gav("org.x:app:3")).unwrap();
    let found: Vec<(String, String, Scope)> = model
        .dependencies
        .iter()
        .map(|d| (d.artifact.clone(), d.version.clone(), d.scope.clone()))
        .collect();
    assert_eq!(
        found,
        [
            // Inherited from the parent, interpolated with the child's own version.
            ("sibling".into(), "3".into(), Scope::Compile),
            // Managed by the grandparent (declared management beats the BOM's 0.1).
            ("lib".into(), "2.5".into(), Scope::Runtime),
            // Managed by the imported BOM.
            ("b".into(), "9.1".into(), Scope::Compile),
        ]
    );
}

#[test]
fn missing_poms_are_reported_and_cycles_refused() {
    let lookup = poms(&[(
        "org.x:app:1",
        r#"<project><parent><groupId>org.x</groupId><artifactId>parent</artifactId><version>1</version></parent><artifactId>app</artifactId></project>"#,
    )]);
    assert!(matches!(
        build(&lookup, &gav("org.x:app:1")).unwrap_err(),
        ModelError::Missing(missing) if missing == gav("org.x:parent:1")
    ));
    let lookup = poms(&[(
        "org.x:loop:1",
        r#"<project><groupId>org.x</groupId><artifactId>loop</artifactId><version>1</version>
          <properties><a>${b}</a><b>${a}</b></properties>
          <dependencies><dependency><groupId>org.lib</groupId><artifactId>lib</artifactId><version>${a}</version></dependency></dependencies></project>"#,
    )]);
    let ModelError::Invalid(message) = build(&lookup, &gav("org.x:loop:1")).unwrap_err() else {
        panic!("a cycle is invalid");
    };
    assert!(message.contains("refers to itself"), "{message}");
}

/// A POM whose property `p{levels}` is tenfold `p{levels - 1}`, down to a ten-byte `p0`.
fn expanding_pom(levels: usize, leaf: &str) -> String {
    let mut properties = format!("<p0>{leaf}</p0>");
    for level in 1..=levels {
        let value = format!("${{p{}}}", level - 1).repeat(10);
        properties.push_str(&format!("<p{level}>{value}</p{level}>"));
    }
    format!(
        r#"<project><groupId>org.x</groupId><artifactId>bomb</artifactId><version>1</version>
          <properties>{properties}</properties>
          <dependencies><dependency><groupId>org.lib</groupId><artifactId>lib</artifactId><version>${{p{levels}}}</version></dependency></dependencies></project>"#
    )
}

#[test]
fn expansion_is_bounded() {
    // Eight tenfold levels of ten bytes: a gigabyte, from a POM under a kilobyte.
    let pom = expanding_pom(8, "0123456789");
    assert!(pom.len() < 1024);
    let lookup = poms(&[("org.x:bomb:1", &pom)]);
    let ModelError::Invalid(message) = build(&lookup, &gav("org.x:bomb:1")).unwrap_err() else {
        panic!("an expansion past the bound is invalid");
    };
    assert!(message.contains("org.x:bomb:1"), "{message}");
    assert!(message.contains("64 KiB"), "{message}");
    // Twelve levels that expand to nothing: 10^12 references, done once each per property.
    let pom = expanding_pom(12, "");
    let lookup = poms(&[("org.x:bomb:1", &pom)]);
    let model = build(&lookup, &gav("org.x:bomb:1")).unwrap();
    assert_eq!(model.managed.len(), 0);
    // Just under the bound is fine: four levels of six bytes are 60,000 bytes.
    let pom = expanding_pom(4, "012345");
    let lookup = poms(&[("org.x:bomb:1", &pom)]);
    assert!(build(&lookup, &gav("org.x:bomb:1")).is_ok());
}

#[test]
fn licenses_are_the_nearest_poms_that_names_any() {
    let lookup = poms(&[
        (
            "org.x:parent:1",
            "<project><groupId>org.x</groupId><artifactId>parent</artifactId><version>1</version>
              <licenses><license><name>Apache-2.0</name></license></licenses></project>",
        ),
        (
            "org.x:app:1",
            "<project><parent><groupId>org.x</groupId><artifactId>parent</artifactId><version>1</version></parent>
              <artifactId>app</artifactId></project>",
        ),
        (
            "org.x:own:1",
            "<project><parent><groupId>org.x</groupId><artifactId>parent</artifactId><version>1</version></parent>
              <artifactId>own</artifactId><licenses><license><name>MIT</name></license></licenses></project>",
        ),
    ]);
    let licenses = |g: &str| build(&lookup, &gav(g)).unwrap().licenses;
    assert_eq!(licenses("org.x:app:1"), ["Apache-2.0"]);
    assert_eq!(licenses("org.x:own:1"), ["MIT"]);
}

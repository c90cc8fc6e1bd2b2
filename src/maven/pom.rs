//! One POM file as written: coordinates, parent, properties, dependencies, dependency management
//! and relocation, with nothing inherited or interpolated yet (that is [`super::model`]'s job).

use super::coordinate::Gav;
use super::error::PomError;
use super::xml::{self, Element};

/// A dependency as a POM declares it (values may still hold `${...}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub group: String,
    pub artifact: String,
    pub version: Option<String>,
    /// `type`, `jar` when not given.
    pub kind: String,
    pub classifier: Option<String>,
    pub scope: Option<String>,
    /// `optional` as written (`true`, `false` or a property).
    pub optional: Option<String>,
    /// `(group, artifact)` patterns; `*` matches anything.
    pub exclusions: Vec<(String, String)>,
}

impl Dependency {
    /// What dependency management matches a dependency by: group, artifact, type, classifier.
    pub fn management_key(&self) -> (String, String, String, String) {
        (
            self.group.clone(),
            self.artifact.clone(),
            self.kind.clone(),
            self.classifier.clone().unwrap_or_default(),
        )
    }

    /// The project it names, when it gives a version.
    pub fn gav(&self) -> Option<Gav> {
        Some(Gav {
            group: self.group.clone(),
            artifact: self.artifact.clone(),
            version: self.version.clone()?,
        })
    }
}

/// Where an artifact moved to (`distributionManagement/relocation`); missing parts stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocation {
    pub group: Option<String>,
    pub artifact: Option<String>,
    pub version: Option<String>,
}

/// A parsed POM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pom {
    pub group: Option<String>,
    pub artifact: String,
    pub version: Option<String>,
    pub packaging: String,
    pub parent: Option<Gav>,
    /// `<properties>` in document order.
    pub properties: Vec<(String, String)>,
    pub dependencies: Vec<Dependency>,
    pub managed: Vec<Dependency>,
    pub relocation: Option<Relocation>,
    pub profiles: Vec<Profile>,
    /// The names of its `<licenses>`, in order (inherited from a parent when empty).
    pub licenses: Vec<String>,
}

/// A `<profile>`: what it adds when its activation holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub active_by_default: bool,
    /// `<jdk>`: a version prefix like `1.8`, a range like `[1.8,)`, or either negated with `!`.
    pub jdk: Option<String>,
    /// `<os>`: family, name, arch and version, any of them negated with `!`.
    pub os: Vec<(String, String)>,
    /// `<property>`: a name (negated with `!`) and the value it must have, if any.
    pub property: Option<(String, Option<String>)>,
    /// Whether it has an activation this resolver cannot judge (`<file>`), which keeps it off.
    pub other_activation: bool,
    pub properties: Vec<(String, String)>,
    pub dependencies: Vec<Dependency>,
    pub managed: Vec<Dependency>,
}

impl Pom {
    pub fn parse(text: &str) -> Result<Self, PomError> {
        let root = xml::parse(text)?;
        if root.name != "project" {
            return Err(PomError::NotAProject { root: root.name });
        }
        let artifact = root
            .text_of("artifactId")
            .ok_or(PomError::Incomplete("it has no <artifactId>"))?;
        let parent = root
            .child("parent")
            .map(|parent| -> Result<Gav, PomError> {
                Ok(Gav {
                    group: parent
                        .text_of("groupId")
                        .ok_or(PomError::Incomplete("its <parent> has no <groupId>"))?,
                    artifact: parent
                        .text_of("artifactId")
                        .ok_or(PomError::Incomplete("its <parent> has no <artifactId>"))?,
                    version: parent
                        .text_of("version")
                        .ok_or(PomError::Incomplete("its <parent> has no <version>"))?,
                })
            })
            .transpose()?;
        let properties = properties_of(&root);
        let dependencies = dependencies_of(root.child("dependencies"))?;
        let managed = dependencies_of(root.at(&["dependencyManagement", "dependencies"]))?;
        let relocation = root
            .at(&["distributionManagement", "relocation"])
            .map(|r| Relocation {
                group: r.text_of("groupId"),
                artifact: r.text_of("artifactId"),
                version: r.text_of("version"),
            });
        let profiles = root
            .child("profiles")
            .map(|list| list.children("profile").map(profile_of).collect())
            .transpose()?
            .unwrap_or_default();
        let licenses = root
            .child("licenses")
            .map(|list| {
                list.children("license")
                    .filter_map(|license| license.text_of("name"))
                    .map(|name| name.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|name| !name.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            licenses,
            profiles,
            group: root.text_of("groupId"),
            artifact,
            version: root.text_of("version"),
            packaging: root.text_of("packaging").unwrap_or_else(|| "jar".into()),
            parent,
            properties,
            dependencies,
            managed,
            relocation,
        })
    }
}

fn profile_of(profile: &Element) -> Result<Profile, PomError> {
    let activation = profile.child("activation");
    let os = activation
        .and_then(|a| a.child("os"))
        .map(|os| {
            os.children
                .iter()
                .map(|c| (c.name.clone(), c.text.trim().to_lowercase()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Profile {
        active_by_default: activation
            .and_then(|a| a.text_of("activeByDefault"))
            .as_deref()
            == Some("true"),
        jdk: activation.and_then(|a| a.text_of("jdk")),
        os,
        property: activation
            .and_then(|a| a.child("property"))
            .and_then(|p| Some((p.text_of("name")?, p.text_of("value")))),
        other_activation: activation.is_some_and(|a| a.child("file").is_some()),
        properties: properties_of(profile),
        dependencies: dependencies_of(profile.child("dependencies"))?,
        managed: dependencies_of(profile.at(&["dependencyManagement", "dependencies"]))?,
    })
}

fn dependencies_of(list: Option<&Element>) -> Result<Vec<Dependency>, PomError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.children("dependency")
        .map(|d| {
            Ok(Dependency {
                group: d
                    .text_of("groupId")
                    .ok_or(PomError::Incomplete("a <dependency> has no <groupId>"))?,
                artifact: d
                    .text_of("artifactId")
                    .ok_or(PomError::Incomplete("a <dependency> has no <artifactId>"))?,
                version: d.text_of("version"),
                kind: d.text_of("type").unwrap_or_else(|| "jar".into()),
                classifier: d.text_of("classifier"),
                scope: d.text_of("scope"),
                optional: d.text_of("optional"),
                exclusions: d
                    .child("exclusions")
                    .map(|e| {
                        e.children("exclusion")
                            .map(|x| {
                                (
                                    x.text_of("groupId").unwrap_or_else(|| "*".into()),
                                    x.text_of("artifactId").unwrap_or_else(|| "*".into()),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The `<properties>` of `element` (a project or a profile), in document order, values trimmed.
pub(crate) fn properties_of(element: &Element) -> Vec<(String, String)> {
    element
        .child("properties")
        .map(|p| {
            p.children
                .iter()
                .map(|c| (c.name.clone(), c.text.trim().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_pom_as_written() {
        let pom = Pom::parse(
            r#"<project>
              <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>2</version></parent>
              <artifactId>app</artifactId>
              <properties><lib.version>1.${minor}</lib.version><minor>4</minor></properties>
              <dependencies>
                <dependency>
                  <groupId>org.example</groupId><artifactId>lib</artifactId><version>${lib.version}</version>
                  <exclusions><exclusion><groupId>org.bad</groupId><artifactId>*</artifactId></exclusion></exclusions>
                </dependency>
                <dependency><groupId>org.example</groupId><artifactId>native</artifactId>
                  <classifier>natives</classifier><scope>runtime</scope><optional>true</optional></dependency>
              </dependencies>
              <dependencyManagement><dependencies>
                <dependency><groupId>org.example</groupId><artifactId>bom</artifactId><version>3</version>
                  <type>pom</type><scope>import</scope></dependency>
              </dependencies></dependencyManagement>
              <distributionManagement><relocation><groupId>org.moved</groupId></relocation></distributionManagement>
            </project>"#,
        )
        .unwrap();
        assert_eq!(pom.group, None, "inherited later from the parent");
        assert_eq!(pom.parent.as_ref().unwrap().artifact, "parent");
        assert_eq!(
            pom.properties[0],
            ("lib.version".into(), "1.${minor}".into())
        );
        assert_eq!(
            pom.dependencies[0].exclusions,
            [("org.bad".into(), "*".into())]
        );
        assert_eq!(pom.dependencies[1].classifier.as_deref(), Some("natives"));
        assert_eq!(pom.dependencies[1].optional.as_deref(), Some("true"));
        assert_eq!(pom.managed[0].kind, "pom");
        assert_eq!(pom.relocation.unwrap().group.as_deref(), Some("org.moved"));
        assert!(Pom::parse("<project><groupId>x</groupId></project>").is_err());
    }

    #[test]
    fn reads_the_license_names() {
        let pom = Pom::parse(
            "<project><artifactId>a</artifactId><licenses>
               <license><name>Apache License,
                 Version 2.0</name><url>https://www.apache.org/licenses/LICENSE-2.0</url></license>
               <license><name>MIT</name></license><license><url>x</url></license>
             </licenses></project>",
        )
        .unwrap();
        assert_eq!(pom.licenses, ["Apache License, Version 2.0", "MIT"]);
        let none = Pom::parse("<project><artifactId>a</artifactId></project>").unwrap();
        assert!(none.licenses.is_empty());
    }
}

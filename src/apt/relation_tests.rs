use super::*;

fn one(text: &str) -> Dependency {
    Dependency::parse(text).unwrap()
}

#[test]
fn alternatives_versions_and_qualifiers() {
    let relations = Relations::parse(
        "libc6 (>= 2.34), default-jre-headless | java8-runtime-headless, python3:any (<<3.12),",
    )
    .unwrap();
    assert_eq!(relations.0.len(), 3);
    assert_eq!(relations.0[0].0[0].name, "libc6");
    let constraint = relations.0[0].0[0].constraint.as_ref().unwrap();
    assert_eq!(constraint.operator, Operator::LaterOrEqual);
    assert_eq!(constraint.version.as_str(), "2.34");
    assert_eq!(relations.0[1].0.len(), 2);
    assert_eq!(
        relations.0[1].to_string(),
        "default-jre-headless | java8-runtime-headless"
    );
    let python = &relations.0[2].0[0];
    assert_eq!(python.arch, Some(ArchQualifier::Any));
    assert_eq!(
        python.constraint.as_ref().unwrap().operator,
        Operator::Earlier
    );
    assert_eq!(python.to_string(), "python3:any (<< 3.12)");
}

#[test]
fn every_operator_and_the_obsolete_ones() {
    for (written, operator) in [
        ("<<", Operator::Earlier),
        ("<=", Operator::EarlierOrEqual),
        ("<", Operator::EarlierOrEqual),
        ("=", Operator::Equal),
        (">=", Operator::LaterOrEqual),
        (">", Operator::LaterOrEqual),
        (">>", Operator::Later),
    ] {
        let dependency = one(&format!("a ({written} 1:1.0-1)"));
        assert_eq!(
            dependency.constraint.unwrap().operator,
            operator,
            "{written}"
        );
    }
    assert!(Dependency::parse("a (=> 1)").is_err());
    assert!(Dependency::parse("a (>=)").is_err());
    assert!(Dependency::parse("a (>= x1)").is_err());
}

#[test]
fn constraints_admit_as_dpkg_compares() {
    let constraint = one("a (<< 1.0)").constraint.unwrap();
    assert!(constraint.admits(&Version::parse("1.0~rc1").unwrap()));
    assert!(!constraint.admits(&Version::parse("1.0").unwrap()));
    let constraint = one("a (= 1.0)").constraint.unwrap();
    assert!(constraint.admits(&Version::parse("0:1.0-0").unwrap()));
}

#[test]
fn restrictions_and_profiles_are_read_and_applied_by_architecture() {
    let relations =
        Relations::parse("a [amd64 arm64] <!nocheck> <cross>, b [!amd64], c [linux-any] | d")
            .unwrap();
    let first = &relations.0[0].0[0];
    assert_eq!(first.profiles, vec!["!nocheck", "cross"]);
    assert!(first.restriction.as_ref().unwrap().admits("amd64"));
    let on_amd64 = relations.for_architecture("amd64");
    let names: Vec<String> = on_amd64.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        vec!["a [amd64 arm64] <!nocheck> <cross>", "c [linux-any] | d"]
    );
    let on_i386 = relations.for_architecture("i386");
    let names: Vec<&str> = on_i386.0.iter().map(|g| g.0[0].name.as_str()).collect();
    assert_eq!(names, vec!["b", "c"]);
    assert!(!one("x [any-arm64]").restriction.unwrap().admits("amd64"));
    assert!(Dependency::parse("x [amd64 !i386]").is_err());
}

#[test]
fn provides_take_only_equal_versions() {
    let provided = parse_provides("java-runtime (= 17), libfoo.so.1, default-jvm").unwrap();
    assert_eq!(provided.len(), 3);
    assert_eq!(provided[0].version.as_ref().unwrap().as_str(), "17");
    assert_eq!(provided[1].name, "libfoo.so.1");
    assert!(parse_provides("a (>= 1)").is_err());
    assert!(parse_provides("a | b").is_err());
}

#[test]
fn broken_relations_name_the_piece() {
    for bad in [
        "Libc6", "a (>= 1", "a b", "a [amd64", "a:", "(>= 1)", "a <x",
    ] {
        let error = Relations::parse(bad).unwrap_err();
        assert!(error.to_string().contains('`'), "{bad}: {error}");
    }
}

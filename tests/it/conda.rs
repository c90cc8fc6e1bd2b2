//! conda layers: resolution against the hand-written fixture channels (fixtures/conda, every case
//! of its README with the expected answer), served on 127.0.0.1 or read through `file:` URLs:
//! layers, kept pins and errors.

use std::collections::BTreeSet;

use sha2::Digest;

use crate::support::conda::*;
use crate::support::{Project, Server, copy_dir, stderr};

// ---- the fixture cases (fixtures/conda/README.md) --------------------------------------------

#[test]
fn case1_a_package_in_both_formats_is_locked_as_conda() {
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        "",
        &[("env", &["dualfmt"])],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let packages = lock_packages(&lock);
    assert_eq!(
        triples(&packages),
        expected(&[
            ("dualfmt", "1.0.0", "h5eee18b_0"),
            ("libzbase", "1.0.2", "h7f8727e_0")
        ])
    );
    let dualfmt = find(&packages, "dualfmt");
    assert_eq!(
        dualfmt.url,
        format!(
            "{}/main/linux-64/dualfmt-1.0.0-h5eee18b_0.conda",
            server.url()
        )
    );
    assert_eq!(dualfmt.repository, format!("{}/main", server.url()));
    let file = conda_channels().join("main/linux-64/dualfmt-1.0.0-h5eee18b_0.conda");
    assert_eq!(dualfmt.sha256, sha256_of(&file), "the .conda file's hash");
    assert_eq!(dualfmt.size as u64, std::fs::metadata(&file).unwrap().len());
    assert_eq!(
        dualfmt.md5,
        hex::encode(md5::Md5::digest(std::fs::read(&file).unwrap()))
    );
    assert!(dualfmt.requested);
    assert_eq!(dualfmt.dependencies, ["libzbase"]);
    assert_eq!(dualfmt.depends, ["libzbase >=1.0"]);
    let libzbase = find(&packages, "libzbase");
    assert_eq!(libzbase.file_name(), "libzbase-1.0.2-h7f8727e_0.tar.bz2");
    assert!(!libzbase.requested);
    assert_eq!(libzbase.subdir, "linux-64");
    assert_eq!(virtual_packages(&lock), DEFAULT_VIRTUAL);
    // Locking reads only repodata: no package file is downloaded.
    let repodata = server.hits("/main/linux-64/repodata.json")
        + server.hits("/main/noarch/repodata.json")
        + server.hits("/forge/linux-64/repodata.json")
        + server.hits("/forge/noarch/repodata.json");
    assert!(repodata >= 4, "every channel's two subdirs are read");
    assert_eq!(
        server.hits("/main/linux-64/dualfmt-1.0.0-h5eee18b_0.conda")
            + server.hits("/main/linux-64/libzbase-1.0.2-h7f8727e_0.tar.bz2"),
        0
    );
}

#[test]
fn case2_a_track_features_variant_loses_despite_its_higher_build_number() {
    let packages = solve_ok(&["featpkg"], "", &[]);
    let featpkg = find(&packages, "featpkg");
    assert_eq!(
        (featpkg.version.as_str(), featpkg.build.as_str()),
        ("1.0", "h5eee18b_0")
    );
    assert_eq!(featpkg.build_number, 0);
    assert_eq!(featpkg.file_name(), "featpkg-1.0-h5eee18b_0.tar.bz2");
    assert_eq!(packages.len(), 1);
    // Asked for by build number, the featured build is chosen.
    let packages = solve_ok(&["featpkg[build_number=1]"], "", &[]);
    assert_eq!(find(&packages, "featpkg").build, "debug_h5eee18b_1");
}

#[test]
fn case3_the_image_glibc_gates_builds() {
    // Default glibc 2.17: newglibc-tool 2.0 needs __glibc >=2.28.
    let packages = solve_ok(&["newglibc-tool"], "", &[]);
    let tool = find(&packages, "newglibc-tool");
    assert_eq!(
        (tool.version.as_str(), tool.build.as_str()),
        ("1.0", "h7b6447c_0")
    );
    assert_eq!(tool.file_name(), "newglibc-tool-1.0-h7b6447c_0.tar.bz2");

    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        "glibc = \"2.28\"",
        &[("env", &["newglibc-tool"])],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let tool = find(&lock_packages(&lock), "newglibc-tool").clone();
    assert_eq!(
        (tool.version.as_str(), tool.build.as_str()),
        ("2.0", "h7b6447c_0")
    );
    assert_eq!(tool.file_name(), "newglibc-tool-2.0-h7b6447c_0.conda");
    assert!(
        virtual_packages(&lock).contains(&"__glibc=2.28=0".to_string()),
        "{lock}"
    );

    // Older than every build's floor: nothing fits.
    let message = solve_fails(
        &["main", "forge"],
        &["newglibc-tool"],
        "glibc = \"2.12\"",
        &[],
    );
    assert!(message.contains("newglibc-tool"), "{message}");
    assert!(message.contains("__glibc"), "{message}");

    // A CUDA driver adds __cuda and changes nothing here.
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        "cuda = \"11.8\"",
        &[("env", &["newglibc-tool"])],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    assert_eq!(find(&lock_packages(&lock), "newglibc-tool").version, "1.0");
    let mut with_cuda: Vec<String> = DEFAULT_VIRTUAL.iter().map(|s| s.to_string()).collect();
    with_cuda.push("__cuda=11.8=0".into());
    assert_eq!(virtual_packages(&lock), with_cuda);
}

#[test]
fn case4_conflicting_requirements_fail_naming_both_and_the_package_between_them() {
    let message = solve_fails(&["main", "forge"], &["conflict-a", "conflict-b"], "", &[]);
    for word in ["conflict-a", "conflict-b", "libzed"] {
        assert!(message.contains(word), "`{word}` in:\n{message}");
    }
    assert!(
        !message.contains("__root__"),
        "the solver's internal name is not shown:\n{message}"
    );
}

#[test]
fn case5_channels_have_strict_priority() {
    // 5a: main first; forge's newer sharedpkg is masked.
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        "",
        &[("env", &["sharedpkg"])],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let packages = lock_packages(&project.lock().unwrap());
    let shared = find(&packages, "sharedpkg");
    assert_eq!(
        (shared.version.as_str(), shared.build.as_str()),
        ("1.0", "h7b6447c_0")
    );
    assert_eq!(shared.repository, format!("{}/main", server.url()));
    assert_eq!(
        shared.url,
        format!(
            "{}/main/linux-64/sharedpkg-1.0-h7b6447c_0.tar.bz2",
            server.url()
        )
    );

    // 5c: python from main only (forge's 3.10.4 is masked).
    let packages = solve_ok(&["python"], "", &[]);
    assert_eq!(
        triples(&packages),
        expected(&[
            ("libzbase", "1.0.2", "h7f8727e_0"),
            ("python", "3.9.7", "h12debd9_1")
        ])
    );
    assert_eq!(find(&packages, "python").build_number, 1);

    // 5d: so python 3.10.* cannot be had from [main, forge].
    let message = solve_fails(&["main", "forge"], &["python 3.10.*"], "", &[]);
    assert!(message.contains("python"), "{message}");

    // 5c': with [forge, main] it can.
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["forge", "main"],
        "",
        &[("env", &["python 3.10.*"])],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let packages = lock_packages(&project.lock().unwrap());
    assert_eq!(
        triples(&packages),
        expected(&[("python", "3.10.4", "h4bc722e_0_cpython")])
    );
}

#[test]
fn case5b_forge_first_over_absolute_file_urls() {
    let forge = conda_channels().join("forge");
    let main = conda_channels().join("main");
    let channels = vec![
        format!("file://{}", forge.display()),
        format!("file://{}", main.display()),
    ];
    let project = Project::new(&conda_spec(
        &channels,
        "",
        &[("env", &["sharedpkg", "tini"])],
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let packages = lock_packages(&project.lock().unwrap());
    let shared = find(&packages, "sharedpkg");
    assert_eq!(
        (shared.version.as_str(), shared.build.as_str()),
        ("2.0", "h4bc722e_0")
    );
    let file = forge.join("linux-64/sharedpkg-2.0-h4bc722e_0.conda");
    assert_eq!(shared.url, format!("file://{}", file.display()));
    assert_eq!(shared.repository, channels[0]);
    assert_eq!(shared.sha256, sha256_of(&file));
    assert_eq!(find(&packages, "tini").version, "0.19.0");
}

#[test]
fn case6_noarch_packages_come_from_the_noarch_subdir() {
    let server = serve_fixtures();
    let (project, output) =
        resolve_http(&server, &["main", "forge"], "", &[("env", &["pyfoo"])], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let packages = lock_packages(&project.lock().unwrap());
    assert_eq!(
        triples(&packages),
        expected(&[
            ("libzbase", "1.0.2", "h7f8727e_0"),
            ("pyfoo", "1.0.0", "pyhd3eb1b0_0"),
            ("python", "3.9.7", "h12debd9_1"),
        ])
    );
    let pyfoo = find(&packages, "pyfoo");
    assert_eq!(pyfoo.subdir, "noarch");
    assert_eq!(
        pyfoo.url,
        format!(
            "{}/main/noarch/pyfoo-1.0.0-pyhd3eb1b0_0.tar.bz2",
            server.url()
        )
    );
    assert_eq!(pyfoo.dependencies, ["python"]);
    assert_eq!(find(&packages, "python").subdir, "linux-64");

    // 6b: noarch: generic from the second channel.
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        "",
        &[("env", &["python", "tzdataish"])],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let packages = lock_packages(&project.lock().unwrap());
    let tzdata = find(&packages, "tzdataish");
    assert_eq!(
        (tzdata.version.as_str(), tzdata.build.as_str()),
        ("2022a", "h191b570_0")
    );
    assert_eq!(tzdata.subdir, "noarch");
    assert_eq!(tzdata.repository, format!("{}/forge", server.url()));
    assert_eq!(
        tzdata.url,
        format!(
            "{}/forge/noarch/tzdataish-2022a-h191b570_0.conda",
            server.url()
        )
    );
    assert_eq!(find(&packages, "python").version, "3.9.7");
}

fn dask_expected(daskish: &str) -> BTreeSet<(String, String, String)> {
    expected(&[
        ("daskish", daskish, "pyhd3eb1b0_0"),
        ("liblz4ish", "1.9.3", "h295c915_1"),
        ("libzbase", "1.0.2", "h7f8727e_0"),
        ("lz4ish", "4.0.2", "py38h295c915_0"),
        ("python", "3.8.10", "h12debd9_0"),
        ("tini", "0.19.0", "h166bdaf_1"),
    ])
}

#[test]
fn case7a_a_dask_worker_like_set() {
    let server = serve_fixtures();
    let (project, output) = resolve_http(&server, &["main", "forge"], "", &[("env", &DASK)], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let packages = lock_packages(&lock);
    assert_eq!(triples(&packages), dask_expected("2023.3.0"));
    let file = |name: &str| find(&packages, name).file_name().to_string();
    assert_eq!(file("daskish"), "daskish-2023.3.0-pyhd3eb1b0_0.conda");
    assert_eq!(file("lz4ish"), "lz4ish-4.0.2-py38h295c915_0.tar.bz2");
    assert_eq!(file("liblz4ish"), "liblz4ish-1.9.3-h295c915_1.conda");
    assert_eq!(
        find(&packages, "tini").url,
        format!(
            "{}/forge/linux-64/tini-0.19.0-h166bdaf_1.conda",
            server.url()
        )
    );
    let requested: BTreeSet<&str> = packages
        .iter()
        .filter(|p| p.requested)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        requested,
        BTreeSet::from(["daskish", "lz4ish", "python", "tini"])
    );
    let daskish = find(&packages, "daskish");
    assert_eq!(daskish.dependencies, ["lz4ish", "python"]);
    let value: toml::Value = toml::from_str(&lock).unwrap();
    assert!(value["resolution"].get("exclude-newer").is_none());
    // Every hash is the real file's.
    for p in &packages {
        let channel = if p.name == "tini" { "forge" } else { "main" };
        let path = conda_channels().join(format!("{channel}/{}/{}", p.subdir, p.file_name()));
        assert_eq!(p.sha256, sha256_of(&path), "{}", p.name);
    }
}

#[test]
fn case7b_exclude_newer_drops_later_records() {
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        "",
        &[("env", &DASK)],
        &["--exclude-newer", "2023-01-01T00:00:00Z"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let packages = lock_packages(&lock);
    assert_eq!(triples(&packages), dask_expected("2022.12.0"));
    assert_eq!(
        find(&packages, "daskish").file_name(),
        "daskish-2022.12.0-pyhd3eb1b0_0.tar.bz2"
    );
    let value: toml::Value = toml::from_str(&lock).unwrap();
    assert_eq!(
        value["resolution"]["exclude-newer"].as_str(),
        Some("2023-01-01T00:00:00Z")
    );
}

#[test]
fn case7c_exclude_newer_can_remove_a_whole_dependency() {
    let message = solve_fails(
        &["main", "forge"],
        &["zedtool"],
        "",
        &["--exclude-newer", "2022-01-01T00:00:00Z"],
    );
    assert!(message.contains("zedtool"), "{message}");
    // Without the limit it solves (case 8), so the limit is what made it fail.
    solve_ok(&["zedtool"], "", &[]);
}

#[test]
fn case8_a_dependency_chain_is_locked_with_its_edges() {
    let packages = solve_ok(&["zedtool"], "", &[]);
    assert_eq!(
        triples(&packages),
        expected(&[
            ("libzbase", "1.0.2", "h7f8727e_0"),
            ("libzed", "2.1.0", "h7f8727e_0"),
            ("zedcli", "1.2.0", "h295c915_0"),
            ("zedtool", "0.9.0", "h295c915_0"),
        ])
    );
    assert_eq!(
        find(&packages, "zedtool").dependencies,
        ["libzed", "zedcli"]
    );
    assert_eq!(find(&packages, "zedcli").dependencies, ["libzed"]);
    assert_eq!(find(&packages, "libzed").dependencies, ["libzbase"]);
    assert!(find(&packages, "libzbase").dependencies.is_empty());
    assert_eq!(find(&packages, "libzed").depends, ["libzbase >=1.0,<2.0a0"]);
    assert_eq!(
        find(&packages, "libzed").file_name(),
        "libzed-2.1.0-h7f8727e_0.conda"
    );
}

#[test]
fn relative_file_channels_keep_the_lock_free_of_machine_paths() {
    let project = Project::new("");
    copy_dir(&conda_channels(), &project.path("mirror"));
    project.write_spec(&conda_spec(
        &["file:mirror/main".into(), "file:mirror/forge".into()],
        "",
        &[("env", &DASK)],
    ));
    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lock = project.lock().unwrap();
    let packages = lock_packages(&lock);
    assert_eq!(triples(&packages), dask_expected("2023.3.0"));
    assert_eq!(
        find(&packages, "daskish").url,
        "file:mirror/main/noarch/daskish-2023.3.0-pyhd3eb1b0_0.conda"
    );
    assert_eq!(find(&packages, "daskish").repository, "file:mirror/main");
    assert_eq!(
        find(&packages, "tini").url,
        "file:mirror/forge/linux-64/tini-0.19.0-h166bdaf_1.conda"
    );
    let value: toml::Value = toml::from_str(&lock).unwrap();
    assert_eq!(
        strings(value["resolution"].get("conda-channels")),
        ["file:mirror/main", "file:mirror/forge"]
    );
    let dir = project.dir.path().to_string_lossy().into_owned();
    let real = project.dir.path().canonicalize().unwrap();
    assert!(!lock.contains(&dir), "{lock}");
    assert!(!lock.contains(real.to_string_lossy().as_ref()), "{lock}");
    assert!(!lock.contains("file://"), "{lock}");
    assert!(!lock.contains(env!("CARGO_MANIFEST_DIR")), "{lock}");
}

// ---- layers, pins, errors ---------------------------------------------------------------------

#[test]
fn a_higher_layer_solves_with_the_lower_layers_records() {
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        "",
        &[("base", &["python 3.8.*"]), ("extra", &["lz4ish"])],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let packages = lock_packages(&project.lock().unwrap());
    let layer_of = |name: &str| find(&packages, name).layer.clone();
    assert_eq!(layer_of("python"), "base");
    assert_eq!(layer_of("libzbase"), "base");
    assert_eq!(find(&packages, "python").version, "3.8.10");
    // Alone, lz4ish would take python 3.9 and its py39 build; on top of base it takes py38.
    let lz4ish = find(&packages, "lz4ish");
    assert_eq!(lz4ish.layer, "extra");
    assert_eq!(lz4ish.build, "py38h295c915_0");
    assert_eq!(layer_of("liblz4ish"), "extra");
    for name in ["python", "libzbase"] {
        assert_eq!(
            packages.iter().filter(|p| p.name == name).count(),
            1,
            "{name} is locked once: {packages:#?}"
        );
    }
    assert_eq!(packages.len(), 4);
    let alone = solve_ok(&["lz4ish"], "", &[]);
    assert_eq!(find(&alone, "lz4ish").build, "py39h295c915_0");
}

#[test]
fn a_higher_layer_cannot_change_a_lower_layers_pin() {
    let message = {
        let server = serve_fixtures();
        let (project, output) = resolve_http(
            &server,
            &["main", "forge"],
            "",
            &[("base", &["python 3.8.*"]), ("top", &["python 3.9.*"])],
            &[],
        );
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(project.lock().is_none());
        stderr(&output)
    };
    assert!(
        message.contains("cannot resolve the conda packages of layer `top`:"),
        "{message}"
    );
    assert!(message.contains("python"), "{message}");
}

#[test]
fn re_resolving_keeps_the_previous_pins_unless_upgraded() {
    let server = serve_fixtures();
    let (project, output) = resolve_http(
        &server,
        &["main", "forge"],
        "",
        &[("env", &DASK)],
        &["--exclude-newer", "2023-01-01T00:00:00Z"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        find(&lock_packages(&project.lock().unwrap()), "daskish").version,
        "2022.12.0"
    );

    let output = project.run(&["resolve"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let packages_now = lock_packages(&project.lock().unwrap());
    assert_eq!(
        triples(&packages_now),
        dask_expected("2022.12.0"),
        "the lock's daskish is kept although 2023.3.0 is now allowed"
    );

    let output = project.run(&["resolve", "--upgrade-package", "daskish"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        triples(&lock_packages(&project.lock().unwrap())),
        dask_expected("2023.3.0")
    );

    let output = project.run(&[
        "resolve",
        "--exclude-newer",
        "2023-01-01T00:00:00Z",
        "--upgrade",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        triples(&lock_packages(&project.lock().unwrap())),
        dask_expected("2022.12.0")
    );
    let output = project.run(&["resolve", "--upgrade"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        triples(&lock_packages(&project.lock().unwrap())),
        dask_expected("2023.3.0")
    );
}

#[test]
fn a_bad_match_spec_names_its_place() {
    let text = conda_spec(
        &["https://conda.example.invalid/main".into()],
        "",
        &[("env", &["python 3.8.*", "python >=>3"])],
    );
    let project = Project::new(&text);
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(project.lock().is_none());
    let message = stderr(&output);
    // Where the entry's opening quote is.
    let offset = text.find("\"python >=>3\"").unwrap();
    let line = text[..offset].matches('\n').count() + 1;
    let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    let place = format!("imglock.toml:{line}:{column}:");
    assert!(message.contains(&place), "{place} in:\n{message}");
    assert!(message.contains("python >=>3"), "{message}");
    assert!(message.contains("layer `env`"), "{message}");

    let text = conda_spec(
        &["https://conda.example.invalid/main".into()],
        "",
        &[("env", &["py*"])],
    );
    let project = Project::new(&text);
    let output = project.run(&["resolve"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    let offset = text.find("\"py*\"").unwrap();
    let line = text[..offset].matches('\n').count() + 1;
    let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    assert!(
        message.contains(&format!("imglock.toml:{line}:{column}:")),
        "{message}"
    );
    assert!(message.contains("exact package name"), "{message}");
}

#[test]
fn a_misspelt_package_fails_by_name() {
    let message = solve_fails(&["main", "forge"], &["zedtoool"], "", &[]);
    assert!(message.contains("zedtoool"), "{message}");
}

#[test]
fn a_malformed_repodata_digest_is_refused_naming_the_index_and_the_package() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&conda_channels(), copy.path());
    let repodata = copy.path().join("main/linux-64/repodata.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&repodata).unwrap()).unwrap();
    json["packages"]["libzbase-1.0.2-h7f8727e_0.tar.bz2"]["sha256"] = "abc".into();
    std::fs::write(&repodata, serde_json::to_string(&json).unwrap()).unwrap();
    let server = Server::start(copy.path());
    let (project, output) = resolve_http(&server, &["main"], "", &[("env", &["dualfmt"])], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("/main/linux-64/repodata.json")
            && text.contains("libzbase-1.0.2-h7f8727e_0.tar.bz2")
            && text.contains("sha256"),
        "{text}"
    );
    assert!(project.lock().is_none(), "no lock is written");
}

#[test]
fn a_remote_channel_may_not_point_the_lock_at_local_files() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&conda_channels(), copy.path());
    let repodata = copy.path().join("main/linux-64/repodata.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&repodata).unwrap()).unwrap();
    json["info"]["base_url"] = "file:///etc/".into();
    json["repodata_version"] = 2.into();
    std::fs::write(&repodata, serde_json::to_string(&json).unwrap()).unwrap();
    let server = Server::start(copy.path());
    let (project, output) = resolve_http(&server, &["main"], "", &[("env", &["dualfmt"])], &[]);
    let text = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{text}\n{:?}",
        project.lock()
    );
    assert!(
        text.contains(&format!("the repository `{}/main`", server.url()))
            && text.contains("http:// or https://"),
        "{text}"
    );
    // The error names the package file and the URL the channel gave it.
    let file = text
        .split("names `file:///etc/")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(text.contains(&format!("for {file},")), "{text}");
    assert!(project.lock().is_none(), "no lock is written");
}

#[test]
fn a_channel_without_zst_repodata_costs_no_round_of_its_own() {
    let server = Server::start(&conda_channels());
    let latency = std::time::Duration::from_millis(300);
    server.set_latency(latency);
    let (_project, output) = resolve_http(&server, &["main"], "", &[("env", &["dualfmt"])], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let arrivals = server.arrivals();
    let repodata: Vec<_> = arrivals
        .iter()
        .filter(|(path, _)| path.contains("/repodata.json"))
        .collect();
    // Both forms of both subdirs (.zst and .json) are asked in the first round, and no .bz2.
    assert_eq!(repodata.len(), 4, "{repodata:?}");
    let first = repodata.iter().map(|(_, at)| *at).min().unwrap();
    for (path, at) in &repodata {
        assert!(
            *at < first + latency / 2,
            "{path} was asked for {:?} after the first repodata",
            *at - first
        );
    }
}

#[test]
fn a_channel_with_only_bz2_repodata_is_read_from_it_a_round_later() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&conda_channels(), copy.path());
    for subdir in ["linux-64", "noarch"] {
        let folder = copy.path().join("main").join(subdir);
        let json = std::fs::read(folder.join("repodata.json")).unwrap();
        let mut bz2 = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        std::io::Write::write_all(&mut bz2, &json).unwrap();
        std::fs::write(folder.join("repodata.json.bz2"), bz2.finish().unwrap()).unwrap();
        std::fs::remove_file(folder.join("repodata.json")).unwrap();
    }
    let server = Server::start(copy.path());
    let latency = std::time::Duration::from_millis(200);
    server.set_latency(latency);
    let (project, output) = resolve_http(&server, &["main"], "", &[("env", &["dualfmt"])], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(project.lock().is_some());
    let arrivals = server.arrivals();
    let first = arrivals.iter().map(|(_, at)| *at).min().unwrap();
    for subdir in ["linux-64", "noarch"] {
        let asked = |file: &str| {
            let path = format!("/main/{subdir}/{file}");
            let times: Vec<_> = arrivals.iter().filter(|(p, _)| *p == path).collect();
            assert_eq!(times.len(), 1, "{path}: {arrivals:?}");
            times[0].1
        };
        // The .bz2 is asked once both forms before it answered 404.
        assert!(asked("repodata.json.zst") < first + latency / 2);
        assert!(asked("repodata.json") < first + latency / 2);
        assert!(asked("repodata.json.bz2") >= first + latency);
    }
}

#[test]
fn zst_repodata_is_preferred_and_the_plain_json_beside_it_is_not_read() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&conda_channels(), copy.path());
    let subdir = copy.path().join("main/linux-64");
    let json = std::fs::read(subdir.join("repodata.json")).unwrap();
    let zst = zstd::encode_all(&json[..], 3).unwrap();
    std::fs::write(subdir.join("repodata.json.zst"), zst).unwrap();
    std::fs::write(subdir.join("repodata.json"), b"{ not json").unwrap();
    let server = Server::start(copy.path());
    let (project, output) = resolve_http(&server, &["main"], "", &[("env", &["dualfmt"])], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(project.lock().is_some());
}

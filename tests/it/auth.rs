//! Private repositories: a loopback server that requires HTTP basic authentication serves the
//! PyPI recording and the Maven fixture repository; credentials come from netrc, from the
//! environment variables of the host, from the spec's repository URL, or from the `keyring`
//! command (`IMGLOCK_KEYRING_PROVIDER=subprocess`), and the secret never
//! shows in the lock, the Dockerfile or anything printed.

use std::path::Path;
use std::process::{Command, Output};

use crate::maven;
use crate::pypi::{EXCLUDE_NEWER, python_spec};
use crate::support::{self, Fault, Project, Server, output_text};

const USER: &str = "alice";
const SECRET: &str = "S3cretPassw0rd";

/// A server of `root` that wants `USER` and `SECRET`.
fn private_server(root: &Path) -> Server {
    let server = Server::start(root);
    server.require_basic_auth(USER, SECRET);
    server
}

/// The environment of a run whose home is `home` (empty: no `~/.netrc`) and whose netrc is
/// `netrc` (below `home`; a missing file is no netrc).
fn environment(home: &Path, netrc: &str) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), home.display().to_string()),
        ("NETRC".into(), home.join(netrc).display().to_string()),
    ]
}

/// The environment of a run without credentials anywhere.
fn no_credentials(home: &Path) -> Vec<(String, String)> {
    environment(home, "absent")
}

/// The environment of a run whose netrc (`NETRC`) holds the servers' credentials.
fn with_netrc(home: &Path) -> Vec<(String, String)> {
    std::fs::write(
        home.join("netrc"),
        format!("machine 127.0.0.1\n  login {USER}\n  password {SECRET}\n"),
    )
    .unwrap();
    environment(home, "netrc")
}

/// The environment of a run whose credentials are the host's environment variables.
fn with_variables(home: &Path, server: &Server) -> Vec<(String, String)> {
    let port = server.url().rsplit(':').next().unwrap().to_string();
    let mut environment = no_credentials(home);
    let name = format!("IMGLOCK_AUTH_127_0_0_1_{port}");
    environment.push((format!("{name}_USERNAME"), USER.into()));
    environment.push((format!("{name}_PASSWORD"), SECRET.into()));
    environment
}

fn run(project: &Project, args: &[&str], environment: &[(String, String)]) -> Output {
    let environment: Vec<(&str, &str)> = environment
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    project.run_with(args, &environment)
}

fn pypi_project(index: &str) -> Project {
    Project::new(&python_spec(index, &[("py", &["idna==3.3"])]))
}

fn resolve_pypi(project: &Project, environment: &[(String, String)]) -> Output {
    run(
        project,
        &["resolve", "--exclude-newer", EXCLUDE_NEWER],
        environment,
    )
}

/// The `[resolution]` list of origins that need credentials.
fn authenticated_origins(lock: &str) -> Vec<String> {
    let value: toml::Value = toml::from_str(lock).unwrap();
    value["resolution"]
        .get("authenticated-origins")
        .and_then(toml::Value::as_array)
        .map(|origins| {
            origins
                .iter()
                .map(|o| o.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_private_index_wants_credentials_and_the_error_says_how_to_give_them() {
    let server = private_server(&crate::pypi::fixtures());
    let home = tempfile::tempdir().unwrap();
    let project = pypi_project(&format!("{}/simple", server.url()));
    let output = resolve_pypi(&project, &no_credentials(home.path()));
    let text = output_text(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    let port = server.url().rsplit(':').next().unwrap().to_string();
    for expected in [
        "answered HTTP 401",
        &format!(
            "the repository at {} wants credentials and none were sent",
            server.url()
        ),
        &format!("IMGLOCK_AUTH_127_0_0_1_{port}_USERNAME"),
        &format!("IMGLOCK_AUTH_127_0_0_1_{port}_PASSWORD"),
        "machine 127.0.0.1 login USER password PASSWORD",
        "NETRC",
        "IMGLOCK_KEYRING_PROVIDER=subprocess",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from: {text}");
    }
    assert!(server.refused() > 0);

    // Wrong credentials are refused, and said to be.
    let wrong = format!("{}/simple", server.url()).replace("http://", "http://alice:WrongOne@");
    let project = pypi_project(&wrong);
    assert_wrong_password_refused(&resolve_pypi(&project, &no_credentials(home.path())));
}

/// The run was refused the password `WrongOne`, said so, and did not show it.
fn assert_wrong_password_refused(output: &Output) {
    let text = output_text(output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("refused the credentials sent"), "{text}");
    assert!(!text.contains("WrongOne"), "the password is shown: {text}");
}

#[test]
fn a_private_pypi_index_resolves_with_netrc_or_environment_variables() {
    let server = private_server(&crate::pypi::fixtures());
    let home = tempfile::tempdir().unwrap();
    for environment in [
        with_netrc(home.path()),
        with_variables(home.path(), &server),
    ] {
        let project = pypi_project(&format!("{}/simple", server.url()));
        let output = resolve_pypi(&project, &environment);
        assert!(output.status.success(), "{}", output_text(&output));
        let lock = project.lock().unwrap();
        assert_eq!(authenticated_origins(&lock), [server.url()], "{lock}");
        let output = run(&project, &["emit", "--out", "build"], &environment);
        assert!(output.status.success(), "{}", output_text(&output));
        let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
        assert!(
            dockerfile
                .contains("--mount=type=secret,id=imglock-netrc,target=/run/secrets/imglock-netrc")
                && dockerfile.contains("export NETRC=/run/secrets/imglock-netrc"),
            "{dockerfile}"
        );
    }
}

#[test]
fn a_private_maven_repository_resolves_and_its_emitted_step_downloads_with_the_netrc_secret() {
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&maven::repository(), served.path());
    let server = private_server(served.path());
    let home = tempfile::tempdir().unwrap();
    let spec = maven::spec(
        &server.url(),
        "maven = [\"org.imglock.fixture:leaf-k:1.0\"]",
    );
    let project = Project::new(&spec);
    let output = run(&project, &["resolve"], &no_credentials(home.path()));
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    assert!(output_text(&output).contains("wants credentials"));
    let mut dockerfile = String::new();
    for environment in [
        with_variables(home.path(), &server),
        with_netrc(home.path()),
    ] {
        let project = Project::new(&spec);
        let output = run(&project, &["resolve"], &environment);
        assert!(output.status.success(), "{}", output_text(&output));
        let lock = project.lock().unwrap();
        assert_eq!(authenticated_origins(&lock), [server.url()]);
        let output = run(&project, &["emit", "--out", "build"], &environment);
        assert!(output.status.success(), "{}", output_text(&output));
        dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
        assert!(
            dockerfile.contains(
                "RUN --mount=type=secret,id=imglock-netrc,target=/run/secrets/imglock-netrc"
            ) && dockerfile.contains("curl -fsSL --netrc-file /run/secrets/imglock-netrc -o"),
            "{dockerfile}"
        );
    }
    // The emitted step, run for real with the netrc where the build's secret would be,
    // downloads the jar from the private repository; with no netrc there, it fails.
    let step = |root: &Path, netrc: &Path| {
        maven::maven_step(&dockerfile, root)
            .replace("/run/secrets/imglock-netrc", netrc.to_str().unwrap())
    };
    let root = tempfile::tempdir().unwrap();
    let output = sh(&step(root.path(), &home.path().join("netrc")));
    assert!(output.status.success(), "{}", output_text(&output));
    let jars = std::fs::read_dir(root.path().join("databricks/jars"))
        .unwrap()
        .count();
    assert_eq!(jars, 1);
    let fresh = tempfile::tempdir().unwrap();
    let output = sh(&step(fresh.path(), &home.path().join("absent")));
    assert!(!output.status.success(), "{}", output_text(&output));
}

fn sh(command: &str) -> Output {
    Command::new("sh").args(["-c", command]).output().unwrap()
}

#[test]
fn a_password_written_in_the_repository_url_is_in_no_output() {
    let server = private_server(&crate::pypi::fixtures());
    let home = tempfile::tempdir().unwrap();
    let environment = no_credentials(home.path());
    let index =
        format!("{}/simple", server.url()).replace("http://", &format!("http://{USER}:{SECRET}@"));
    let project = pypi_project(&index);
    let mut outputs = Vec::new();
    let output = run(
        &project,
        &["resolve", "--exclude-newer", EXCLUDE_NEWER, "--verbose"],
        &environment,
    );
    assert!(output.status.success(), "{}", output_text(&output));
    outputs.push(output_text(&output));
    let first = project.lock().unwrap();
    assert_eq!(authenticated_origins(&first), [server.url()]);
    std::fs::write(project.path("first.lock"), &first).unwrap();
    // A second layer: every command that reads the spec or the locks prints what it does.
    project.write_spec(&python_spec(
        &index,
        &[("py", &["idna==3.3"]), ("more", &["six"])],
    ));
    let steps: [(&[&str], i32); 9] = [
        (&["check"], 1),
        (
            &[
                "resolve",
                "--exclude-newer",
                EXCLUDE_NEWER,
                "--dry-run",
                "--verbose",
            ],
            0,
        ),
        (&["resolve", "--exclude-newer", EXCLUDE_NEWER], 0),
        (&["check"], 0),
        (&["check", "--format", "json"], 0),
        (&["diff", "first.lock", "imglock.lock"], 1),
        (
            &["diff", "first.lock", "imglock.lock", "--format", "json"],
            1,
        ),
        (&["emit", "--out", "build", "--verbose"], 0),
        (&["tree"], 0),
    ];
    for (args, code) in steps {
        let output = run(&project, args, &environment);
        let text = format!("{args:?}: {}", output_text(&output));
        assert_eq!(output.status.code(), Some(code), "{text}");
        outputs.push(text);
    }
    let lock = project.lock().unwrap();
    assert!(
        lock.contains("[[layer.package]]\necosystem = \"pypi\"\nname = \"six\""),
        "{lock}"
    );
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("--mount=type=secret,id=imglock-netrc"),
        "{dockerfile}"
    );
    // A failing resolve (the server now wants another password) names the repository only.
    server.require_basic_auth(USER, "another");
    let output = run(
        &project,
        &["resolve", "--exclude-newer", EXCLUDE_NEWER, "--refresh"],
        &environment,
    );
    assert_eq!(output.status.code(), Some(2));
    outputs.push(output_text(&output));
    let mut files = vec![lock, first, dockerfile];
    for file in support::walk(&project.path("build")) {
        files.push(String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned());
    }
    for (index, text) in outputs.iter().chain(&files).enumerate() {
        assert!(
            !text.contains(SECRET),
            "output {index} holds the secret: {text}"
        );
        assert!(
            !text.contains(&format!("{USER}:")),
            "output {index} holds the user: {text}"
        );
    }
}

#[test]
fn a_private_cran_repository_resolves_and_its_r_step_reads_the_netrc_secret() {
    let server = private_server(&support::fixtures());
    let home = tempfile::tempdir().unwrap();
    let written =
        format!("{}/cran", server.url()).replace("http://", &format!("http://{USER}:{SECRET}@"));
    let project = Project::new(&support::spec(
        &format!("cran = [\"{written}\"]"),
        "[[layer]]\nname = \"r\"\ncran = [\"corekit\"]",
    ));
    let environment = no_credentials(home.path());
    let mut outputs = Vec::new();
    for args in [&["resolve"][..], &["emit", "--out", "build"]] {
        let output = run(&project, args, &environment);
        outputs.push(output_text(&output));
        assert!(output.status.success(), "{}", output_text(&output));
    }
    let lock = project.lock().unwrap();
    assert_eq!(authenticated_origins(&lock), [server.url()]);
    assert!(
        lock.contains(&format!("repository = \"{}/cran\"", server.url())),
        "{lock}"
    );
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    let step = &dockerfile[dockerfile.find("imglock-r-jobs").unwrap_or(0)..];
    assert!(step.contains("imglock-r-install corekit"), "{dockerfile}");
    assert!(
        dockerfile
            .contains("--mount=type=secret,id=imglock-netrc,target=/run/secrets/imglock-netrc")
            && dockerfile.contains("IMGLOCK_NETRC=/run/secrets/imglock-netrc"),
        "{dockerfile}"
    );
    for text in outputs.iter().chain([&lock, &dockerfile]) {
        assert!(!text.contains(SECRET), "{text}");
    }
}

/// A real build of an image whose Python and Maven layers come from private repositories:
/// buildah gives the steps the netrc as the secret `imglock-netrc`; without it the build fails,
/// and the image's history never holds the password.
#[test]
fn an_image_from_private_repositories_builds_with_the_netrc_secret() {
    let Some(digest) = crate::image_build::base_digest() else {
        return;
    };
    let pypi = private_server(&crate::pypi::fixtures());
    let served = tempfile::tempdir().unwrap();
    support::copy_dir(&maven::repository(), served.path());
    let jars = private_server(served.path());
    let home = tempfile::tempdir().unwrap();
    let environment = with_netrc(home.path());
    let project = Project::new(&format!(
        "[image]\nname = \"private\"\nbase = \"localhost/imglock-test-base@{digest}\"\npython = \"3.11\"\n\n\
         [repositories]\npypi = \"{}/simple\"\nmaven = [\"{}\"]\n\n\
         [[layer]]\nname = \"py\"\npypi = [\"idna==3.3\"]\n\n\
         [[layer]]\nname = \"jars\"\nmaven = [\"org.imglock.fixture:leaf-k:1.0\"]\nmaven-target = \"/opt/jars\"\n",
        pypi.url(),
        jars.url()
    ));
    for args in [
        &["resolve", "--exclude-newer", EXCLUDE_NEWER][..],
        &["emit", "--out", "build"],
    ] {
        let output = run(&project, args, &environment);
        assert!(output.status.success(), "{}", output_text(&output));
    }
    let tag = format!("localhost/imglock-auth-test-{}:1", std::process::id());
    let mut cleanup = crate::image_build::Cleanup(vec![tag.clone()]);
    let netrc = home.path().join("netrc");
    let secret = format!("id=imglock-netrc,src={}", netrc.display());
    let (output, _) = crate::image_build::build(&project, "build", &tag, &["--secret", &secret]);
    assert!(output.status.success(), "{}", output_text(&output));
    let container = format!("imglock-auth-probe-{}", std::process::id());
    let output = crate::image_build::buildah(&["from", "--name", &container, &tag]);
    assert!(output.status.success(), "{}", output_text(&output));
    cleanup.0.push(container.clone());
    let output = crate::image_build::buildah(&[
        "run",
        &container,
        "--",
        "sh",
        "-c",
        "python3 -c 'import idna; print(idna.__version__)' && ls /opt/jars && ! test -e /run/secrets/imglock-netrc",
    ]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(
        output_text(&output).contains("3.3"),
        "{}",
        output_text(&output)
    );
    assert!(
        output_text(&output).contains("leaf-k-1.0.jar"),
        "{}",
        output_text(&output)
    );
    let output = crate::image_build::buildah(&["inspect", "--type", "image", &tag]);
    assert!(!output_text(&output).contains(SECRET));

    // Without the secret, the private repositories refuse the downloads.
    let refused = pypi.refused() + jars.refused();
    let without = format!("localhost/imglock-auth-test-{}:2", std::process::id());
    cleanup.0.push(without.clone());
    let (output, _) = crate::image_build::build(&project, "build", &without, &["--no-cache"]);
    assert!(!output.status.success(), "{}", output_text(&output));
    assert!(pypi.refused() + jars.refused() > refused);
}

/// A child image's lock holds its parent's layers: the origins those needed credentials for
/// stay listed beside the child's own, so the child's Dockerfile gives both steps the secret.
#[test]
fn a_child_image_keeps_the_origins_its_parent_needed_credentials_for() {
    let cran = private_server(&support::fixtures());
    let pypi = private_server(&crate::pypi::fixtures());
    let home = tempfile::tempdir().unwrap();
    let project = Project::new("");
    let written =
        format!("{}/cran", cran.url()).replace("http://", &format!("http://{USER}:{SECRET}@"));
    let parent = format!(
        "[image]\nname = \"parent\"\nbase = \"docker.io/rocker/r-ver:4.2.2@sha256:{}\"\nr = \"4.2.2\"\npython = \"3.8\"\n\n\
         [repositories]\ncran = [\"{written}\"]\n\n[[layer]]\nname = \"r\"\ncran = [\"corekit\"]\n",
        "a".repeat(64)
    );
    let child = format!(
        "extends = \"../parent/imglock.toml\"\n\n[image]\nname = \"child\"\n\n\
         [repositories]\npypi = \"{}/simple\"\n\n[[layer]]\nname = \"py\"\npypi = [\"idna==3.3\"]\n",
        pypi.url()
    );
    for (folder, text) in [("parent", &parent), ("child", &child)] {
        std::fs::create_dir_all(project.path(folder)).unwrap();
        std::fs::write(project.path(folder).join("imglock.toml"), text).unwrap();
    }
    let environment = with_variables(home.path(), &pypi);
    for args in [
        &["resolve", "--spec", "parent/imglock.toml"][..],
        &[
            "resolve",
            "--spec",
            "child/imglock.toml",
            "--exclude-newer",
            EXCLUDE_NEWER,
        ],
        &["emit", "--lock", "child/imglock.lock", "--out", "build"],
    ] {
        let output = run(&project, args, &environment);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            output_text(&output)
        );
    }
    let lock = std::fs::read_to_string(project.path("child/imglock.lock")).unwrap();
    let mut expected = vec![cran.url(), pypi.url()];
    expected.sort();
    assert_eq!(authenticated_origins(&lock), expected, "{lock}");
    let dockerfile = std::fs::read_to_string(project.path("build/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("IMGLOCK_NETRC=/run/secrets/imglock-netrc"),
        "{dockerfile}"
    );
    assert!(
        dockerfile.contains("export NETRC=/run/secrets/imglock-netrc"),
        "{dockerfile}"
    );
    assert!(!lock.contains(SECRET) && !dockerfile.contains(SECRET));
}

/// Credentials go to their repository's origin only: a redirect to another host (another port
/// here) arrives there without them.
#[test]
fn a_redirect_to_another_origin_drops_the_credentials() {
    let private = private_server(&crate::pypi::fixtures());
    let elsewhere = Server::start(&crate::pypi::fixtures());
    let home = tempfile::tempdir().unwrap();
    let page = "/simple/idna/";
    private.inject(
        page,
        vec![Fault::Redirect {
            status: 302,
            location: format!("{}{page}", elsewhere.url()),
        }],
    );
    let project = pypi_project(&format!("{}/simple", private.url()));
    let output = resolve_pypi(&project, &with_variables(home.path(), &private));
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(private.authorization(page).is_some());
    assert_eq!(elsewhere.hits(page), 1);
    assert_eq!(elsewhere.authorization(page), None);
}

/// The environment of the `keyring` command and of imglock asking it: a plain-text keyring file
/// below `home`, the provider chosen, no netrc.
fn with_keyring(home: &Path) -> Vec<(String, String)> {
    let mut environment = no_credentials(home);
    environment.extend([
        (
            "XDG_DATA_HOME".into(),
            home.join("data").display().to_string(),
        ),
        (
            "XDG_CONFIG_HOME".into(),
            home.join("config").display().to_string(),
        ),
        (
            "PYTHON_KEYRING_BACKEND".into(),
            "keyrings.alt.file.PlaintextKeyring".into(),
        ),
        ("IMGLOCK_KEYRING_PROVIDER".into(), "subprocess".into()),
    ]);
    environment
}

/// `keyring set SERVICE USER` storing `password` in the keyring of `environment`; false when the
/// `keyring` command (with keyrings.alt) is missing.
fn keyring_set(environment: &[(String, String)], service: &str, password: &str) -> bool {
    use std::io::Write;
    let child = Command::new("keyring")
        .args(["set", service, USER])
        .envs(environment.iter().map(|(key, value)| (key, value)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    output.status.success()
}

#[test]
fn a_password_from_the_keyring_completes_a_known_user_name() {
    let server = private_server(&crate::pypi::fixtures());
    let home = tempfile::tempdir().unwrap();
    let mut environment = with_keyring(home.path());
    let host = server.url().trim_start_matches("http://").to_string();
    let installed = keyring_set(&environment, &host, SECRET);
    if !support::available(installed, "the `keyring` command with keyrings.alt") {
        return;
    }
    // The user name from the host's variable, the password from the keyring.
    let port = host.rsplit(':').next().unwrap();
    environment.push((
        format!("IMGLOCK_AUTH_127_0_0_1_{port}_USERNAME"),
        USER.into(),
    ));
    let project = pypi_project(&format!("{}/simple", server.url()));
    let output = resolve_pypi(&project, &environment);
    let text = output_text(&output);
    assert!(output.status.success(), "{text}");
    let lock = project.lock().unwrap();
    assert_eq!(authenticated_origins(&lock), [server.url()], "{lock}");
    assert!(
        !text.contains(SECRET) && !lock.contains(SECRET),
        "{text}{lock}"
    );

    // The user name from the spec's URL; a wrong password in the keyring is refused.
    assert!(keyring_set(&environment, &host, "WrongOne"));
    let index = format!("{}/simple", server.url()).replace("http://", &format!("http://{USER}@"));
    let project = pypi_project(&index);
    assert_wrong_password_refused(&resolve_pypi(&project, &with_keyring(home.path())));

    // Without the `keyring` command, or with one that fails, the error says what to do.
    let broken = [
        (
            "PATH",
            home.path().display().to_string(),
            "pip install keyring",
        ),
        (
            "PYTHON_KEYRING_BACKEND",
            "no.such.Backend".into(),
            "No module named 'no'; fix the keyring (`keyring --list-backends`)",
        ),
    ];
    for (name, value, expected) in broken {
        let mut environment = with_keyring(home.path());
        environment.push((name.into(), value));
        let output = resolve_pypi(&project, &environment);
        let text = output_text(&output);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(text.contains(expected), "{text}");
    }
}

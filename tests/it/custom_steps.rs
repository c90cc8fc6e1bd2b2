//! Custom steps (`env`, `workdir`, `copy`, `run`, `user` in a layer; `entrypoint` and `cmd` on
//! the image): read with located errors, locked (a `copy` file by its sha256), emitted after the
//! layer's packages in the spec's order and quoted, shown by `diff`, and placed for the cache.

use crate::support::{Project, Server, fixtures, output_text, sha256_hex, spec, stderr};

/// Layer `r` installs plotkit (and its closure) then runs `steps`; layer `tools` installs
/// headerlib after it. The image gets `tini` as its entrypoint.
fn spec_with_steps(server: &Server, steps: &str) -> String {
    let text = spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        &format!(
            "[[layer]]\nname = \"r\"\ncran = [\"plotkit\"]\nsteps = [\n{steps}\n]\n\n[[layer]]\nname = \"tools\"\ncran = [\"headerlib\"]"
        ),
    );
    text.replacen(
        "r = \"4.2.2\"\n",
        "r = \"4.2.2\"\nentrypoint = [\"tini\", \"--\"]\ncmd = [\"R\", \"--no-save\"]\n",
        1,
    )
}

const STEPS: &str = r#"  { env = { LANG = "C.UTF-8", MOTD = "say \"hi\" \\ $HOME" } },
  { workdir = "/opt/app" },
  { copy = "conf/app.conf", to = "/etc/app/" },
  { copy = "conf/start.sh", to = "/usr/local/bin/start-app", mode = "0750" },
  { run = "useradd -m dask && echo 'ready' > /opt/app/ready" },
  { user = "dask" },"#;

/// A project with the spec of `steps` and its `conf/app.conf`.
fn project(server: &Server, steps: &str) -> Project {
    let project = Project::new(&spec_with_steps(server, steps));
    std::fs::create_dir_all(project.path("conf")).unwrap();
    std::fs::write(project.path("conf/app.conf"), "threads = 4\n").unwrap();
    std::fs::write(project.path("conf/start.sh"), START).unwrap();
    project
}

/// The script the steps copy with mode `0750`.
const START: &str = "#!/bin/sh\necho started\n";

fn run_ok(project: &Project, args: &[&str]) -> String {
    let output = project.run(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        output_text(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn resolve_and_emit(project: &Project, out: &str) -> String {
    run_ok(project, &["resolve"]);
    run_ok(project, &["emit", "--out", out]);
    std::fs::read_to_string(project.path(out).join("Dockerfile")).unwrap()
}

/// The Dockerfile's instruction lines (comments and blank lines dropped).
fn instruction_lines(dockerfile: &str) -> Vec<&str> {
    dockerfile
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn steps_follow_the_layers_packages_in_order_quoted_and_packages_install_as_root() {
    let server = Server::start(&fixtures());
    let project = project(&server, STEPS);
    let dockerfile = resolve_and_emit(&project, "build");
    let sha = sha256_hex(b"threads = 4\n");
    let lock = project.lock().unwrap();
    assert!(
        lock.contains(&format!(
            "\n[[layer.step]]\ncopy = \"conf/app.conf\"\nto = \"/etc/app/\"\nsha256 = \"{sha}\"\n"
        )),
        "{lock}"
    );
    assert!(lock.contains("to = \"/usr/local/bin/start-app\"\nmode = \"0750\"\nsha256"));
    assert!(lock.contains("entrypoint = [\"tini\", \"--\"]\ncmd = [\"R\", \"--no-save\"]\n"));
    let lines = instruction_lines(&dockerfile);
    let at = |wanted: &str| {
        lines
            .iter()
            .position(|l| *l == wanted)
            .unwrap_or_else(|| panic!("no line `{wanted}` in:\n{dockerfile}"))
    };
    let steps = [
        at(r#"ENV LANG="C.UTF-8" MOTD="say \"hi\" \\ $HOME""#),
        at("WORKDIR /opt/app"),
        at(&format!("COPY imglock-artifacts/{sha}/app.conf /etc/app/")),
        at(&format!(
            "COPY --chmod=0750 imglock-artifacts/{}/start.sh /usr/local/bin/start-app",
            sha256_hex(START.as_bytes())
        )),
        at("RUN useradd -m dask && echo 'ready' > /opt/app/ready"),
        at("USER dask"),
        at("USER root"),
        at("ENTRYPOINT [\"tini\",\"--\"]"),
        at("CMD [\"R\",\"--no-save\"]"),
    ];
    assert!(steps.is_sorted(), "{dockerfile}");
    // After every R step of layer `r`, before headerlib's (run as root), then back to `dask`.
    let r_steps: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("RUN --mount"))
        .collect();
    let (&headerlib, r_steps) = r_steps.split_last().unwrap();
    // The step's lines: RUN, the cache key's export, the scheduler, then its packages.
    assert!(
        lines[headerlib..]
            .iter()
            .take(4)
            .any(|l| l.contains("headerlib")),
        "{dockerfile}"
    );
    assert!(r_steps.iter().all(|&i| i < steps[0]), "{dockerfile}");
    assert!(steps[6] < headerlib);
    assert_eq!(lines.iter().filter(|l| **l == "USER dask").count(), 2);
    assert!(lines.iter().rposition(|l| *l == "USER dask").unwrap() > headerlib);
    // The file is in the build context, with its bytes.
    let copied = project.path(&format!("build/imglock-artifacts/{sha}/app.conf"));
    assert_eq!(std::fs::read(copied).unwrap(), b"threads = 4\n");
    // No value added an instruction: what Docker's parser reads is what was written.
    let instructions = imglock::emit::instructions(&dockerfile);
    assert_eq!(
        instructions.len(),
        lines.iter().filter(|l| !l.starts_with(' ')).count()
    );
}

#[test]
fn a_changed_step_rebuilds_only_what_follows_it() {
    let server = Server::start(&fixtures());
    let project = project(&server, STEPS);
    let before = resolve_and_emit(&project, "before");
    run_ok(&project, &["resolve"]);
    std::fs::copy(project.path("imglock.lock"), project.path("old.lock")).unwrap();
    let changed = STEPS.replace("useradd -m dask", "useradd -m -u 1000 dask");
    project.write_spec(&spec_with_steps(&server, &changed));
    let after = resolve_and_emit(&project, "after");
    let first_difference = before
        .lines()
        .zip(after.lines())
        .position(|(a, b)| a != b)
        .unwrap();
    // The header names the lock's sha256; past it, everything up to the changed `run` is equal.
    let (old_lines, new_lines): (Vec<&str>, Vec<&str>) = (
        before.lines().skip(1).collect(),
        after.lines().skip(1).collect(),
    );
    assert_eq!(
        first_difference, 0,
        "only the header's lock hash differs first"
    );
    let changed_at = new_lines
        .iter()
        .position(|l| l.contains("useradd -m -u 1000"))
        .unwrap();
    assert_eq!(old_lines[..changed_at], new_lines[..changed_at]);
    assert!(
        new_lines[..changed_at]
            .iter()
            .any(|l| l.contains("plotkit"))
    );
    assert_eq!(old_lines[changed_at + 1..], new_lines[changed_at + 1..]);
    // `diff` says which step changed, and that layer `r`'s package steps stay cached.
    let output = project.run(&["diff", "old.lock", "imglock.lock", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let diff: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(diff["steps"][0]["kind"], "changed");
    assert_eq!(
        diff["steps"][0]["new"],
        "run useradd -m -u 1000 dask && echo 'ready' > /opt/app/ready"
    );
    let output = project.run(&["diff", "old.lock", "imglock.lock", "--format", "markdown"]);
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(
        markdown.contains("### Layer `r`: custom steps\n\n- step changed: run useradd -m dask && echo 'ready' > /opt/app/ready → run useradd -m -u 1000 dask"),
        "{markdown}"
    );
    let r = &diff["cache"][0];
    assert_eq!(r["layer"], "r");
    assert_eq!(r["rebuilt_packages"], 0);
    assert!(r["first_rebuilt_step"].as_u64().unwrap() > 1, "{r}");
}

#[test]
fn a_copied_files_bytes_are_part_of_the_lock() {
    let server = Server::start(&fixtures());
    let project = project(&server, STEPS);
    run_ok(&project, &["resolve"]);
    run_ok(&project, &["check"]);
    std::fs::copy(project.path("imglock.lock"), project.path("old.lock")).unwrap();
    std::fs::write(project.path("conf/app.conf"), "threads = 8\n").unwrap();
    let output = project.run(&["check"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stale: {}",
        output_text(&output)
    );
    assert!(
        output_text(&output).contains(
            "conf/app.conf (layer `r`) changed since it was resolved; run `imglock resolve`"
        ),
        "{}",
        output_text(&output)
    );
    let output = project.run(&["emit", "--out", "stale"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "the lock's bytes are checked"
    );
    assert!(stderr(&output).contains("app.conf"), "{}", stderr(&output));
    run_ok(&project, &["resolve"]);
    run_ok(&project, &["check"]);
    let (old_sha, new_sha) = (sha256_hex(b"threads = 4\n"), sha256_hex(b"threads = 8\n"));
    assert!(project.lock().unwrap().contains(&new_sha));
    let text = String::from_utf8_lossy(&project.run(&["diff", "old.lock", "imglock.lock"]).stdout)
        .into_owned();
    assert!(
        text.contains(&format!(
            "step changed: copy conf/app.conf → /etc/app/ (sha256 {}) → copy conf/app.conf → /etc/app/ (sha256 {})",
            &old_sha[..12],
            &new_sha[..12]
        )),
        "{text}"
    );
    run_ok(&project, &["emit", "--out", "fresh"]);
    let copied = project.path(&format!("fresh/imglock-artifacts/{new_sha}/app.conf"));
    assert_eq!(std::fs::read(copied).unwrap(), b"threads = 8\n");
}

/// The error `imglock check` gives for a spec whose layer has `steps`.
fn spec_error(steps: &str) -> String {
    let server = Server::start(&fixtures());
    let project = project(&server, steps);
    std::os::unix::fs::symlink("/etc/passwd", project.path("conf/outside")).unwrap();
    let output = project.run(&["resolve"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{steps}: {}",
        output_text(&output)
    );
    assert!(project.lock().is_none());
    stderr(&output)
}

#[test]
fn bad_steps_are_refused_at_their_place() {
    // The spec's line 15 holds the step; the column is where its bad value starts.
    for (step, column, message) in [
        (
            r#"{ run = "echo a\nRUN touch /pwned" }"#,
            9,
            "holds a line break",
        ),
        (r#"{ run = "--network=host curl x" }"#, 9, "starts with `-`"),
        (r#"{ run = "cat <<EOF" }"#, 9, "here-document"),
        (r#"{ run = "echo \\" }"#, 9, "ends with `\\`"),
        (
            r#"{ copy = "../secret", to = "/x" }"#,
            10,
            "has a `..` component",
        ),
        (
            r#"{ copy = "/etc/passwd", to = "/x" }"#,
            10,
            "is an absolute path",
        ),
        (
            r#"{ copy = "conf/outside", to = "/x" }"#,
            10,
            "leads out of the spec's folder",
        ),
        (
            r#"{ copy = "conf/missing", to = "/x" }"#,
            10,
            "cannot read the file",
        ),
        (r#"{ copy = "conf/app.conf" }"#, 10, "`copy` needs `to`"),
        (
            r#"{ copy = "conf/app.conf", to = "/etc/$X" }"#,
            32,
            "may hold only",
        ),
        (
            r#"{ copy = "conf/app.conf", to = "/x", mode = "999" }"#,
            45,
            "three or four octal digits",
        ),
        (
            r#"{ run = "x", mode = "0755" }"#,
            21,
            "`mode` goes with `copy` only",
        ),
        (r#"{ workdir = "opt" }"#, 13, "must be an absolute path"),
        (r#"{ user = "a b" }"#, 10, "must be a user name"),
        (r#"{ env = { "A-B" = "x" } }"#, 19, "`env` variable `A-B`"),
        (
            r#"{ run = "a", user = "b" }"#,
            1,
            "a step is a table of one of",
        ),
        (r#"{ rn = "x" }"#, 3, "unknown field `rn`"),
    ] {
        let error = spec_error(&format!("{step},"));
        assert!(
            error.contains(&format!("imglock.toml:15:{column}: ")),
            "{step}: {error}"
        );
        assert!(error.contains(message), "{step}: {error}");
    }
}

#[test]
fn an_empty_entrypoint_is_refused_at_its_place() {
    let server = Server::start(&fixtures());
    let text = spec_with_steps(&server, "").replace("[\"tini\", \"--\"]", "[]");
    let project = Project::new(&text);
    let output = project.run(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("imglock.toml:5:14: `entrypoint` is empty"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_hostile_lock_step_is_refused() {
    let server = Server::start(&fixtures());
    let project = project(&server, STEPS);
    run_ok(&project, &["resolve"]);
    let lock = project.lock().unwrap();
    for (from, to, problem) in [
        (
            "run = \"useradd",
            "run = \"echo\\nRUN touch /pwned && useradd",
            "holds a line break",
        ),
        (
            "copy = \"conf/app.conf\"",
            "copy = \"/etc/shadow\"",
            "is an absolute path",
        ),
        (
            "user = \"dask\"",
            "user = \"dask\\nRUN x\"",
            "must be a user name",
        ),
        (
            "workdir = \"/opt/app\"",
            "workdir = \"/opt/$(id)\"",
            "may hold only",
        ),
    ] {
        assert!(lock.contains(from), "{from}");
        std::fs::write(project.path("imglock.lock"), lock.replacen(from, to, 1)).unwrap();
        let output = project.run(&["emit", "--out", "build"]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{to}: {}",
            output_text(&output)
        );
        assert!(
            stderr(&output).contains(problem),
            "{to}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn locks_without_steps_read_and_write_as_before() {
    let server = Server::start(&fixtures());
    let text = spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        "[[layer]]\nname = \"r\"\ncran = [\"plotkit\"]",
    );
    let project = Project::new(&text);
    run_ok(&project, &["resolve"]);
    let lock = project.lock().unwrap();
    assert!(
        !lock.contains("step") && !lock.contains("entrypoint"),
        "{lock}"
    );
    let dockerfile = resolve_and_emit(&project, "build");
    assert!(!dockerfile.contains("USER") && !dockerfile.contains("ENTRYPOINT"));
}

/// A real buildah build of steps only, then a layer of packages after a `user` step: the image
/// has the environment, folder, file, user, entrypoint and command the spec says, and the
/// package installed as root.
#[test]
fn a_real_build_has_what_the_steps_say() {
    use crate::image_build::{Cleanup, base_digest, build, buildah};
    let Some(digest) = base_digest() else { return };
    let server = Server::start(&fixtures());
    let text = spec(
        &format!("cran = [\"{}/cran\"]", server.url()),
        &format!(
            "[[layer]]\nname = \"app\"\nsteps = [\n{STEPS}\n]\n\n[[layer]]\nname = \"tools\"\ncran = [\"tinyleaf\"]"
        ),
    )
    .replacen(
        &format!("docker.io/rocker/r-ver:4.2.2@sha256:{}", "a".repeat(64)),
        &format!("localhost/imglock-test-base@{digest}"),
        1,
    )
    .replacen("r = \"4.2.2\"\n", "r = \"4.2.2\"\nentrypoint = [\"sh\", \"-c\"]\ncmd = [\"id -un\"]\n", 1);
    let project = Project::new(&text);
    std::fs::create_dir_all(project.path("conf")).unwrap();
    std::fs::write(project.path("conf/app.conf"), "threads = 4\n").unwrap();
    std::fs::write(project.path("conf/start.sh"), START).unwrap();
    resolve_and_emit(&project, "build");
    let tag = format!("localhost/imglock-steps-test-{}:1", std::process::id());
    let mut cleanup = Cleanup(vec![tag.clone()]);
    let (output, seconds) = build(&project, "build", &tag, &[]);
    assert!(output.status.success(), "{}", output_text(&output));
    eprintln!("custom steps image build: {seconds:.1} s");

    let output = buildah(&["inspect", "--type", "image", &tag]);
    let inspected: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let config = &inspected["OCIv1"]["config"];
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"LANG=C.UTF-8"), "{env:?}");
    // `$HOME` is expanded by the build (the base image sets no HOME: empty).
    assert!(env.contains(&"MOTD=say \"hi\" \\ "), "{env:?}");
    assert_eq!(config["WorkingDir"], "/opt/app");
    assert_eq!(config["User"], "dask");
    assert_eq!(config["Entrypoint"], serde_json::json!(["sh", "-c"]));
    assert_eq!(config["Cmd"], serde_json::json!(["id -un"]));

    let container = format!("imglock-steps-probe-{}", std::process::id());
    let output = buildah(&["from", "--name", &container, &tag]);
    assert!(output.status.success(), "{}", output_text(&output));
    cleanup.0.push(container.clone());
    let probe = "id -un && pwd && cat /etc/app/app.conf /opt/app/ready \
                 && stat -c %a /usr/local/bin/start-app \
                 && Rscript -e 'library(tinyleaf); cat(\"tinyleaf ok\\n\")'";
    let output = buildah(&["run", &container, "--", "sh", "-c", probe]);
    let shown = output_text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(
        shown.starts_with("dask\n/opt/app\nthreads = 4\nready\n750\n")
            && shown.contains("tinyleaf ok"),
        "{shown}"
    );
}

/// Values an attacker (or a damaged lock) might put in a step.
const HOSTILE: &[&str] = &[
    "x\nRUN touch /pwned",
    "x\r\nRUN touch /pwned",
    "x\\\nRUN touch /pwned",
    "x \\",
    "cat <<EOF",
    "--security=insecure touch /pwned",
    "$(touch /pwned)",
    "x' ; touch /pwned ; '",
    "x\" ; touch /pwned ; \"",
    "x\\",
    "x\u{0}y",
];

/// Every step value of a lock, replaced by each hostile value: `emit` refuses it, naming the
/// lock and the step's key, or writes exactly the instructions it meant.
#[test]
fn hostile_step_values_in_a_lock_are_refused_or_stay_in_their_instruction() {
    let server = Server::start(&fixtures());
    let project = project(&server, STEPS);
    run_ok(&project, &["resolve"]);
    let lock = project.lock().unwrap();
    let emit = |text: &str| {
        std::fs::write(project.path("hostile.lock"), text).unwrap();
        let output = project.run(&["emit", "--lock", "hostile.lock", "--out", "out"]);
        match output.status.code() {
            Some(0) => Ok(std::fs::read_to_string(project.path("out/Dockerfile")).unwrap()),
            _ => Err(stderr(&output)),
        }
    };
    let intended = imglock::emit::instructions(&emit(&lock).unwrap());
    // A TOML basic string on one line (JSON's escapes are TOML's), key or value.
    let q = |value: &str| serde_json::to_string(value).unwrap();
    type Line = fn(&dyn Fn(&str) -> String, &str) -> String;
    let fields: [(&str, &str, Line); 10] = [
        ("env = ", "env.MOTD", |q, v| {
            format!("env = {{ LANG = \"C.UTF-8\", MOTD = {} }}", q(v))
        }),
        ("env = ", "`env` variable", |q, v| {
            format!("env = {{ {} = \"x\" }}", q(v))
        }),
        ("workdir = ", "`workdir`", |q, v| {
            format!("workdir = {}", q(v))
        }),
        ("copy = ", "`copy`", |q, v| format!("copy = {}", q(v))),
        ("to = ", "`to`", |q, v| format!("to = {}", q(v))),
        ("mode = ", "`mode`", |q, v| format!("mode = {}", q(v))),
        ("run = ", "`run`", |q, v| format!("run = {}", q(v))),
        ("user = ", "`user`", |q, v| format!("user = {}", q(v))),
        ("entrypoint = ", "`entrypoint`", |q, v| {
            format!("entrypoint = [{}]", q(v))
        }),
        ("cmd = ", "`cmd`", |q, v| format!("cmd = [\"R\", {}]", q(v))),
    ];
    let lines: Vec<&str> = lock.lines().collect();
    for (start, key, line) in fields {
        let at = lines
            .iter()
            .position(|l| l.starts_with(start))
            .expect(start);
        for value in HOSTILE {
            let mut changed = lines.clone();
            let replaced = line(&q, value);
            changed[at] = &replaced;
            match emit(&(changed.join("\n") + "\n")) {
                Ok(dockerfile) => assert_eq!(
                    imglock::emit::instructions(&dockerfile),
                    intended,
                    "{replaced}:\n{dockerfile}"
                ),
                Err(message) => assert!(
                    message.contains("hostile.lock") && message.contains(key),
                    "{replaced}: {message}"
                ),
            }
        }
    }
}

/// A lock kept in another folder than the spec names the copied file relative to itself, and
/// emit finds it there.
#[test]
fn a_lock_elsewhere_names_the_copied_file_from_its_own_folder() {
    let server = Server::start(&fixtures());
    let project = project(&server, STEPS);
    run_ok(&project, &["resolve", "--lock", "locks/imglock.lock"]);
    let lock = std::fs::read_to_string(project.path("locks/imglock.lock")).unwrap();
    assert!(lock.contains("copy = \"../conf/app.conf\"\n"), "{lock}");
    run_ok(&project, &["check", "--lock", "locks/imglock.lock"]);
    run_ok(
        &project,
        &["emit", "--lock", "locks/imglock.lock", "--out", "build"],
    );
    let sha = sha256_hex(b"threads = 4\n");
    let copied = project.path(&format!("build/imglock-artifacts/{sha}/app.conf"));
    assert_eq!(std::fs::read(copied).unwrap(), b"threads = 4\n");
}

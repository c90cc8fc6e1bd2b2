//! One command of a `RUN` line, told apart: an install imglock takes over (its packages, in
//! the spec's words), install plumbing imglock does itself, or a command kept as a `run` step.

use std::path::PathBuf;

use super::super::{Entry, ImportError, Setting, Source, shell};
use super::{Context, Meaning};
use crate::package::Ecosystem;

/// What `command` is.
pub fn classify(command: &str, context: &mut Context) -> Result<Meaning, ImportError> {
    if let Some(reason) = plumbing(command) {
        return Ok(Meaning::Plumbing(reason));
    }
    if shell::is_compound(command) {
        return Ok(Meaning::Kept);
    }
    let Some(words) = shell::words(command) else {
        return Ok(Meaning::Kept);
    };
    let words = program_words(&words);
    let Some(program) = words.first().map(|w| w.rsplit('/').next().unwrap_or(w)) else {
        return Ok(Meaning::Kept);
    };
    let args = &words[1..];
    Ok(match program {
        "apt-get" | "apt" => apt(args),
        "pip" | "pip3" => pip(args, context)?,
        "python" | "python3" if args.starts_with(&["-m".into(), "pip".into()]) => {
            pip(&args[2..], context)?
        }
        _ if is_conda(program) => conda(args, context)?,
        "R" | "Rscript" => super::r_calls::r_command(args, context),
        "install2.r" | "installGithub.r" | "installBioc.r" => littler(program, args, context),
        "curl" | "wget" => download(program, args, context.workdir),
        _ => Meaning::Kept,
    })
}

/// Why a command is plumbing imglock's steps do themselves, if it is.
fn plumbing(command: &str) -> Option<&'static str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let starts = |prefix: &[&str]| words.starts_with(prefix);
    if starts(&["apt-get", "update"])
        || starts(&["apt", "update"])
        || starts(&["apt-get", "clean"])
        || starts(&["apt-get", "autoremove"])
        || starts(&["apt-get", "autoclean"])
    {
        return Some("imglock's apt step updates and cleans the package lists itself");
    }
    if command.starts_with("rm -rf /var/lib/apt/lists") {
        return Some("imglock's apt step removes the package lists itself");
    }
    if words.first().is_some_and(|w| is_conda(w)) && words.get(1) == Some(&"clean") {
        return Some("imglock's conda step cleans its caches itself");
    }
    if starts(&["pip", "cache", "purge"])
        || command.contains("install --upgrade pip") && words.len() <= 4
    {
        return Some("imglock's PyPI step brings its own installer and keeps no cache");
    }
    None
}

/// Whether `program` is conda's installer or one of its stand-ins (mamba, micromamba): the
/// installer is named as the ecosystem is.
fn is_conda(program: &str) -> bool {
    program == Ecosystem::Conda.as_str() || program == "mamba" || program == "micromamba"
}

/// The words from the program on: `sudo` and `NAME=value` prefixes dropped.
fn program_words(words: &[String]) -> &[String] {
    let skip = words
        .iter()
        .take_while(|w| *w == "sudo" || (w.contains('=') && !w.starts_with('-')))
        .count();
    &words[skip..]
}

/// `apt-get install [-y] [--no-install-recommends] PACKAGE[=VERSION]…`.
fn apt(args: &[String]) -> Meaning {
    if args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str)
        != Some("install")
    {
        return Meaning::Kept;
    }
    let packages = args
        .iter()
        .filter(|a| !a.starts_with('-') && *a != "install")
        .map(|a| match a.split_once('=') {
            Some((name, version)) => format!("{name} (= {version})"),
            None => a.clone(),
        });
    Meaning::Packages(
        packages
            .map(|p| (Ecosystem::Apt, Entry::Plain(p)))
            .collect(),
    )
}

/// pip options that take a value and say nothing the spec needs.
const PIP_VALUED: [&str; 9] = [
    "--upgrade-strategy",
    "--no-binary",
    "--only-binary",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--progress-bar",
    "--trusted-host",
];

/// `pip install [options] REQUIREMENT… [-r FILE]…`.
fn pip(args: &[String], context: &mut Context) -> Result<Meaning, ImportError> {
    if args.first().map(String::as_str) != Some("install") {
        return Ok(Meaning::Kept);
    }
    let mut packages = Vec::new();
    let mut args = args[1..].iter();
    let pypi = Ecosystem::Pypi.as_str();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-r" | "--requirement" => {
                if let Some(file) = args.next() {
                    packages.extend(requirements_file(file, context)?);
                }
            }
            "-i" | "--index-url" | "--extra-index-url" => {
                if let Some(url) = args.next() {
                    context.imported.add_repository(pypi, url);
                }
            }
            "-c" | "--constraint" | "-f" | "--find-links" | "-e" | "--editable" => {
                let value = args.next().map(String::as_str).unwrap_or_default();
                let text = format!("pip install {arg} {value}");
                context
                    .imported
                    .note(context.place, &text, "a pip option a spec has no place for");
            }
            valued if PIP_VALUED.contains(&valued) => {
                args.next();
            }
            flag if flag.starts_with('-') => {}
            "pip" | "setuptools" | "wheel" => {}
            requirement => match requirement.parse::<pep508_rs::Requirement>() {
                Ok(_) => packages.push((Ecosystem::Pypi, Entry::Plain(requirement.to_string()))),
                Err(_) => context.imported.note(
                    context.place,
                    requirement,
                    "not a requirement imglock can lock (a local path?); add it by hand",
                ),
            },
        }
    }
    Ok(Meaning::Packages(packages))
}

/// The requirements of `pip install -r FILE`, read from the build context when it is there.
fn requirements_file(
    file: &str,
    context: &mut Context,
) -> Result<Vec<(Ecosystem, Entry)>, ImportError> {
    let path = context.context_dir.join(file.trim_start_matches('/'));
    let by_name = context
        .context_dir
        .join(PathBuf::from(file).file_name().unwrap_or_default());
    let Some(path) = [path, by_name].into_iter().find(|p| p.is_file()) else {
        let text = format!("pip install -r {file}");
        context.imported.note(
            context.place,
            &text,
            "the file is not beside the Dockerfile: import it with `imglock import FILE`",
        );
        return Ok(Vec::new());
    };
    let text = super::super::read_text(&path)?;
    let source = Source {
        path: &path,
        text: &text,
        layer: "-r",
        spec_dir: &context.context_dir,
    };
    let mut read = super::super::requirements::read(&source)?;
    let packages = read
        .layers
        .drain(..)
        .flat_map(|l| l.lists)
        .flat_map(|(e, entries)| entries.into_iter().map(move |x| (e, x)));
    let packages = packages.collect();
    for (key, value) in read.repositories {
        if let Setting::Words(urls) = value {
            urls.iter()
                .for_each(|u| context.imported.add_repository(&key, u));
        }
    }
    context.imported.notes.extend(read.notes);
    Ok(packages)
}

/// `conda install [-c CHANNEL]… [-y] PACKAGE…` (and mamba's, micromamba's), `conda env
/// create|update -f FILE`.
fn conda(args: &[String], context: &mut Context) -> Result<Meaning, ImportError> {
    let Some(verb) = args.first() else {
        return Ok(Meaning::Kept);
    };
    if verb == "env" {
        return conda_env(&args[1..], context);
    }
    if verb != "install" && verb != "create" {
        return Ok(Meaning::Kept);
    }
    let mut channels = Vec::new();
    let mut names = Vec::new();
    let mut args = args[1..].iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-c" | "--channel" => channels.extend(args.next().cloned()),
            "-n" | "--name" | "-p" | "--prefix" => {
                let value = args.next().map(String::as_str).unwrap_or_default();
                let text = format!("{verb} {arg} {value}");
                context.imported.note(
                    context.place,
                    &text,
                    "a named environment: imglock installs into `conda-prefix`",
                );
            }
            flag if flag.starts_with('-') => {}
            name => names.push(name.to_string()),
        }
    }
    if channels.is_empty() {
        let reason = "assumed: `conda install` without `-c` takes the channels the base image configures (conda's `defaults`); put the image's channels here";
        let conda = Ecosystem::Conda.as_str();
        context.imported.fallback_repository(
            conda,
            "https://repo.anaconda.com/pkgs/main",
            context.place,
            reason,
        );
    }
    if channels.len() > 1 {
        let text = format!("-c {}", channels.join(" -c "));
        context.imported.note(context.place, &text, "several channels for one install: its packages are taken from the first; list the others in [repositories] conda");
    }
    let entry = |name: String| match channels.first() {
        Some(channel) if !name.contains("::") => Entry::Plain(format!("{channel}::{name}")),
        _ => Entry::Plain(name),
    };
    Ok(Meaning::Packages(
        names
            .into_iter()
            .map(|n| (Ecosystem::Conda, entry(n)))
            .collect(),
    ))
}

/// `conda env create|update -f FILE`: the environment file when it is beside the Dockerfile.
fn conda_env(args: &[String], context: &mut Context) -> Result<Meaning, ImportError> {
    let file = args
        .windows(2)
        .find(|w| w[0] == "-f" || w[0] == "--file")
        .map(|w| w[1].clone());
    let Some(file) = file else {
        return Ok(Meaning::Kept);
    };
    let path = context
        .context_dir
        .join(PathBuf::from(&file).file_name().unwrap_or_default());
    if !path.is_file() {
        context.imported.note(
            context.place,
            &format!("conda env -f {file}"),
            "the file is not beside the Dockerfile: import it with `imglock import FILE`",
        );
        return Ok(Meaning::Plumbing(
            "its environment file is imported on its own",
        ));
    }
    let text = super::super::read_text(&path)?;
    let source = Source {
        path: &path,
        text: &text,
        layer: "env",
        spec_dir: &context.context_dir,
    };
    let read = super::super::environment::read(&source)?;
    let mut packages = Vec::new();
    for layer in read.layers {
        for (ecosystem, entries) in layer.lists {
            packages.extend(entries.into_iter().map(|e| (ecosystem, e)));
        }
    }
    for (key, value) in read.repositories {
        if let Setting::Words(urls) = value {
            urls.iter()
                .for_each(|u| context.imported.add_repository(&key, u));
        }
    }
    context.imported.notes.extend(read.notes);
    Ok(Meaning::Packages(packages))
}

/// littler's `install2.r [-r REPO] PACKAGE…`, `installGithub.r OWNER/REPO…`, `installBioc.r`.
fn littler(program: &str, args: &[String], context: &mut Context) -> Meaning {
    let ecosystem = match program {
        "installGithub.r" => Ecosystem::Github,
        "installBioc.r" => Ecosystem::Bioconductor,
        _ => Ecosystem::Cran,
    };
    let mut names = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-r" | "--repos" => {
                if let Some(repo) = args.next() {
                    context
                        .imported
                        .add_repository(Ecosystem::Cran.as_str(), repo);
                }
            }
            "-n" | "--ncpus" | "-l" | "--libloc" | "-d" | "--deps" | "-t" | "--type" => {
                args.next();
            }
            flag if flag.starts_with('-') => {}
            name => names.push((ecosystem, Entry::Plain(name.to_string()))),
        }
    }
    Meaning::Packages(names)
}

/// `curl [-fsSL] -O URL`, `curl -o PATH URL`, `wget [-O PATH | -P DIR] URL`: a `files` entry.
fn download(program: &str, args: &[String], workdir: &str) -> Meaning {
    let urls: Vec<&String> = args
        .iter()
        .filter(|a| a.starts_with("https://") || a.starts_with("http://"))
        .collect();
    let [url] = urls.as_slice() else {
        return Meaning::Kept;
    };
    let value_of = |flags: &[&str]| {
        args.windows(2)
            .find(|w| flags.contains(&w[0].as_str()))
            .map(|w| w[1].clone())
    };
    let dir = workdir.trim_end_matches('/');
    let target = match program {
        "curl" => match value_of(&["-o", "--output"]) {
            Some(path) => in_dir(dir, &path),
            None if args.iter().any(|a| {
                a == "-O"
                    || a == "--remote-name"
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('O'))
            }) =>
            {
                format!("{dir}/")
            }
            None => return Meaning::Kept,
        },
        _ => match (
            value_of(&["-O", "--output-document"]),
            value_of(&["-P", "--directory-prefix"]),
        ) {
            (Some(path), _) => in_dir(dir, &path),
            (None, Some(folder)) => format!("{}/", in_dir(dir, &folder).trim_end_matches('/')),
            (None, None) => format!("{dir}/"),
        },
    };
    let entry = Entry::Table(vec![
        ("url".to_string(), Setting::Text(url.to_string())),
        ("target".to_string(), Setting::Text(target)),
    ]);
    Meaning::Packages(vec![(Ecosystem::File, entry)])
}

/// `path` as an absolute path from the working directory `dir`.
fn in_dir(dir: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{dir}/{}", path.trim_start_matches("./"))
    }
}

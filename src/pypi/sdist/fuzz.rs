//! Fuzz target of the sdist readers: `requires.txt`, `setup.cfg` and `pyproject.toml` texts
//! (seeds: the real members in fixtures/sdist-members), each read by every reader without a
//! panic, and every requirement they give parsed as the resolver parses it.

use crate::fuzz::{self, Outcome, seeds};

/// Tokens of the three formats.
const DICTIONARY: &[&str] = &[
    "[options]\n",
    "[options.extras_require]\n",
    "install_requires =\n",
    "python_requires = ",
    "file: ",
    "attr: ",
    "[project]\n",
    "dependencies = [\"",
    "[project.optional-dependencies]\n",
    "dynamic = [\"",
    "requires-python = \"",
    "[:python_version < \"3.6\"]\n",
    "[socks:sys_platform == \"win32\"]\n",
    "; extra == \"",
    " \\\n",
    "\n\t",
    "#",
    ";",
    ":",
    "=",
    "\"",
    "[",
    "]",
    "\n",
];

/// Every reader takes the input without a panic; what they give parses (or is refused) without
/// one.
fn readers_property(input: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(input);
    let mut requirements = super::egg_info::requires_dist(&text);
    if let Ok(found) = super::setup_cfg::read(&text) {
        requirements.extend(found.requires_dist);
    }
    if let Ok(found) = super::pyproject::read(&text) {
        requirements.extend(found.requires_dist);
    }
    for requirement in &requirements {
        let _ = crate::pypi::requirement::parse(requirement);
    }
    Ok(())
}

#[test]
fn fuzz_sdist_readers() {
    fuzz::bytes(
        "sdist-readers",
        seeds::read("fixtures/sdist-members", |_| true, 8),
        DICTIONARY,
        readers_property,
    );
}

#[test]
fn fuzz_regressions_replay() {
    fuzz::replay("sdist-readers", readers_property);
}

//! Inputs made from real seeds: a seed and a few mutations, each a proptest value so a failing
//! input shrinks to the fewest mutations that still fail. The mutations are a byte fuzzer's:
//! bit flips, byte inserts and deletes, repeats, splices of two seeds, the target's dictionary
//! tokens, and interesting values (very long lines, deep nesting, non-UTF-8 bytes, control and
//! multibyte characters, a multibyte character across a 4 KiB, 64 KiB or 256 KiB boundary).

use std::sync::Arc;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// One change to an input. Positions are [`Index`]es, taken modulo the input's length then.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    /// Flips one bit of a byte.
    Flip { at: Index, bit: u8 },
    /// Inserts a few bytes.
    Insert { at: Index, bytes: Vec<u8> },
    /// Inserts a token of the target's dictionary.
    Token { at: Index, token: Index },
    /// Inserts one of [`INTERESTING`].
    Interesting { at: Index, which: Index },
    /// Deletes up to `len` bytes.
    Delete { at: Index, len: usize },
    /// Repeats a range of the input `times` times in place.
    Repeat { at: Index, len: usize, times: usize },
    /// Inserts a range of another seed.
    Splice {
        seed: Index,
        from: Index,
        len: usize,
        at: Index,
    },
    /// Grows the input (repeating it) past one of [`BOUNDARIES`] and puts a multibyte character
    /// across it.
    Boundary { boundary: Index, character: Index },
}

/// Offsets where readers that work in chunks or in parallel cut a text.
pub(crate) const BOUNDARIES: [usize; 3] = [4 << 10, 64 << 10, 256 << 10];

/// Multibyte characters of two, three and four bytes.
const MULTIBYTE: [&str; 4] = ["é", "日", "🦀", "\u{2028}"];

/// Values that break parsers, as text or bytes.
const INTERESTING: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\r",
    b"\n\n",
    b" \n",
    b"\t",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xe6\x97",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    "é".as_bytes(),
    "日本".as_bytes(),
    "🦀".as_bytes(),
    "e\u{301}".as_bytes(),
    "\u{85}".as_bytes(),
    "\u{2028}".as_bytes(),
    b"\\",
    b"\"",
    b"'",
    b"$(touch /pwned)",
    b"`id`",
    b"-1",
    b"0",
    b"18446744073709551616",
    b"99999999999999999999999999999999",
    b"1e999",
    b"NaN",
    b"null",
    b"true",
];

/// Long or deep values, made on demand: a 70,000-byte line, and 5,000 levels of nesting in each
/// notation the parsers read.
fn huge(which: usize) -> Vec<u8> {
    let (unit, times): (&[u8], usize) = match which % 7 {
        0 => (b"x", 70_000),
        1 => (b"<a>", 5_000),
        2 => (b"[", 5_000),
        3 => (b"{\"a\":", 5_000),
        4 => (b"${", 5_000),
        5 => (b"(", 5_000),
        _ => ("é".as_bytes(), 40_000),
    };
    unit.repeat(times)
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        3 => (any::<Index>(), vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        5 => (any::<Index>(), any::<Index>())
            .prop_map(|(at, token)| Mutation::Token { at, token }),
        3 => (any::<Index>(), any::<Index>())
            .prop_map(|(at, which)| Mutation::Interesting { at, which }),
        3 => (any::<Index>(), 1usize..256).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<Index>(), 1usize..64, 2usize..64)
            .prop_map(|(at, len, times)| Mutation::Repeat { at, len, times }),
        2 => (any::<Index>(), any::<Index>(), 1usize..4096, any::<Index>())
            .prop_map(|(seed, from, len, at)| Mutation::Splice { seed, from, len, at }),
        1 => (any::<Index>(), any::<Index>())
            .prop_map(|(boundary, character)| Mutation::Boundary { boundary, character }),
    ]
}

/// Inputs: one of `seeds` with up to eight mutations.
pub(crate) fn inputs(
    seeds: Vec<Vec<u8>>,
    dictionary: &'static [&'static str],
) -> impl Strategy<Value = Vec<u8>> {
    let seeds = Arc::new(seeds);
    (any::<Index>(), vec(mutation(), 0..8)).prop_map(move |(seed, mutations)| {
        let mut input = seeds[seed.index(seeds.len())].clone();
        for mutation in &mutations {
            apply(&mut input, mutation, &seeds, dictionary);
        }
        input
    })
}

/// A position in an input of `len` bytes (`0..=len`).
fn position(at: &Index, len: usize) -> usize {
    at.index(len + 1)
}

/// Applies one mutation.
pub(crate) fn apply(
    input: &mut Vec<u8>,
    mutation: &Mutation,
    seeds: &[Vec<u8>],
    dictionary: &[&str],
) {
    let len = input.len();
    match mutation {
        Mutation::Flip { at, bit } if len > 0 => input[at.index(len)] ^= 1 << bit,
        Mutation::Flip { .. } => input.push(b'\n'),
        Mutation::Insert { at, bytes } => insert(input, position(at, len), bytes),
        Mutation::Token { at, token } if !dictionary.is_empty() => {
            let token = dictionary[token.index(dictionary.len())].as_bytes();
            insert(input, position(at, len), token);
        }
        Mutation::Token { .. } => {}
        Mutation::Interesting { at, which } => {
            let count = INTERESTING.len() + 7;
            let chosen = which.index(count);
            let value = match INTERESTING.get(chosen) {
                Some(value) => value.to_vec(),
                None => huge(chosen - INTERESTING.len()),
            };
            insert(input, position(at, len), &value);
        }
        Mutation::Delete { at, len: count } => {
            let start = position(at, len);
            let end = (start + count).min(len);
            input.drain(start..end);
        }
        Mutation::Repeat {
            at,
            len: count,
            times,
        } => {
            let start = position(at, len);
            let end = (start + count).min(len);
            let piece = input[start..end].repeat(*times);
            insert(input, end, &piece);
        }
        Mutation::Splice {
            seed,
            from,
            len: count,
            at,
        } => {
            let other = &seeds[seed.index(seeds.len())];
            let start = position(from, other.len());
            let end = (start + count).min(other.len());
            insert(input, position(at, len), &other[start..end]);
        }
        Mutation::Boundary {
            boundary,
            character,
        } => {
            let boundary = BOUNDARIES[boundary.index(BOUNDARIES.len())];
            let character = MULTIBYTE[character.index(MULTIBYTE.len())].as_bytes();
            across(input, boundary, character);
        }
    }
}

fn insert(input: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    input.splice(at..at, bytes.iter().copied());
}

/// Repeats `input` (a newline between copies) until it is longer than `boundary`, then inserts
/// `character` so that its first byte is just before the boundary and the rest after it.
fn across(input: &mut Vec<u8>, boundary: usize, character: &[u8]) {
    if input.is_empty() {
        input.push(b'x');
    }
    let unit = input.clone();
    while input.len() < boundary + 1 {
        input.push(b'\n');
        input.extend_from_slice(&unit);
    }
    insert(input, boundary - 1, character);
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;

    use super::*;

    #[test]
    fn a_character_across_a_boundary_is_cut_by_it() {
        let mut input = b"Package: a\n".to_vec();
        across(&mut input, 64 << 10, "🦀".as_bytes());
        assert!(input.len() > 64 << 10);
        let text = std::str::from_utf8(&input).unwrap();
        assert!(
            !text.is_char_boundary(64 << 10),
            "the crab straddles 64 KiB"
        );
    }

    #[test]
    fn every_mutation_applies_to_an_empty_input() {
        let seeds = vec![b"abc".to_vec()];
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let at = any::<Index>().new_tree(&mut runner).unwrap().current();
        for mutation in [
            Mutation::Flip { at, bit: 3 },
            Mutation::Delete { at, len: 4 },
            Mutation::Repeat {
                at,
                len: 4,
                times: 3,
            },
            Mutation::Token { at, token: at },
            Mutation::Splice {
                seed: at,
                from: at,
                len: 9,
                at,
            },
        ] {
            let mut input = Vec::new();
            apply(&mut input, &mutation, &seeds, &["t"]);
        }
    }
}

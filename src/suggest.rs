//! "Did you mean": the known name closest to a misspelled one (Jaro-Winkler similarity of at
//! least 0.85, case-insensitive; ties go to the name that sorts first).

/// The name of `known` closest to `name`, when one is close enough.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    known
        .into_iter()
        .map(|candidate| {
            (
                strsim::jaro_winkler(&lower, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, candidate)| candidate.to_string())
}

/// `advice` (lowercase, like "correct the name"), led by "did you mean `suggestion`?" when there
/// is one: "did you mean `requests`? Correct the name".
pub fn then_advice(suggestion: Option<&str>, advice: &str) -> String {
    match suggestion {
        Some(suggestion) => {
            let mut letters = advice.chars();
            let capital: String = letters
                .next()
                .into_iter()
                .flat_map(char::to_uppercase)
                .collect();
            format!("did you mean `{suggestion}`? {capital}{}", letters.as_str())
        }
        None => advice.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_name_leads_the_advice_which_then_starts_a_sentence() {
        let known = ["requests", "urllib3"];
        let suggestion = closest("reqeusts", known);
        assert_eq!(suggestion.as_deref(), Some("requests"));
        assert_eq!(
            then_advice(suggestion.as_deref(), "correct the name"),
            "did you mean `requests`? Correct the name"
        );
        assert_eq!(
            then_advice(closest("zzz", known).as_deref(), "correct the name"),
            "correct the name"
        );
    }
}

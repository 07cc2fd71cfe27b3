//! Synonyms link workers rely on. Expansion happens at query time: when the
//! words of a query contain one form, the others are searched too (as
//! phrases for multi-word forms), so "foodbank" finds "food bank".

/// Each group lists interchangeable forms, lower case, unstemmed.
pub const GROUPS: &[&[&str]] = &[
    &["foodbank", "food bank", "food parcel", "emergency food"],
    &[
        "counselling",
        "counseling",
        "talking therapy",
        "talking therapies",
        "therapy",
    ],
    &["debt", "money advice", "debt advice", "money worries"],
    &["dementia", "memory", "alzheimers", "alzheimer"],
    &["walking group", "health walk", "walking"],
    &["mental health", "wellbeing", "emotional support"],
    &[
        "lonely",
        "loneliness",
        "isolation",
        "isolated",
        "befriending",
    ],
    &["carer", "caring", "unpaid carer"],
    &["addiction", "recovery", "substance use"],
    &["alcohol", "drinking"],
    &["drugs", "drug use", "substance use"],
    &["benefits", "welfare rights", "universal credit"],
    &["job", "jobs", "employment", "employability", "work"],
    &["computer", "digital", "online", "internet"],
    &["homeless", "homelessness", "rough sleeping"],
    &["housing", "tenancy"],
    &["exercise", "physical activity", "fitness"],
    &["bereavement", "grief", "loss"],
    &[
        "elderly",
        "older people",
        "older adults",
        "pensioners",
        "over 60s",
    ],
    &["young people", "youth", "teenagers"],
    &["refugee", "asylum", "new scots"],
    &["fuel poverty", "energy advice", "heating"],
    &["men's shed", "mens shed", "men s shed"],
    &["lgbt", "lgbtq", "lgbt+", "lgbtq+"],
];

/// Splits lower-cased, folded text into words (letters and digits).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A run of query words that matched a synonym form, and the other forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// Index of the first query word covered.
    pub start: usize,
    /// Number of query words covered.
    pub len: usize,
    /// The alternative forms, each as its words.
    pub alternatives: Vec<Vec<String>>,
}

/// Finds synonym forms in the query words, longest match first, without overlaps.
pub fn expansions(query: &[String]) -> Vec<Expansion> {
    let mut found: Vec<Expansion> = Vec::new();
    let mut i = 0;
    while i < query.len() {
        let mut best: Option<Expansion> = None;
        for group in GROUPS {
            for form in group.iter() {
                let form_words = words(form);
                let n = form_words.len();
                if n == 0 || i + n > query.len() || query[i..i + n] != form_words[..] {
                    continue;
                }
                if best.as_ref().is_some_and(|b| b.len >= n) {
                    continue;
                }
                let alternatives = group
                    .iter()
                    .map(|f| words(f))
                    .filter(|w| *w != form_words)
                    .collect();
                best = Some(Expansion {
                    start: i,
                    len: n,
                    alternatives,
                });
            }
        }
        match best {
            Some(e) => {
                i += e.len;
                found.push(e);
            }
            None => i += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_word_forms_expand() {
        let q = words("Foodbank near walking group");
        let e = expansions(&q);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].start, e[0].len), (0, 1));
        assert!(e[0]
            .alternatives
            .contains(&vec!["food".to_string(), "bank".to_string()]));
        assert_eq!(
            (e[1].start, e[1].len),
            (2, 2),
            "longest form wins over 'walking'"
        );
        assert!(e[1]
            .alternatives
            .contains(&vec!["health".to_string(), "walk".to_string()]));
    }

    #[test]
    fn unknown_words_do_not_expand() {
        assert!(expansions(&words("swimming lessons")).is_empty());
    }
}

//! Synonyms link workers rely on. Each group is a concept: at index time a
//! document whose text contains any form of a group gets the group's concept
//! term, and a query containing any form also asks for that term. So
//! "foodbank" finds "food bank" with one term lookup instead of a phrase
//! query per alternative.

use std::sync::OnceLock;

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

/// A run of words that matched a synonym form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expansion {
    /// Index of the first word covered.
    pub start: usize,
    /// Number of words covered.
    pub len: usize,
    /// Index of the group in [`GROUPS`].
    pub group: usize,
}

/// Every form of every group as words, computed once.
fn forms() -> &'static [(usize, Vec<String>)] {
    static FORMS: OnceLock<Vec<(usize, Vec<String>)>> = OnceLock::new();
    FORMS.get_or_init(|| {
        GROUPS
            .iter()
            .enumerate()
            .flat_map(|(g, group)| group.iter().map(move |form| (g, words(form))))
            .filter(|(_, w)| !w.is_empty())
            .collect()
    })
}

/// The concept term of a group, as indexed.
pub fn concept(group: usize) -> String {
    format!("c{group}")
}

/// Finds synonym forms in the words, longest match first, without overlaps.
pub fn expansions(text: &[String]) -> Vec<Expansion> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let best = forms()
            .iter()
            .filter(|(_, form)| i + form.len() <= text.len() && text[i..i + form.len()] == form[..])
            .max_by_key(|(g, form)| (form.len(), std::cmp::Reverse(*g)));
        match best {
            Some((group, form)) => {
                found.push(Expansion {
                    start: i,
                    len: form.len(),
                    group: *group,
                });
                i += form.len();
            }
            None => i += 1,
        }
    }
    found
}

/// The concept terms a piece of text carries.
pub fn concepts_in(text: &[String]) -> Vec<String> {
    let mut groups: Vec<usize> = expansions(text).into_iter().map(|e| e.group).collect();
    groups.sort_unstable();
    groups.dedup();
    groups.into_iter().map(concept).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_word_forms_are_found() {
        let q = words("Foodbank near walking group");
        let e = expansions(&q);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].start, e[0].len), (0, 1));
        assert_eq!(
            (e[1].start, e[1].len),
            (2, 2),
            "longest form wins over 'walking'"
        );
        assert_eq!(GROUPS[e[0].group][0], "foodbank");
    }

    #[test]
    fn every_form_of_a_group_carries_the_same_concept() {
        assert_eq!(
            concepts_in(&words("Parkhead food bank")),
            concepts_in(&words("a foodbank"))
        );
        assert_eq!(
            concepts_in(&words("talking therapy")),
            concepts_in(&words("Counselling"))
        );
        assert!(concepts_in(&words("swimming lessons")).is_empty());
    }
}

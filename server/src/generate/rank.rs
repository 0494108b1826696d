//! Ranking operations against what the user asked for: BM25 over words.
//!
//! Linear in the total number of words: document frequencies are counted
//! once for the query's terms, not once per document.

use std::collections::{BTreeSet, HashMap};

/// Ranks `texts` against `description`. Returns (index, score), best first;
/// ties keep document order.
pub fn rank(description: &str, texts: &[&str]) -> Vec<(usize, f64)> {
    let query: BTreeSet<String> = tokens(description).into_iter().collect();
    let docs: Vec<Vec<String>> = texts.iter().map(|t| tokens(t)).collect();
    let n = docs.len() as f64;
    let avg = docs.iter().map(Vec::len).sum::<usize>() as f64 / n.max(1.0);
    let mut df: HashMap<&str, f64> = query.iter().map(|t| (t.as_str(), 0.0)).collect();
    for doc in &docs {
        let present: BTreeSet<&str> = doc.iter().map(String::as_str).filter(|t| df.contains_key(t)).collect();
        for term in present {
            *df.get_mut(term).expect("only query terms are counted") += 1.0;
        }
    }
    let (k1, b) = (1.2, 0.75);
    let mut scores: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let len = doc.len() as f64;
            let mut tf: HashMap<&str, f64> = HashMap::new();
            for term in doc.iter().filter(|t| df.contains_key(t.as_str())) {
                *tf.entry(term.as_str()).or_default() += 1.0;
            }
            let score = tf
                .iter()
                .map(|(term, tf)| {
                    let df = df[term];
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / avg.max(1.0)))
                })
                .sum();
            (i, score)
        })
        .collect();
    scores.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal).then(a.0.cmp(&b.0)));
    scores
}

/// Lowercase word tokens; camelCase and snake_case are split; a few stop
/// words and a naive plural "s" are dropped.
pub fn tokens(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "a", "an", "the", "and", "or", "to", "of", "for", "in", "on", "by", "with", "i", "my", "me", "want", "can",
        "be", "it", "is", "from",
    ];
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && previous_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = c.is_lowercase() || c.is_numeric();
            current.extend(c.to_lowercase());
        } else {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
        .into_iter()
        .filter(|w| !STOP.contains(&w.as_str()))
        .map(|w| {
            if w.len() > 3 && w.ends_with('s') && !(w.ends_with("ss") || w.ends_with("us") || w.ends_with("is")) {
                w[..w.len() - 1].to_owned()
            } else {
                w
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_camel_case_and_plurals() {
        assert_eq!(tokens("listPets by_status"), vec!["list", "pet", "status"]);
        assert_eq!(tokens("The ADDRESS"), vec!["address"]);
    }

    #[test]
    fn ranking_prefers_matching_operations() {
        let texts = ["listPets List all pets /pets", "createUser Create a user /users", "getWeather /weather"];
        let ranked = rank("I want to list my pets", &texts);
        assert_eq!(ranked[0].0, 0);
        assert!(ranked[0].1 > 0.0 && ranked[2].1 == 0.0);
    }

    #[test]
    fn rarer_words_weigh_more() {
        let texts = ["pets list", "pets", "pets", "pets adopt"];
        let ranked = rank("adopt pets", &texts);
        assert_eq!(ranked[0].0, 3, "{ranked:?}");
    }
}

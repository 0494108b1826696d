//! Ranking operations against what the user asked for: BM25 over words,
//! then intent: "create customers, list invoices" asks for a POST and a GET,
//! so the best POST and the best GET lead the ranking, whatever BM25 says of
//! the other operations that mention customers.
//!
//! Linear in the total number of words: document frequencies are counted
//! once for the query's terms, not once per document.

use app::spec::HttpMethod;
use std::collections::{BTreeSet, HashMap};

/// What the user wants done, read from the verbs of a description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// create, add, new, upload, ... → POST
    Create,
    /// list, search, find → GET of a collection
    List,
    /// get, read, show, ... → GET
    Read,
    /// update, edit, change, ... → PUT or PATCH
    Update,
    /// delete, remove, ... → DELETE
    Delete,
}

impl Intent {
    fn of(word: &str) -> Option<Intent> {
        Some(match word {
            "create" | "add" | "new" | "make" | "post" | "submit" | "register" | "insert" | "upload" | "send"
            | "book" | "open" | "start" => Intent::Create,
            "list" | "search" | "find" | "browse" | "query" | "filter" | "all" => Intent::List,
            "get" | "read" | "show" | "view" | "fetch" | "retrieve" | "look" | "lookup" | "check" | "see" => {
                Intent::Read
            }
            "update" | "edit" | "change" | "modify" | "rename" | "set" | "patch" | "replace" | "move" => Intent::Update,
            "delete" | "remove" | "destroy" | "erase" | "drop" | "purge" => Intent::Delete,
            _ => return None,
        })
    }

    /// How well an operation fits: 2 exactly, 1 roughly, 0 not.
    fn fit(self, method: HttpMethod, path: &str) -> u8 {
        let collection = !path.trim_end_matches('/').ends_with('}');
        match (self, method) {
            (Intent::Create, HttpMethod::Post) if collection => 2,
            (Intent::Create, HttpMethod::Post | HttpMethod::Put) => 1,
            (Intent::List, HttpMethod::Get) if collection => 2,
            (Intent::List, HttpMethod::Get) => 1,
            (Intent::Read, HttpMethod::Get) => 2,
            (Intent::Update, HttpMethod::Put | HttpMethod::Patch) => 2,
            (Intent::Update, HttpMethod::Post) if !collection => 2,
            (Intent::Update, HttpMethod::Post) => 1,
            (Intent::Delete, HttpMethod::Delete) => 2,
            _ => 0,
        }
    }
}

/// The intents of a description, in the order they are asked for.
pub fn intents(description: &str) -> Vec<Intent> {
    let mut out = Vec::new();
    for word in description.split(|c: char| !c.is_alphanumeric()) {
        if let Some(intent) = Intent::of(&word.to_lowercase())
            && !out.contains(&intent)
        {
            out.push(intent);
        }
    }
    out
}

/// An operation to rank: its words, method and path.
pub struct Ranked<'a> {
    pub text: &'a str,
    pub method: HttpMethod,
    pub path: &'a str,
}

/// How many operations per intent lead the ranking.
const LEADS_PER_INTENT: usize = 3;

/// Ranks operations against `description`: for each intent asked for, the
/// best-matching operations whose method fits it come first (taking turns
/// between intents); then everything else by BM25, with operations that fit
/// no intent halved, and deletions a quarter unless deleting was asked for.
/// Returns (index, score), best first.
pub fn rank_operations(description: &str, ops: &[Ranked<'_>]) -> Vec<(usize, f64)> {
    let texts: Vec<&str> = ops.iter().map(|o| o.text).collect();
    let mut scores = vec![0.0; ops.len()];
    for (i, score) in rank(description, &texts) {
        scores[i] = score;
    }
    let wanted = intents(description);
    let adjusted: Vec<f64> = ops
        .iter()
        .zip(&scores)
        .map(|(op, &score)| {
            let fit = wanted.iter().map(|i| i.fit(op.method, op.path)).max().unwrap_or(0);
            let mut factor = match (wanted.is_empty(), fit) {
                (true, _) => 1.0,
                (false, 2) => 1.5,
                (false, 1) => 1.0,
                (false, _) => 0.5,
            };
            if op.method == HttpMethod::Delete && !wanted.contains(&Intent::Delete) {
                factor *= 0.25;
            }
            score * factor
        })
        .collect();
    let by_score = |list: &mut Vec<usize>| {
        list.sort_by(|&a, &b| {
            adjusted[b].partial_cmp(&adjusted[a]).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b))
        })
    };
    let leads: Vec<Vec<usize>> = wanted
        .iter()
        .map(|intent| {
            let mut fitting: Vec<usize> =
                (0..ops.len()).filter(|&i| scores[i] > 0.0 && intent.fit(ops[i].method, ops[i].path) == 2).collect();
            by_score(&mut fitting);
            fitting
        })
        .collect();
    let mut order = Vec::with_capacity(ops.len());
    let mut placed = vec![false; ops.len()];
    for _ in 0..LEADS_PER_INTENT {
        for lead in &leads {
            if let Some(&i) = lead.iter().find(|&&i| !placed[i]) {
                placed[i] = true;
                order.push(i);
            }
        }
    }
    let mut rest: Vec<usize> = (0..ops.len()).filter(|&i| !placed[i]).collect();
    by_score(&mut rest);
    order.extend(rest);
    order.into_iter().map(|i| (i, adjusted[i])).collect()
}

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
    use app::spec::HttpMethod;

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

    fn op(text: &'static str, method: HttpMethod, path: &'static str) -> Ranked<'static> {
        Ranked { text, method, path }
    }

    #[test]
    fn intent_words_bring_the_fitting_method_forward() {
        let ops = [
            op(
                "listCustomers List all customers; customers are returned sorted /customers",
                HttpMethod::Get,
                "/customers",
            ),
            op("getCustomer Retrieve a customer /customers/{id}", HttpMethod::Get, "/customers/{id}"),
            op("deleteCustomer Delete a customer /customers/{id}", HttpMethod::Delete, "/customers/{id}"),
            op("updateCustomer Update a customer /customers/{id}", HttpMethod::Post, "/customers/{id}"),
            op("createCustomer Creates a new customer object /customers", HttpMethod::Post, "/customers"),
            op("listInvoices List invoices /invoices", HttpMethod::Get, "/invoices"),
        ];
        let order: Vec<usize> =
            rank_operations("Create customers and find invoices", &ops).iter().map(|r| r.0).collect();
        assert_eq!(&order[..2], &[4, 5], "{order:?}");
        let order: Vec<usize> = rank_operations("search, read, add customers", &ops).iter().map(|r| r.0).collect();
        assert_eq!(&order[..3], &[0, 1, 4], "{order:?}");
        assert_eq!(order[4], 2, "a deletion nobody asked for comes after every other match: {order:?}");
        let order: Vec<usize> = rank_operations("remove customers", &ops).iter().map(|r| r.0).collect();
        assert_eq!(order[0], 2, "{order:?}");
    }

    #[test]
    fn rarer_words_weigh_more() {
        let texts = ["pets list", "pets", "pets", "pets adopt"];
        let ranked = rank("adopt pets", &texts);
        assert_eq!(ranked[0].0, 3, "{ranked:?}");
    }
}

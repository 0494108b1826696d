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

/// What a description asks for, clause by clause: each intent word starts a
/// clause that runs to the next one ("create customers and look up their
/// invoices" is (create, "create customers and"), (read, "look up their
/// invoices")). A clause that is only its verb ("search, read, add notes")
/// borrows the words of the next clause that has some (or the previous),
/// and words before the first verb go to every clause.
pub fn clauses(description: &str) -> Vec<(Intent, String)> {
    let mut lead = Vec::new();
    let mut out: Vec<(Intent, Vec<String>)> = Vec::new();
    for word in description.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let lower = word.to_lowercase();
        match Intent::of(&lower) {
            Some(intent) => out.push((intent, vec![lower])),
            None => match out.last_mut() {
                Some((_, words)) => words.push(lower),
                None => lead.push(lower),
            },
        }
    }
    let has_object = |words: &Vec<String>| !tokens(&words[1..].join(" ")).is_empty();
    let objects: Vec<Option<String>> =
        out.iter().map(|(_, words)| has_object(words).then(|| words[1..].join(" "))).collect();
    out.iter()
        .enumerate()
        .map(|(i, (intent, words))| {
            let borrowed = objects[i]
                .clone()
                .or_else(|| objects[i..].iter().flatten().next().cloned())
                .or_else(|| objects[..i].iter().flatten().last().cloned())
                .unwrap_or_default();
            (*intent, format!("{} {} {}", lead.join(" "), words[0], borrowed).trim().to_owned())
        })
        .collect()
}

/// Whether the resource a path names (its last literal segment) is one of
/// the words asked for: `/v1/customers` for "create customers", not
/// `/v1/customers/{customer}/sources`.
fn names_resource(path: &str, asked: &[String]) -> bool {
    let last = path.split('/').rev().find(|s| !s.is_empty() && !s.starts_with('{')).unwrap_or_default();
    tokens(last).iter().any(|t| asked.contains(t))
}

/// An operation to rank: its words, method and path.
pub struct Ranked<'a> {
    pub text: &'a str,
    pub method: HttpMethod,
    pub path: &'a str,
}

/// How many operations per intent lead the ranking.
const LEADS_PER_INTENT: usize = 3;

/// Ranks operations against `description`: for each clause asked for (see
/// [`clauses`]), the operations whose method fits its intent and that best
/// match its words (the resource it names first) lead, taking turns between
/// clauses; then everything else by BM25, with operations that fit no
/// intent halved, and deletions a quarter unless deleting was asked for.
/// Returns (index, score), best first.
pub fn rank_operations(description: &str, ops: &[Ranked<'_>]) -> Vec<(usize, f64)> {
    let corpus = Corpus::new(ops.iter().map(|o| o.text));
    let scores = corpus.scores(description);
    let asked = clauses(description);
    let wanted: Vec<Intent> = asked.iter().map(|(intent, _)| *intent).collect();
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
    let leads: Vec<Vec<usize>> = asked.iter().map(|(intent, words)| lead(*intent, words, ops, &corpus)).collect();
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
    rest.sort_by(|&a, &b| adjusted[b].partial_cmp(&adjusted[a]).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b)));
    order.extend(rest);
    order.into_iter().map(|i| (i, adjusted[i])).collect()
}

/// The operations that fit one clause's intent exactly and match its
/// words, best first (those naming the resource asked for count double).
fn lead(intent: Intent, words: &str, ops: &[Ranked<'_>], corpus: &Corpus) -> Vec<usize> {
    let asked = tokens(words);
    let scores = corpus.scores(words);
    let weighted = |i: usize| scores[i] * if names_resource(ops[i].path, &asked) { 2.0 } else { 1.0 };
    let mut fitting: Vec<usize> =
        (0..ops.len()).filter(|&i| scores[i] > 0.0 && intent.fit(ops[i].method, ops[i].path) == 2).collect();
    fitting
        .sort_by(|&a, &b| weighted(b).partial_cmp(&weighted(a)).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b)));
    fitting
}

/// Ranks `texts` against `description`. Returns (index, score), best first;
/// ties keep document order.
pub fn rank(description: &str, texts: &[&str]) -> Vec<(usize, f64)> {
    let mut scores: Vec<(usize, f64)> =
        Corpus::new(texts.iter().copied()).scores(description).into_iter().enumerate().collect();
    scores.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal).then(a.0.cmp(&b.0)));
    scores
}

/// Texts tokenized once, to be scored against several queries.
struct Corpus {
    docs: Vec<Vec<String>>,
    avg: f64,
}

impl Corpus {
    fn new<'a>(texts: impl Iterator<Item = &'a str>) -> Self {
        let docs: Vec<Vec<String>> = texts.map(tokens).collect();
        let avg = docs.iter().map(Vec::len).sum::<usize>() as f64 / (docs.len() as f64).max(1.0);
        Corpus { docs, avg }
    }

    /// BM25 score of every text against `query`, by index.
    fn scores(&self, query: &str) -> Vec<f64> {
        let query: BTreeSet<String> = tokens(query).into_iter().collect();
        let n = self.docs.len() as f64;
        let mut df: HashMap<&str, f64> = query.iter().map(|t| (t.as_str(), 0.0)).collect();
        for doc in &self.docs {
            let present: BTreeSet<&str> = doc.iter().map(String::as_str).filter(|t| df.contains_key(t)).collect();
            for term in present {
                *df.get_mut(term).expect("only query terms are counted") += 1.0;
            }
        }
        let (k1, b) = (1.2, 0.75);
        self.docs
            .iter()
            .map(|doc| {
                let len = doc.len() as f64;
                let mut tf: HashMap<&str, f64> = HashMap::new();
                for term in doc.iter().filter(|t| df.contains_key(t.as_str())) {
                    *tf.entry(term.as_str()).or_default() += 1.0;
                }
                tf.iter()
                    .map(|(term, tf)| {
                        let df = df[term];
                        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                        idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / self.avg.max(1.0)))
                    })
                    .sum()
            })
            .collect()
    }
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
    fn clauses_split_at_verbs_and_share_objects() {
        let asked = clauses("Create customers and look up their invoices");
        assert_eq!(
            asked,
            vec![
                (Intent::Create, "create customers and".to_owned()),
                (Intent::Read, "look up their invoices".to_owned())
            ]
        );
        let asked = clauses("notes: search, read, add them");
        let words: Vec<&str> = asked.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(words, ["notes search them", "notes read them", "notes add them"]);
        assert!(clauses("the weather in Oslo").is_empty());
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

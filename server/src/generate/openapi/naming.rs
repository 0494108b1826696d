//! Names for tools and their arguments: identifiers MCP clients accept,
//! made unique in linear time however many operations share a name.

use app::spec::MAX_TOOL_NAME;
use std::collections::{HashMap, HashSet};

/// A name that fits MCP tool names (and our placeholders).
pub fn identifier(raw: &str, max: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max * 2));
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let out = out.trim_matches('_');
    let out = if out.is_empty() { "x" } else { out };
    out.chars().take(max).collect()
}

/// Names handed out so far. The next suffix of each base is remembered, so
/// the 10,000th `getThing` costs as much as the second.
#[derive(Default)]
pub struct Names {
    taken: HashSet<String>,
    next_suffix: HashMap<String, u32>,
}

impl Names {
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    /// `name`, or `name_2`, `name_3`, … (cut to fit), whichever is free.
    pub fn unique(&mut self, name: String) -> String {
        if self.taken.insert(name.clone()) {
            return name;
        }
        let mut n = self.next_suffix.get(&name).copied().unwrap_or(2);
        loop {
            let suffix = format!("_{n}");
            let base: String = name.chars().take(MAX_TOOL_NAME - suffix.len()).collect();
            let candidate = format!("{base}{suffix}");
            n += 1;
            if self.taken.insert(candidate.clone()) {
                self.next_suffix.insert(name, n);
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_fit_tool_names() {
        assert_eq!(identifier("get /pets/{id}", 64), "get_pets_id");
        assert_eq!(identifier(&"x".repeat(80), 64).len(), 64);
        assert_eq!(identifier("¿?", 64), "x");
    }

    #[test]
    fn names_are_unique_and_suffixed() {
        let mut names = Names::default();
        assert_eq!(names.unique("a".into()), "a");
        assert_eq!(names.unique("a".into()), "a_2");
        assert_eq!(names.unique("a_3".into()), "a_3");
        assert_eq!(names.unique("a".into()), "a_4");
        let long = "y".repeat(64);
        assert_eq!(names.unique(long.clone()), long);
        let second = names.unique(long);
        assert_eq!(second.len(), 64);
        assert!(second.ends_with("_2"));
    }

    #[test]
    fn many_equal_names_stay_distinct() {
        let mut names = Names::default();
        let all: HashSet<String> = (0..10_000).map(|_| names.unique("getThing".into())).collect();
        assert_eq!(all.len(), 10_000);
        assert!(all.contains("getThing_10000"));
    }
}

//! The budgets of one generation: every limit a hostile or just enormous
//! document can run into, in one place, with the message the user sees.
//!
//! Importing is CPU work on a document we do not control. It runs on a
//! blocking thread (never on the async workers that serve other tenants) and
//! checks [`Budget::tick`] as it goes, so it ends by itself when its time is
//! up; sizes are bounded by counting what it builds, never by hoping.

use std::time::{Duration, Instant};

/// Largest OpenAPI document accepted (pasted or fetched). The largest public
/// descriptions are about 13 MB; parsing one takes about 7× its size in
/// memory, and [`crate::wizards`] parses at most two at once.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// Operations read from one document. Naming and ranking them is linear.
pub const MAX_OPERATIONS: usize = 10_000;
/// Schema nodes (objects, arrays and values) of one tool's arguments, after
/// repeated and recursive `$ref`s are shared in `$defs`.
pub const MAX_SCHEMA_NODES: u64 = 10_000;
/// How deeply one tool's argument schema may nest. Stored documents stay far
/// below serde_json's recursion limit (128), so they always load again.
pub const MAX_SCHEMA_DEPTH: u32 = app::spec::MAX_SCHEMA_DEPTH;
/// Below both of these, a schema's `$ref`s are copied in place (what most
/// clients show best); above either, or when recursive, they go to `$defs`.
pub const INLINE_NODES: u64 = 2_000;
pub const INLINE_DEPTH: u32 = 16;
/// Serialized size of one proposed tool.
pub const MAX_TOOL_BYTES: usize = 256 * 1024;
/// Serialized size of a whole proposal (what the wizard stores).
pub const MAX_PROPOSAL_BYTES: usize = 2 * 1024 * 1024;
/// Operations left out for their size before the import gives up looking.
pub const MAX_SKIPPED: usize = 20;
/// Wall-clock time for parsing and importing a document.
pub const IMPORT_TIME: Duration = Duration::from_secs(10);
/// Wall-clock time for a whole generation job (fetch, import, LLM rounds).
pub const JOB_TIME: Duration = Duration::from_secs(180);

/// A deadline, checked cheaply and often.
#[derive(Clone, Debug)]
pub struct Budget {
    deadline: Instant,
    limit: Duration,
    ticks: u32,
}

impl Budget {
    pub fn new(limit: Duration) -> Self {
        Budget { deadline: Instant::now() + limit, limit, ticks: 0 }
    }

    /// Fails once the time is up; looks at the clock every 256 calls.
    pub fn tick(&mut self) -> Result<(), String> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(256) { self.check() } else { Ok(()) }
    }

    /// Fails once the time is up.
    pub fn check(&self) -> Result<(), String> {
        if Instant::now() > self.deadline {
            return Err(format!(
                "reading the document took longer than {} s, the limit; paste a smaller document with only the \
                 endpoints you need",
                self.limit.as_secs()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_says_so() {
        let mut budget = Budget::new(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
        assert!(budget.check().unwrap_err().contains("longer than 0 s"));
        let failed = (0..256).map(|_| budget.tick()).any(|r| r.is_err());
        assert!(failed);
        assert!(Budget::new(Duration::from_secs(60)).check().is_ok());
    }
}

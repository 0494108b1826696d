//! The OpenAPI document a wizard works from: stored once per account and
//! content (SHA-256), gzip-compressed, with an index of every operation, and
//! kept until the wizard finishes; so the actions step can search all the
//! operations and add any of them, not only the proposed ones.

use super::{MAX_STORED_DOCUMENT_BYTES, Wizards};
use crate::db::now;
use crate::error::ResultExt;
use crate::generate::{self, Generated, budget::MAX_DOCUMENT_BYTES};
use crate::store::Tx;
use crate::store::documents::NewDocument;
use app::model::{AppError, UserView};
use app::wizard::{
    AddOperation, OperationInfo, OperationMatch, OperationPage, ProcessingStatus, WizardStep, WizardView,
};
use flate2::Compression;
use sha2::Digest;
use std::io::{Read, Write};

/// Most operations one search page returns.
pub const MAX_PAGE: usize = 100;
/// Largest operation index kept (compressed JSON of every operation).
const MAX_INDEX_BYTES: usize = 8 * 1024 * 1024;

/// A document ready to store: its hash, size and compressed bytes.
pub struct Packed {
    pub sha256: String,
    pub text_bytes: i64,
    pub body: Vec<u8>,
}

/// Hashes and compresses a document (CPU work: run it off the async workers).
pub fn pack(text: &str) -> Packed {
    let sha256 = format!("{:x}", sha2::Sha256::digest(text.as_bytes()));
    Packed { sha256, text_bytes: text.len() as i64, body: gzip(text.as_bytes()) }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Compression::new(6));
    encoder.write_all(bytes).expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// Decompresses at most `limit` bytes (a stored row is ours, but a bound
/// costs nothing).
fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the stored document does not decompress: {e}"))?;
    if out.len() > limit {
        return Err("the stored document is larger than it may be".into());
    }
    Ok(out)
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work).await.map_err(|_| AppError::internal("compressing a document failed"))
}

impl Wizards {
    /// Stores a pasted document for a new wizard (once per account and
    /// content), within the account's budget of stored documents.
    pub(super) async fn keep_pasted(&self, tx: &mut Tx, owner: &UserView, text: String) -> Result<String, AppError> {
        let packed = blocking(move || pack(&text)).await?;
        let held = self.documents.held_bytes(tx, &owner.id).await.or_internal("count stored documents")?;
        let already = self.documents.holds(tx, &owner.id, &packed.sha256).await.or_internal("find document")?;
        if !already && held + packed.body.len() as i64 > MAX_STORED_DOCUMENT_BYTES {
            return Err(AppError::conflict(
                "openapi_document",
                format!(
                    "your unfinished wizards hold {} MiB of documents (compressed) and this one would pass the {} MiB \
                     limit; discard unfinished wizards you no longer need",
                    held >> 20,
                    MAX_STORED_DOCUMENT_BYTES >> 20
                ),
            ));
        }
        let doc = NewDocument {
            owner_id: &owner.id,
            sha256: &packed.sha256,
            text_bytes: packed.text_bytes,
            body: &packed.body,
            at: now(),
        };
        self.documents.put(tx, doc).await.or_internal("store document")?;
        Ok(packed.sha256)
    }

    /// The text of a wizard's stored document.
    pub(super) async fn document_text(&self, owner_id: &str, sha256: &str) -> Result<String, String> {
        let row = self
            .documents
            .get(owner_id, sha256)
            .await
            .map_err(|e| format!("the document could not be loaded: {e}"))?
            .ok_or("the wizard's document is no longer stored; start a new wizard")?;
        let bytes = tokio::task::spawn_blocking(move || gunzip(&row.body, MAX_DOCUMENT_BYTES))
            .await
            .map_err(|_| "decompressing the document failed".to_owned())??;
        String::from_utf8(bytes).map_err(|_| "the stored document is not UTF-8 text".into())
    }

    /// After generation: keeps a fetched document (when the account's
    /// budget allows; otherwise the search is unavailable and a note says
    /// so) and the index of every operation.
    pub(super) async fn keep_generated(
        &self,
        tx: &mut Tx,
        owner_id: &str,
        wizard_id: &str,
        known: Option<&str>,
        generated: &mut Generated,
    ) -> Result<(), AppError> {
        if generated.operations.is_empty() {
            return Ok(());
        }
        let sha256 = match (known, generated.fetched.take()) {
            (Some(sha256), _) => sha256.to_owned(),
            (None, None) => return Ok(()),
            (None, Some(text)) => {
                let packed = blocking(move || pack(&text)).await?;
                let held = self.documents.held_bytes(tx, owner_id).await.or_internal("count stored documents")?;
                if held + packed.body.len() as i64 > MAX_STORED_DOCUMENT_BYTES {
                    generated.proposal.notes.push(format!(
                        "the document was not kept (your unfinished wizards hold {} MiB of documents), so only the \
                         proposed operations can be chosen",
                        held >> 20
                    ));
                    return Ok(());
                }
                let doc = NewDocument {
                    owner_id,
                    sha256: &packed.sha256,
                    text_bytes: packed.text_bytes,
                    body: &packed.body,
                    at: now(),
                };
                self.documents.put(tx, doc).await.or_internal("store document")?;
                self.store.set_document(tx, wizard_id, &packed.sha256).await.or_internal("point at document")?;
                packed.sha256
            }
        };
        let index = serde_json::to_vec(&generated.operations).or_internal("serialize the operation index")?;
        let index = blocking(move || gzip(&index)).await?;
        if index.len() <= MAX_INDEX_BYTES {
            self.documents.set_operations(tx, owner_id, &sha256, &index).await.or_internal("store operation index")?;
        }
        Ok(())
    }

    /// Deletes the owner's documents no unfinished wizard refers to.
    pub(super) async fn prune_documents(&self, tx: &mut Tx, owner_id: &str) -> Result<(), AppError> {
        self.documents.prune(tx, owner_id).await.or_internal("delete unused documents")?;
        Ok(())
    }

    /// Searches every operation of a wizard's document: all words of
    /// `query` must occur in the method, path, name, summary or tags.
    pub async fn operations(
        &self,
        owner: &UserView,
        id: &str,
        query: &str,
        offset: usize,
        limit: usize,
    ) -> Result<OperationPage, AppError> {
        let row = self.row(owner, id).await?;
        let index = self.index(&owner.id, row.document_sha256.as_deref()).await?;
        let proposed: Vec<String> =
            row.proposal()?.map(|p| p.candidates.into_iter().filter_map(|c| c.operation).collect()).unwrap_or_default();
        let found: Vec<&OperationInfo> = index.iter().filter(|op| op.matches(query)).collect();
        let operations = found
            .iter()
            .skip(offset)
            .take(limit.clamp(1, MAX_PAGE))
            .map(|op| OperationMatch {
                proposed: proposed.contains(&op.name),
                destructive: op.destructive(),
                operation: (*op).clone(),
            })
            .collect();
        Ok(OperationPage { total: found.len(), offset, operations })
    }

    async fn index(&self, owner_id: &str, sha256: Option<&str>) -> Result<Vec<OperationInfo>, AppError> {
        let unavailable = || {
            AppError::conflict(
                "wizard",
                "this wizard's operations cannot be searched: it was not made from an OpenAPI document, or the \
                 document was not kept",
            )
        };
        let sha256 = sha256.ok_or_else(unavailable)?;
        let packed = self.documents.operations(owner_id, sha256).await.or_internal("load operations")?;
        let packed = packed.ok_or_else(unavailable)?;
        let bytes = blocking(move || gunzip(&packed, MAX_INDEX_BYTES * 16)).await?.map_err(AppError::internal)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| AppError::internal(format!("the operation index is unreadable: {e}")))
    }

    /// Adds any operation of the document to the proposal (at `actions`).
    pub async fn add_operation(&self, owner: &UserView, id: &str, input: AddOperation) -> Result<WizardView, AppError> {
        let row = self.row(owner, id).await?;
        let state = row.state()?;
        if state.step != WizardStep::Actions || state.processing != ProcessingStatus::Idle {
            return Err(AppError::conflict("wizard_step", "operations can be added while choosing actions only"));
        }
        let index = self.index(&owner.id, row.document_sha256.as_deref()).await?;
        let Some(info) = index.iter().find(|op| op.name == input.operation) else {
            return Err(AppError::invalid("operation", format!("the document has no operation `{}`", input.operation)));
        };
        let mut proposal =
            row.proposal()?.ok_or_else(|| AppError::internal("a wizard at `actions` has no proposal"))?;
        if proposal.candidates.iter().any(|c| c.operation.as_deref() == Some(info.name.as_str())) {
            return self.get(owner, id).await;
        }
        let sha256 = row.document_sha256.clone().unwrap_or_default();
        let text = self.document_text(&owner.id, &sha256).await.map_err(AppError::internal)?;
        let url = row.openapi_url.as_deref().and_then(|u| url::Url::parse(u).ok());
        let name = input.operation.clone();
        let mut candidate = generate::build_operation(text, url, name, &self.import_permits)
            .await
            .map_err(|why| AppError::invalid("operation", why))?;
        let taken: Vec<&str> = proposal.candidates.iter().map(|c| c.tool.name.as_str()).collect();
        candidate.tool.name = free_name(&candidate.tool.name, &taken);
        proposal.candidates.push(candidate);
        let text = generate::stored_proposal(&proposal).map_err(|why| AppError::conflict("operation", why))?;
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        let current = self.store.get_in(&mut tx, &owner.id, id).await.or_internal("load wizard")?;
        if current.proposal != row.proposal || current.wizard_step != row.wizard_step {
            return Err(AppError::conflict("wizard_step", "the wizard changed meanwhile; reload it and try again"));
        }
        self.store.set_proposal(&mut tx, id, &text).await.or_internal("store proposal")?;
        tx.commit().await.or_internal("commit proposal")?;
        self.get(owner, id).await
    }
}

/// `name`, or `name_2`, ... when a candidate already has it.
fn free_name(name: &str, taken: &[&str]) -> String {
    if !taken.contains(&name) {
        return name.to_owned();
    }
    (2..).map(|n| format!("{name}_{n}")).find(|candidate| !taken.contains(&candidate.as_str())).expect("a free name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_compressed() {
        let text = "openapi: 3.0.0\n".repeat(10_000);
        let packed = pack(&text);
        assert!(packed.body.len() < text.len() / 20, "{} bytes", packed.body.len());
        assert_eq!(gunzip(&packed.body, text.len()).unwrap(), text.as_bytes());
        assert!(gunzip(&packed.body, text.len() - 1).unwrap_err().contains("larger"));
        assert_eq!(packed.sha256, pack(&text).sha256);
    }

    #[test]
    fn names_stay_unique() {
        assert_eq!(free_name("a", &["b"]), "a");
        assert_eq!(free_name("a", &["a", "a_2"]), "a_3");
    }
}

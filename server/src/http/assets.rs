//! The built web assets (`site/`: the wasm bundle, its JS glue, the
//! stylesheet, the favicon), read into memory at start-up and served with
//! caching headers:
//!
//! - a content-hashed name (`automcp.<16 hex>.wasm`, written by `.ci/build`)
//!   is sent `public, max-age=31536000, immutable`; any other file
//!   `no-cache` (revalidated every time, answered by a 304 when unchanged);
//! - every file has a strong `ETag` and a `Last-Modified`, and a conditional
//!   request that matches gets `304 Not Modified` with no body;
//! - the brotli and gzip copies made at build time (`<file>.br`, `<file>.gz`)
//!   are sent to clients that accept them, so nothing is compressed per request.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

/// Most bytes read from the site directory (every file and its compressed
/// copies); what is past it is not served and logged.
pub const MAX_SITE_BYTES: u64 = 64 * 1024 * 1024;
/// Deepest directory read below the site root.
const MAX_DEPTH: usize = 4;
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The site's files by URL path (`/pkg/automcp.<hash>.wasm`).
#[derive(Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

struct Asset {
    content_type: &'static str,
    cache_control: &'static str,
    last_modified: SystemTime,
    /// The file as built, then its precompressed copies (brotli first).
    variants: Vec<Variant>,
}

struct Variant {
    encoding: Encoding,
    body: Bytes,
    etag: HeaderValue,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Encoding {
    Identity,
    Brotli,
    Gzip,
}

impl Encoding {
    fn token(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Encoding::Identity => "",
            Encoding::Brotli => ".br",
            Encoding::Gzip => ".gz",
        }
    }
}

impl Assets {
    /// Reads every file below `root`; a missing root gives no assets (the
    /// tests run without a built site).
    pub fn load(root: &Path) -> Assets {
        let mut assets = Assets::default();
        let mut budget = MAX_SITE_BYTES;
        if let Err(error) = assets.read_dir(root, "", 0, &mut budget) {
            tracing::warn!(root = %root.display(), %error, "web assets not loaded");
        }
        assets
    }

    fn read_dir(&mut self, dir: &Path, prefix: &str, depth: usize, budget: &mut u64) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            if kind.is_dir() && depth < MAX_DEPTH {
                self.read_dir(&entry.path(), &format!("{prefix}/{name}"), depth + 1, budget)?;
            } else if kind.is_file() && !name.ends_with(".br") && !name.ends_with(".gz") && !is_hash_list(&name) {
                let url = format!("{prefix}/{name}");
                match read_asset(&entry.path(), &name, budget)? {
                    Some(asset) => drop(self.files.insert(url, asset)),
                    None => tracing::warn!(%url, limit = MAX_SITE_BYTES, "web asset past the size budget, not served"),
                }
            }
        }
        Ok(())
    }

    /// The response for `GET`/`HEAD` of a known asset; `None` for anything else.
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response<Body>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let asset = self.files.get(path)?;
        let variant = asset.negotiate(headers);
        let mut response = Response::builder()
            .header(header::CACHE_CONTROL, asset.cache_control)
            .header(header::ETAG, variant.etag.clone())
            .header(header::LAST_MODIFIED, httpdate::fmt_http_date(asset.last_modified));
        if asset.variants.len() > 1 {
            response = response.header(header::VARY, "accept-encoding");
        }
        if asset.not_modified(variant, headers) {
            return response.status(StatusCode::NOT_MODIFIED).body(Body::empty()).ok();
        }
        response = response.header(header::CONTENT_TYPE, asset.content_type);
        if variant.encoding != Encoding::Identity {
            response = response.header(header::CONTENT_ENCODING, variant.encoding.token());
        }
        let body = if method == Method::HEAD { Body::empty() } else { Body::from(variant.body.clone()) };
        response.header(header::CONTENT_LENGTH, variant.body.len()).body(body).ok()
    }
}

impl Asset {
    /// The smallest copy the client accepts (brotli, then gzip, then as built).
    fn negotiate(&self, headers: &HeaderMap) -> &Variant {
        let accepted = headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok());
        let accepted: Vec<&str> = accepted.collect();
        self.variants
            .iter()
            .skip(1)
            .find(|variant| accepts(&accepted, variant.encoding.token()))
            .unwrap_or(&self.variants[0])
    }

    /// `If-None-Match` (when present, it alone decides) or `If-Modified-Since`.
    fn not_modified(&self, variant: &Variant, headers: &HeaderMap) -> bool {
        if let Some(tags) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
            let ours = variant.etag.to_str().unwrap_or_default();
            return tags.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours);
        }
        let since = headers.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok());
        match since.and_then(|v| httpdate::parse_http_date(v).ok()) {
            // HTTP dates have whole seconds; the file's time may not.
            Some(since) => self.last_modified.duration_since(since).is_ok_and(|newer| newer.as_secs() == 0),
            None => false,
        }
    }
}

/// Whether an `Accept-Encoding` list accepts `token` (named or `*`, q > 0).
fn accepts(lists: &[&str], token: &str) -> bool {
    lists.iter().flat_map(|list| list.split(',')).any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
        (name.eq_ignore_ascii_case(token) || name == "*") && !refused
    })
}

/// Reads a file and its `.br`/`.gz` copies, or `None` past the budget.
fn read_asset(path: &Path, name: &str, budget: &mut u64) -> std::io::Result<Option<Asset>> {
    let last_modified = std::fs::metadata(path)?.modified()?;
    let mut variants = Vec::new();
    for encoding in [Encoding::Identity, Encoding::Brotli, Encoding::Gzip] {
        let file = path.with_file_name(format!("{name}{}", encoding.suffix()));
        let body = match std::fs::read(&file) {
            Ok(body) => Bytes::from(body),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && encoding != Encoding::Identity => continue,
            Err(error) => return Err(error),
        };
        let Some(left) = budget.checked_sub(body.len() as u64) else { return Ok(None) };
        *budget = left;
        variants.push(Variant { encoding, etag: etag(&body, encoding), body });
    }
    let cache_control = if is_content_hashed(name) { IMMUTABLE } else { REVALIDATE };
    Ok(Some(Asset { content_type: content_type(name), cache_control, last_modified, variants }))
}

fn etag(body: &[u8], encoding: Encoding) -> HeaderValue {
    let digest = hex::encode(&Sha256::digest(body)[..12]);
    let tag = match encoding {
        Encoding::Identity => format!("\"{digest}\""),
        other => format!("\"{digest}-{}\"", other.token()),
    };
    HeaderValue::from_str(&tag).expect("hex digits are a valid header value")
}

/// `hash.txt` and `hash-<bundle>.txt`: the build's own lists, not assets.
fn is_hash_list(name: &str) -> bool {
    name.starts_with("hash") && name.ends_with(".txt")
}

/// `name.<16 hex digits>.ext`, as `.ci/build` names what it hashed.
fn is_content_hashed(name: &str) -> bool {
    name.split('.').any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("wasm") => "application/wasm",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_lists_with_q_values() {
        assert!(accepts(&["gzip, deflate, br, zstd"], "br"));
        assert!(accepts(&["gzip;q=0.5"], "gzip"));
        assert!(!accepts(&["gzip;q=0, deflate"], "gzip"));
        assert!(accepts(&["*"], "br"));
        assert!(!accepts(&["identity"], "br"));
        assert!(!accepts(&[], "gzip"));
    }

    #[test]
    fn hashed_names_are_the_build_scripts() {
        assert!(is_content_hashed("automcp.0123456789abcdef.wasm"));
        assert!(!is_content_hashed("automcp.wasm"));
        assert!(!is_content_hashed("favicon.svg"));
    }
}

//! AutoMCP as the OAuth 2.1 authorization server for its own hosted
//! endpoints (the MCP authorization spec, 2025-11-25 and 2026-07-28).
//!
//! This module is the pure core (PKCE, redirect-URI matching, the metadata
//! documents, the checks on a client's metadata) and the rules over it
//! ([`service`], [`consent`]). Its storage is [`crate::store::oauth`]; the
//! HTTP endpoints are in `http/oauth_api.rs`.

pub mod access_cache;
pub mod client_metadata;
pub mod consent;
pub mod metadata;
pub mod pkce;
pub mod redirect;
pub mod request;
pub mod service;
pub mod tokens;

/// An OAuth error as RFC 6749 §5.2 spells it: a code and a description.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
}

/// The error codes this server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    InvalidTarget,
    InvalidClientMetadata,
    InvalidRedirectUri,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError { code, description: description.into() }
    }

    /// The JSON body of an error answer.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code.as_str(), "error_description": self.description })
    }
}

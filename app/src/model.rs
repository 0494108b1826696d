//! Types shared by the browser, the server functions and the server.
//!
//! Everything here compiles to wasm: plain data, serde and no I/O.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an account may do. Free servers are mounted in the main process;
/// paid accounts may host on their own machines and have higher limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    #[default]
    Free,
    Paid,
}

impl Tier {
    pub const ALL: [Tier; 2] = [Tier::Free, Tier::Paid];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Paid => "paid",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tier {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Tier::Free),
            "paid" => Ok(Tier::Paid),
            other => Err(AppError::invalid(
                "tier",
                format!("unknown tier `{other}`: use `free` or `paid`"),
            )),
        }
    }
}

/// An account as the account holder (or an admin) may see it. Never carries
/// the password hash or any token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub tier: Tier,
    pub is_admin: bool,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
}

/// Every error a server function or an `/api/v1` endpoint can report.
///
/// The message is written for the person at the keyboard: it says what was
/// wrong and, where it can, what to do. Internal details (SQL, I/O) never
/// reach it; they are logged on the server with the request id instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// A field of the request is not acceptable (HTTP 422).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The request clashes with existing data, e.g. a taken email (HTTP 409).
    #[error("{message}")]
    Conflict { field: String, message: String },
    /// No valid session or token, or wrong credentials (HTTP 401).
    #[error("{message}")]
    Unauthenticated { message: String },
    /// Signed in, but not allowed to do this (HTTP 403).
    #[error("{message}")]
    Forbidden { message: String },
    /// The thing asked for does not exist, or is not yours (HTTP 404).
    #[error("{message}")]
    NotFound { message: String },
    /// Our fault. The message carries the request id to quote (HTTP 500).
    #[error("{message}")]
    Internal { message: String },
    /// The browser could not talk to the server, or could not read its answer.
    #[error("{message}")]
    Network { message: String },
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Conflict {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        AppError::Unauthenticated {
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden {
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        AppError::NotFound {
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal {
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } => 422,
            AppError::Conflict { .. } => 409,
            AppError::Unauthenticated { .. } => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound { .. } => 404,
            AppError::Internal { .. } => 500,
            AppError::Network { .. } => 502,
        }
    }

    /// The field a form should highlight, if the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(e) => AppError::Network {
                message: format!(
                    "could not reach the server ({e}); check your connection and try again"
                ),
            },
            E::Args(e) => AppError::invalid("", format!("the request was not understood: {e}")),
            E::MissingArg(arg) => AppError::invalid(arg.clone(), format!("`{arg}` is required")),
            other => AppError::Network {
                message: format!(
                    "the server's answer could not be read ({other}); reload the page and try again"
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_with_a_code_tag() {
        let e = AppError::invalid("password", "too short");
        let json = serde_json_like(&e);
        assert!(json.contains("\"code\":\"invalid\""), "{json}");
        assert_eq!(e.status(), 422);
        assert_eq!(e.field(), Some("password"));
    }

    fn serde_json_like(e: &AppError) -> String {
        use leptos::server_fn::error::FromServerFnError;
        String::from_utf8(e.ser().to_vec()).unwrap()
    }

    #[test]
    fn tier_parses_and_refuses_unknown_values() {
        assert_eq!("paid".parse::<Tier>().unwrap(), Tier::Paid);
        let err = "gold".parse::<Tier>().unwrap_err();
        assert!(err.to_string().contains("gold"));
    }
}

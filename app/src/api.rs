//! Server functions: the browser's entry points into the server.
//!
//! Each one is a thin shell over [`crate::ssr::Backend`]. Endpoints are fixed
//! (not hashed) so logs and tests can name them.

use crate::model::{AppError, Tier, UserView};
#[cfg(feature = "ssr")]
use crate::ssr;
use leptos::prelude::*;

/// Who is signed in, if anyone. Read through [`crate::auth::Auth::user`].
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    let backend = ssr::backend()?;
    backend.current_user(&ssr::headers()).await.map_err(ssr::reply)
}

/// Creates an account and signs it in. The first account becomes the admin.
#[server(prefix = "/api/fn", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<UserView, AppError> {
    let backend = ssr::backend()?;
    let session = backend.sign_up(email, password).await.map_err(ssr::reply)?;
    ssr::set_cookie(&session.set_cookie);
    leptos_axum::redirect("/dashboard");
    Ok(session.user)
}

/// Signs in with email and password.
#[server(prefix = "/api/fn", endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<UserView, AppError> {
    let backend = ssr::backend()?;
    let session = backend.log_in(email, password).await.map_err(ssr::reply)?;
    ssr::set_cookie(&session.set_cookie);
    leptos_axum::redirect("/dashboard");
    Ok(session.user)
}

/// Ends the current session (harmless when there is none).
#[server(prefix = "/api/fn", endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    let backend = ssr::backend()?;
    let clear = backend.log_out(&ssr::headers()).await.map_err(ssr::reply)?;
    ssr::set_cookie(&clear);
    leptos_axum::redirect("/login");
    Ok(())
}

/// Every account, for the admin page.
#[server(prefix = "/api/fn", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    let backend = ssr::backend()?;
    backend.list_users(&ssr::headers()).await.map_err(ssr::reply)
}

/// Moves an account to another tier (admins only).
#[server(prefix = "/api/fn", endpoint = "set_user_tier")]
pub async fn set_user_tier(user_id: String, tier: Tier) -> Result<UserView, AppError> {
    let backend = ssr::backend()?;
    backend.set_tier(&ssr::headers(), user_id, tier).await.map_err(ssr::reply)
}

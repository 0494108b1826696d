//! The signed-in state, shared by the pages through context (on the server:
//! islands get what they need as props).

use crate::api::current_user;
use crate::model::{AppError, UserView};
use leptos::prelude::*;

/// The current user, fetched once per page render.
#[derive(Clone, Copy)]
pub struct Auth {
    pub user: Resource<Result<Option<UserView>, AppError>>,
}

impl Auth {
    /// Creates the auth state and provides it as context.
    pub fn provide() -> Self {
        // Blocking: the server waits for it before sending headers, so a page
        // that needs a user can still answer with a redirect.
        let user = Resource::new_blocking(|| (), |_| current_user());
        let auth = Auth { user };
        provide_context(auth);
        auth
    }

    pub fn get() -> Self {
        expect_context::<Auth>()
    }
}

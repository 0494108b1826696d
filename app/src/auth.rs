//! The signed-in state, shared by every page through context.

use crate::api::{LogIn, LogOut, SignUp, current_user};
use crate::model::{AppError, UserView};
use leptos::prelude::*;

/// The auth actions and the current user. The user is fetched again whenever
/// one of the actions completes, so the navigation bar follows log in/out.
#[derive(Clone, Copy)]
pub struct Auth {
    pub log_in: ServerAction<LogIn>,
    pub sign_up: ServerAction<SignUp>,
    pub log_out: ServerAction<LogOut>,
    pub user: Resource<Result<Option<UserView>, AppError>>,
}

impl Auth {
    /// Creates the auth state and provides it as context.
    pub fn provide() -> Self {
        let log_in = ServerAction::<LogIn>::new();
        let sign_up = ServerAction::<SignUp>::new();
        let log_out = ServerAction::<LogOut>::new();
        // Blocking: the server waits for it before sending headers, so a page
        // that needs a user can still answer with a redirect.
        let user = Resource::new_blocking(
            move || (log_in.version().get(), sign_up.version().get(), log_out.version().get()),
            |_| current_user(),
        );
        let auth = Auth { log_in, sign_up, log_out, user };
        provide_context(auth);
        auth
    }

    pub fn get() -> Self {
        expect_context::<Auth>()
    }
}

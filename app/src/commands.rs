//! One-click changes to one record (disable a server, revoke a token, …),
//! as a single island: each button says which [`Command`] it runs, asks first
//! when the change cannot be undone, shows the error if it fails, and loads
//! the page (or the next one) again when it succeeds, so the server renders
//! the new state.

use crate::api;
use crate::components::{BUTTON_SECONDARY, ConfirmButton, ErrorBanner, Interactive};
use crate::model::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A change to one record, by the ids it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    DisableServer(String),
    EnableServer(String),
    DeleteServer(String),
    DiscardWizard(String),
    RetryWizard(String),
    RevokeApiToken(String),
    RemoveSource(String),
    RemoveTarget(String),
}

impl Command {
    /// Runs the command through its server function.
    pub async fn run(self) -> Result<(), AppError> {
        match self {
            Command::DisableServer(id) => api::disable_server(id).await,
            Command::EnableServer(id) => api::enable_server(id).await,
            Command::DeleteServer(id) => api::delete_server(id).await,
            Command::DiscardWizard(id) => api::discard_wizard(id).await,
            Command::RetryWizard(id) => api::retry_wizard(id).await,
            Command::RevokeApiToken(id) => api::revoke_api_token(id).await,
            Command::RemoveSource(id) => api::remove_source(id).await,
            Command::RemoveTarget(id) => api::remove_target(id).await,
        }
    }
}

/// Where the browser goes after the command succeeded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Then {
    /// This page again.
    #[default]
    Reload,
    /// Another page (a path on this site).
    Go(String),
}

/// What the button says, and the question asked before a change that cannot
/// be undone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ask {
    pub question: String,
    /// The confirming button's label ("Yes, delete").
    pub confirm: String,
}

/// A button that runs `command`. `id` is the element id (and, when it asks
/// first, the prefix of `{id}-confirm` and `{id}-cancel`). Island props are
/// all required (they travel as JSON), so each use spells out `ask`, `then`
/// and `primary`.
#[cfg_attr(
    any(feature = "ssr", feature = "bundle-account", feature = "bundle-wizard", feature = "bundle-manage"),
    island
)]
#[cfg_attr(
    not(any(feature = "ssr", feature = "bundle-account", feature = "bundle-wizard", feature = "bundle-manage")),
    component
)]
pub fn CommandButton(
    command: Command,
    id: String,
    label: String,
    ask: Option<Ask>,
    then: Then,
    primary: bool,
) -> impl IntoView {
    let action = Action::new_local(move |command: &Command| command.clone().run());
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            match &then {
                Then::Reload => crate::browser::reload(),
                Then::Go(path) => crate::browser::go(path),
            }
        }
    });
    let pending = action.pending();
    let run = Callback::new(move |()| {
        action.dispatch(command.clone());
    });
    let class = if primary { crate::components::BUTTON_PRIMARY } else { BUTTON_SECONDARY };
    let button = match ask {
        Some(Ask { question, confirm }) => view! {
            <ConfirmButton id label=label question confirm_label=confirm pending on_confirm=run/>
        }
        .into_any(),
        None => view! {
            <button type="button" id=id class=class disabled=move || pending.get() on:click=move |_| run.run(())>
                {label}
            </button>
        }
        .into_any(),
    };
    view! {
        <Interactive>
            <span class="inline-flex flex-col items-end gap-1">
                {button}
                {move || match action.value().get() {
                    Some(Err(error)) => Some(view! { <ErrorBanner error id="command-error"/> }),
                    _ => None,
                }}
            </span>
        </Interactive>
    }
}

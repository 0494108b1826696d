//! One component per page; the route table is in [`crate::App`].

mod admin;
mod auth_forms;
mod client_access;
mod connect;
mod consent;
mod dashboard;
mod home;
mod machines;
mod mcps;
mod server;
mod tokens;
mod wizard;

pub use admin::AdminUsers;
pub use auth_forms::{LogIn, LogInForm, SignUp};
pub use client_access::ServerAccess;
pub use connect::{ConnectPanel, ConnectTarget, ConnectionSettings};
pub use consent::ConsentPage;
pub use dashboard::Dashboard;
pub use home::Home;
pub use machines::{HostingPage, MachinesPage};
pub use mcps::{EditMcp, NewMcp, SourcesPage};
pub use server::ServerPage;
pub use tokens::TokensPage;
pub use wizard::{NewWizard, WizardPage};

use leptos::prelude::*;
use leptos_meta::Title;

/// Any path we do not know. Answers 404 on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_page_status(404);
    view! {
        <Title text="Not found · AutoMCP"/>
        <section class="py-16 text-center">
            <h1 class="text-3xl font-bold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">"There is nothing at this address."</p>
            <a href="/" class="mt-6 inline-block text-indigo-700 hover:underline">"Back to the start page"</a>
        </section>
    }
}

//! AutoMCP's web application.
//!
//! - [`model`]: wasm-safe types shared with the server (and its API).
//! - [`spec`]: the server spec (tools as HTTP actions) and its validation.
//! - [`wizard`]: the create-server wizard's state machine and types.
//! - [`mcps`]: servers made from an existing MCP server (fetch tools, pick, create).
//! - [`api`]: server functions, thin shells over [`ssr::Backend`].
//! - [`auth`]: the signed-in state the pages share.
//! - [`components`] and [`pages`]: the UI.
//! - `ssr` (server builds only): the port the server implements.
//!
//! Built twice: with `ssr` into the server binary, with `hydrate` into the
//! wasm bundle that makes the server-rendered pages interactive.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod clients;
pub mod components;
pub mod mcps;
pub mod model;
pub mod origins;
pub mod pages;
pub mod spec;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod vps;
pub mod wizard;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

/// The file in the site root where the build lists its content hashes
/// (`js: <hash>`, `wasm: <hash>`, `css: <hash>`), one per asset.
pub const HASH_FILE: &str = "hash.txt";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = stylesheet_href(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href=stylesheet/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// `/pkg/automcp.<hash>.css` when the build hashed the stylesheet (read once
/// per process, as the bundle's names are), else `/pkg/automcp.css`.
fn stylesheet_href(options: &LeptosOptions) -> String {
    static HASH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let hash = HASH.get_or_init(|| {
        let listed = options.hash_files.then(|| std::fs::read_to_string(options.hash_file.as_ref()).ok()).flatten()?;
        let line = listed.lines().find_map(|line| line.strip_prefix("css:"))?;
        Some(line.trim().to_string())
    });
    let name = &options.output_name;
    match hash {
        Some(hash) => format!("/{}/{name}.{hash}.css", options.site_pkg_dir),
        None => format!("/{}/{name}.css", options.site_pkg_dir),
    }
}

/// The application: navigation bar and the page for the current path.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    auth::Auth::provide();
    provide_context(pages::Created(RwSignal::new(None)));

    // Effects only run in the browser, so this flips once hydration is done.
    // End-to-end tests wait for it before they click anything.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title text="AutoMCP"/>
        <Router>
            <div class="flex min-h-screen flex-col" data-hydrated=move || hydrated.get().to_string()>
                <components::NavBar/>
                <main class="mx-auto w-full max-w-5xl flex-1 px-4 py-8 sm:px-6">
                    <Routes fallback=pages::NotFound>
                        <Route path=path!("/") view=pages::Home/>
                        <Route path=path!("/login") view=pages::LogIn/>
                        <Route path=path!("/signup") view=pages::SignUp/>
                        <Route path=path!("/oauth/consent") view=pages::ConsentPage/>
                        <Route path=path!("/dashboard") view=pages::Dashboard/>
                        <Route path=path!("/admin/users") view=pages::AdminUsers/>
                        <Route path=path!("/wizard/new") view=pages::NewWizard/>
                        <Route path=path!("/wizard/:id") view=pages::WizardPage/>
                        <Route path=path!("/servers/:id") view=pages::ServerPage/>
                        <Route path=path!("/sources") view=pages::SourcesPage/>
                        <Route path=path!("/machines") view=pages::MachinesPage/>
                        <Route path=path!("/tokens") view=pages::TokensPage/>
                        <Route path=path!("/mcps/new") view=pages::NewMcp/>
                        <Route path=path!("/mcps/:id/edit") view=pages::EditMcp/>
                    </Routes>
                </main>
                <footer class="border-t border-slate-200 py-4 text-center text-xs text-slate-500">
                    "AutoMCP: turn an HTTP API into a live MCP server."
                </footer>
            </div>
        </Router>
    }
}

/// Entry point of the wasm bundle: attaches the app to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}

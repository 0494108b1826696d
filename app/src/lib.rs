//! AutoMCP's web application.
//!
//! - [`model`]: wasm-safe types shared with the server (and its API).
//! - [`spec`]: the server spec (tools as HTTP actions) and its validation.
//! - [`wizard`]: the create-server wizard's state machine and types.
//! - [`mcps`]: servers made from an existing MCP server (fetch tools, pick, create).
//! - [`api`]: server functions, thin shells over [`ssr::Backend`].
//! - [`auth`]: the signed-in state the pages share.
//! - [`components`] and [`pages`]: the UI.
//! - [`browser`]: what islands ask of the browser (go, reload).
//! - [`bundles`]: which wasm bundle (which islands) each page loads.
//! - [`commands`]: one island for every one-click change to a record.
//! - `ssr` (server builds only): the port the server implements.
//!
//! Built twice: with `ssr` into the server binary, with `hydrate` into the
//! wasm bundle. Leptos runs in islands mode: every page is rendered on the
//! server only, and just the components marked `#[island]` (forms, buttons,
//! the playground) are compiled to wasm and made interactive in the browser.
//! Islands have no client-side router and no context from the page around
//! them: what they need comes in as props, and after a change they load the
//! page again (or the next one), which the server renders.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod browser;
pub mod bundles;
pub mod clients;
pub mod commands;
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
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

/// The file in the site root where the build lists its content hashes
/// (`js: <hash>`, `wasm: <hash>`, `css: <hash>`), one per asset.
pub const HASH_FILE: &str = "hash.txt";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = stylesheet_href(&options);
    let options = bundle_options(options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href=stylesheet/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The options naming the wasm bundle for the page being rendered
/// (`automcp-<bundle>` and its `hash-<bundle>.txt`).
fn bundle_options(mut options: LeptosOptions) -> LeptosOptions {
    #[cfg(feature = "ssr")]
    let path = use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_owned()).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let path = String::new();
    let bundle = bundles::Bundle::for_path(&path).name();
    options.output_name = format!("{}-{bundle}", options.output_name).into();
    let hash_file = std::path::Path::new(options.hash_file.as_ref()).with_file_name(format!("hash-{bundle}.txt"));
    options.hash_file = hash_file.to_string_lossy().into_owned().into();
    options
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

/// The application: navigation bar and the page for the current path,
/// rendered on the server (the router only runs there). Every page waits for
/// its data before the first byte (`SsrMode::Async`), so it can still answer
/// with a redirect or a 404 and arrives complete, islands included.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    auth::Auth::provide();
    view! {
        <Title text="AutoMCP"/>
        <Router>
            <div class="flex min-h-screen flex-col">
                <components::NavBar/>
                <main class="mx-auto w-full max-w-5xl flex-1 px-4 py-8 sm:px-6">
                    <Routes fallback=pages::NotFound>
                        <Route path=path!("/") ssr=SsrMode::Async view=pages::Home/>
                        <Route path=path!("/login") ssr=SsrMode::Async view=pages::LogIn/>
                        <Route path=path!("/signup") ssr=SsrMode::Async view=pages::SignUp/>
                        <Route path=path!("/oauth/consent") ssr=SsrMode::Async view=pages::ConsentPage/>
                        <Route path=path!("/dashboard") ssr=SsrMode::Async view=pages::Dashboard/>
                        <Route path=path!("/admin/users") ssr=SsrMode::Async view=pages::AdminUsers/>
                        <Route path=path!("/wizard/new") ssr=SsrMode::Async view=pages::NewWizard/>
                        <Route path=path!("/wizard/:id") ssr=SsrMode::Async view=pages::WizardPage/>
                        <Route path=path!("/servers/:id") ssr=SsrMode::Async view=pages::ServerPage/>
                        <Route path=path!("/servers/:id/hosting") ssr=SsrMode::Async view=pages::HostingPage/>
                        <Route path=path!("/sources") ssr=SsrMode::Async view=pages::SourcesPage/>
                        <Route path=path!("/machines") ssr=SsrMode::Async view=pages::MachinesPage/>
                        <Route path=path!("/tokens") ssr=SsrMode::Async view=pages::TokensPage/>
                        <Route path=path!("/mcps/new") ssr=SsrMode::Async view=pages::NewMcp/>
                        <Route path=path!("/mcps/:id/edit") ssr=SsrMode::Async view=pages::EditMcp/>
                    </Routes>
                </main>
                <footer class="border-t border-slate-200 py-4 text-center text-xs text-slate-500">
                    "AutoMCP: turn an HTTP API into a live MCP server."
                </footer>
            </div>
        </Router>
    }
}

/// Entry point of the wasm bundle, called by Leptos' islands script before
/// it hydrates each `<leptos-island>` on the page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // A server function that redirects (log in, sign up) sends the browser on.
    let _ = leptos::server_fn::redirect::set_redirect_hook(browser::go);
    leptos::mount::hydrate_islands();
    browser::mark_hydrated();
}

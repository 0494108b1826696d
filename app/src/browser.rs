//! The few things an island asks of the browser: go to a page, reload this
//! one, ask a yes/no question. Without the `hydrate` feature (server
//! renders) they do nothing: islands only act in the browser.

/// Loads `path` as a full page (islands have no client-side router).
pub fn go(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window().location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Loads this page again, so the server renders what just changed.
pub fn reload() {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window().location().reload();
    }
}

/// Marks the page as interactive once every island on it is hydrated.
///
/// The islands script hydrates islands in one chain of promise callbacks
/// right after [`crate::hydrate`] returns; a zero-delay timer runs after that
/// chain. End-to-end tests and the page measurement wait for
/// `data-hydrated="true"` on `<body>`.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    leptos::prelude::set_timeout(
        || {
            if let Some(body) = leptos::prelude::document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}

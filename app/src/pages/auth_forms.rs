//! Log in and sign up: server-rendered cards around two small island forms.

use crate::api::{LogIn, SignUp, local_path};
use crate::auth::Auth;
use crate::components::{ActionError, BUTTON_PRIMARY, Card, Field};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

/// Sends a signed-in visitor on to the dashboard.
#[component]
fn RedirectIfSignedIn() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.user.await, Ok(Some(_))).then(|| view! { <Redirect path="/dashboard"/> })
            })}
        </Suspense>
    }
}

#[component]
pub fn LogIn() -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| q.get("next")).filter(|next| local_path(Some(next)).is_some());
    view! {
        <Title text="Log in · AutoMCP"/>
        <RedirectIfSignedIn/>
        <Card title="Log in">
            <LogInForm next/>
            <p class="mt-4 text-center text-sm text-slate-600">
                "No account yet? " <a href="/signup" class="text-indigo-700 underline hover:no-underline">"Sign up"</a>
            </p>
        </Card>
    }
}

/// Email and password; on success the server sends the browser to `next`
/// (a path on this site) or the dashboard. Not wrapped in `Interactive`:
/// before the wasm arrives the form posts natively and the server redirects.
#[cfg_attr(any(feature = "ssr", feature = "bundle-account"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-account")), component)]
pub fn LogInForm(next: Option<String>) -> impl IntoView {
    let log_in = ServerAction::<LogIn>::new();
    let pending = log_in.pending();
    view! {
        <ActionForm action=log_in attr:class="space-y-4" attr:id="login-form">
            <Field name="email" label="Email" kind="email" autocomplete="email"/>
            <Field name="password" label="Password" kind="password" autocomplete="current-password"/>
            {next.map(|next| view! { <input type="hidden" name="next" value=next/> })}
            <ActionError value=log_in.value()/>
            <button type="submit" id="submit" class=format!("{BUTTON_PRIMARY} w-full") disabled=pending>
                {move || if pending.get() { "Logging in…" } else { "Log in" }}
            </button>
        </ActionForm>
    }
}

#[component]
pub fn SignUp() -> impl IntoView {
    view! {
        <Title text="Sign up · AutoMCP"/>
        <RedirectIfSignedIn/>
        <Card title="Create your account">
            <SignUpForm/>
            <p class="mt-4 text-center text-sm text-slate-600">
                "Already have an account? " <a href="/login" class="text-indigo-700 underline hover:no-underline">"Log in"</a>
            </p>
        </Card>
    }
}

/// Email and password for a new account; on success the server sends the
/// browser to the dashboard.
#[cfg_attr(any(feature = "ssr", feature = "bundle-account"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-account")), component)]
fn SignUpForm() -> impl IntoView {
    let sign_up = ServerAction::<SignUp>::new();
    let pending = sign_up.pending();
    view! {
        <ActionForm action=sign_up attr:class="space-y-4" attr:id="signup-form">
            <Field name="email" label="Email" kind="email" autocomplete="email"/>
            <Field
                name="password"
                label="Password"
                kind="password"
                autocomplete="new-password"
                hint="At least 10 characters; not a common password and not your email."
            />
            <ActionError value=sign_up.value()/>
            <button type="submit" id="submit" class=format!("{BUTTON_PRIMARY} w-full") disabled=pending>
                {move || if pending.get() { "Creating account…" } else { "Create account" }}
            </button>
        </ActionForm>
    }
}

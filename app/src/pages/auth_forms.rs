use crate::auth::Auth;
use crate::components::{ActionError, BUTTON_PRIMARY, Card, Field};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// Sends a signed-in visitor on to the dashboard.
#[component]
fn RedirectIfSignedIn() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.user.await, Ok(Some(_))).then(|| view! { <Redirect path="/dashboard"/> })
            })}
        </Transition>
    }
}

#[component]
pub fn LogIn() -> impl IntoView {
    let auth = Auth::get();
    let pending = auth.log_in.pending();
    view! {
        <Title text="Log in · AutoMCP"/>
        <RedirectIfSignedIn/>
        <Card title="Log in">
            <ActionForm action=auth.log_in attr:class="space-y-4" attr:id="login-form">
                <Field name="email" label="Email" kind="email" autocomplete="email"/>
                <Field name="password" label="Password" kind="password" autocomplete="current-password"/>
                <ActionError value=auth.log_in.value()/>
                <button type="submit" id="submit" class=format!("{BUTTON_PRIMARY} w-full") disabled=pending>
                    {move || if pending.get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p class="mt-4 text-center text-sm text-slate-600">
                "No account yet? " <a href="/signup" class="text-indigo-700 hover:underline">"Sign up"</a>
            </p>
        </Card>
    }
}

#[component]
pub fn SignUp() -> impl IntoView {
    let auth = Auth::get();
    let pending = auth.sign_up.pending();
    view! {
        <Title text="Sign up · AutoMCP"/>
        <RedirectIfSignedIn/>
        <Card title="Create your account">
            <ActionForm action=auth.sign_up attr:class="space-y-4" attr:id="signup-form">
                <Field name="email" label="Email" kind="email" autocomplete="email"/>
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 10 characters; not a common password and not your email."
                />
                <ActionError value=auth.sign_up.value()/>
                <button type="submit" id="submit" class=format!("{BUTTON_PRIMARY} w-full") disabled=pending>
                    {move || if pending.get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="mt-4 text-center text-sm text-slate-600">
                "Already have an account? " <a href="/login" class="text-indigo-700 hover:underline">"Log in"</a>
            </p>
        </Card>
    }
}

//! `/oauth/consent`: where an MCP client sends its user. The page says which
//! client asks for which server and where the browser goes afterwards; the
//! user signs in (if need be) and allows or denies. The decision is a plain
//! form POST to `/oauth/authorize` (same query), which answers with the
//! redirect back to the client, so it works before hydration too.

use crate::api::consent;
use crate::components::{BUTTON_PRIMARY, BUTTON_SECONDARY, ErrorBanner};
use crate::model::ConsentView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

#[component]
pub fn ConsentPage() -> impl IntoView {
    let search = use_location().search;
    let query = move || search.get().trim_start_matches('?').to_owned();
    let view_of = Resource::new(query, consent);
    view! {
        <Title text="Connect a client · AutoMCP"/>
        <section class="mx-auto max-w-lg rounded-2xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8" id="consent">
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view_of.await {
                        Ok(request) => view! { <Consent request query=query()/> }.into_any(),
                        Err(error) => view! {
                            <h1 class="mb-4 text-2xl font-bold tracking-tight">"This sign-in request cannot go on"</h1>
                            <ErrorBanner error id="consent-error"/>
                            <p class="mt-4 text-sm text-slate-600">"Close this page and try connecting again from your app."</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Consent(request: ConsentView, query: String) -> impl IntoView {
    let action = format!("/oauth/authorize?{query}");
    let from = request.client_domain.clone().map(|domain| format!(" ({domain})")).unwrap_or_default();
    view! {
        <h1 class="mb-4 text-2xl font-bold tracking-tight" id="consent-title">
            {format!("Connect {} to {}?", request.client_name, request.server_name)}
        </h1>
        <dl class="mb-6 space-y-2 text-sm">
            <div>
                <dt class="font-medium text-slate-700">"The app asking"</dt>
                <dd id="consent-client">{format!("{}{from}", request.client_name)}</dd>
                <dd class="break-all text-xs text-slate-500">{request.client_id.clone()}</dd>
            </div>
            <div>
                <dt class="font-medium text-slate-700">"Wants to call the tools of"</dt>
                <dd id="consent-server">{request.server_name.clone()}</dd>
                <dd class="break-all text-xs text-slate-500">{request.server_endpoint.clone()}</dd>
            </div>
            <div>
                <dt class="font-medium text-slate-700">"Afterwards your browser goes to"</dt>
                <dd id="consent-redirect">{request.redirect_host.clone()}</dd>
            </div>
        </dl>
        {match (request.signed_in_as.clone(), request.refusal.clone()) {
            (None, _) => view! { <SignInFirst query=query.clone()/> }.into_any(),
            (Some(email), Some(refusal)) => view! {
                <p class="mb-4 rounded-lg bg-amber-50 p-3 text-sm text-amber-800" id="consent-refusal">{refusal}</p>
                <p class="mb-4 text-sm text-slate-600">{format!("Signed in as {email}.")}</p>
                <form method="post" action=action.clone()>
                    <button type="submit" name="decision" value="deny" id="consent-back" class=BUTTON_SECONDARY>
                        "Return to the app"
                    </button>
                </form>
            }.into_any(),
            (Some(email), None) => view! {
                <p class="mb-4 text-sm text-slate-600" id="consent-user">
                    {format!("Signed in as {email}. The app acts as you on this server until you or the owner revoke it.")}
                </p>
                <form method="post" action=action.clone() class="flex gap-3">
                    <button type="submit" name="decision" value="allow" id="consent-allow" class=BUTTON_PRIMARY>"Allow"</button>
                    <button type="submit" name="decision" value="deny" id="consent-deny" class=BUTTON_SECONDARY>"Deny"</button>
                </form>
            }.into_any(),
        }}
    }
}

/// Sign in here; back on this page, it shows Allow and Deny.
#[component]
fn SignInFirst(query: String) -> impl IntoView {
    view! {
        <p class="mb-4 text-sm text-slate-700">"Log in to your AutoMCP account to decide."</p>
        <crate::pages::LogInForm next=Some(format!("/oauth/consent?{query}"))/>
    }
}

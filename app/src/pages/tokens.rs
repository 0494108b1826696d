//! The API tokens page: personal tokens for `/api/v1`, created with an
//! optional expiry (the token is shown once), listed with when they were
//! last used, and revoked after a confirmation.

use crate::api::{CreateApiToken, RevokeApiToken, list_api_tokens};
use crate::auth::Auth;
use crate::components::{ActionError, BUTTON_PRIMARY, ConfirmButton, CopyButton, ErrorBanner, INPUT, Interactive};
use crate::model::{ApiTokenCreated, ApiTokenView, NewApiToken};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// Expiry choices, in days (`None`: never).
const EXPIRIES: [(&str, Option<u32>); 4] =
    [("30 days", Some(30)), ("90 days", Some(90)), ("1 year", Some(365)), ("Never", None)];

#[component]
pub fn TokensPage() -> impl IntoView {
    let auth = Auth::get();
    let tokens = Resource::new(|| (), |_| list_api_tokens());
    view! {
        <Title text="API tokens · AutoMCP"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.user.await, Ok(None)).then(|| view! { <Redirect path="/login"/> })
            })}
        </Suspense>
        <section class="mx-auto max-w-3xl space-y-8">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"API tokens"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Programs use a token to call the AutoMCP API as you: "
                    <code class="rounded bg-slate-100 px-1">"Authorization: Bearer <token>"</code>
                    ". Give each program its own, so you can revoke one without the others."
                </p>
            </div>
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <Tokens list/> }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The form for a new token (the token itself is shown once, after it is
/// created) and the list, which follows creates and revokes in place.
#[cfg_attr(any(feature = "ssr", feature = "bundle-account"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-account")), component)]
fn Tokens(list: Vec<ApiTokenView>) -> impl IntoView {
    let list = RwSignal::new(list);
    view! {
        <Interactive>
            <NewToken list/>
            {move || {
                if list.with(Vec::is_empty) {
                    view! { <p id="tokens-empty" class="text-sm text-slate-600">"You have no API tokens."</p> }.into_any()
                } else {
                    view! {
                        <ul id="tokens" class="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white">
                            <For each=move || list.get() key=|token| token.id.clone() let:token>
                                <TokenRow token list/>
                            </For>
                        </ul>
                    }
                    .into_any()
                }
            }}
        </Interactive>
    }
}

#[component]
fn NewToken(list: RwSignal<Vec<ApiTokenView>>) -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let name = RwSignal::new(String::new());
    let expiry = RwSignal::new(0usize);
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            name.set(String::new());
            list.update(|list| list.insert(0, created.view));
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let expires_in_days = EXPIRIES[expiry.get_untracked()].1;
        create.dispatch(CreateApiToken { input: NewApiToken { name: name.get_untracked(), expires_in_days } });
    };
    view! {
        <form on:submit=submit id="token-form" class="space-y-3 rounded-2xl border border-slate-200 bg-white p-5 shadow-sm">
            <h2 class="text-lg font-semibold">"New token"</h2>
            <div class="flex flex-col gap-3 sm:flex-row sm:items-end">
                <div class="flex-1">
                    <label for="token-name" class="block text-sm font-medium text-slate-700">"Name"</label>
                    <input
                        id="token-name"
                        class=INPUT
                        placeholder="e.g. laptop, CI"
                        maxlength="100"
                        prop:value=name
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </div>
                <div>
                    <label for="token-expiry" class="block text-sm font-medium text-slate-700">"Expires after"</label>
                    <select
                        id="token-expiry"
                        class=INPUT
                        on:change=move |ev| expiry.set(event_target_value(&ev).parse().unwrap_or(0))
                    >
                        {EXPIRIES
                            .iter()
                            .enumerate()
                            .map(|(i, (label, _))| view! { <option value=i.to_string()>{*label}</option> })
                            .collect_view()}
                    </select>
                </div>
                <button
                    type="submit"
                    id="token-create"
                    class=BUTTON_PRIMARY
                    disabled=move || create.pending().get() || name.with(|n| n.trim().is_empty())
                >
                    "Create token"
                </button>
            </div>
            <ActionError value=create.value()/>
            {move || match create.value().get() {
                Some(Ok(created)) => Some(view! { <ShownOnce created/> }),
                _ => None,
            }}
        </form>
    }
}

#[component]
fn ShownOnce(created: ApiTokenCreated) -> impl IntoView {
    view! {
        <div id="token-created" class="rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm">
            <p class="font-medium text-emerald-900">
                {format!("Token “{}” created. Copy it now: it is not shown again.", created.view.name)}
            </p>
            <div class="mt-2 flex flex-wrap items-center gap-2">
                <code id="token-value" class="break-all rounded bg-white px-2 py-1 font-mono text-xs">{created.token.clone()}</code>
                <CopyButton text=created.token label="Copy token"/>
            </div>
        </div>
    }
}

#[component]
fn TokenRow(token: ApiTokenView, list: RwSignal<Vec<ApiTokenView>>) -> impl IntoView {
    let revoke = ServerAction::<RevokeApiToken>::new();
    let id = token.id.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            list.update(|list| list.retain(|t| t.id != id));
        }
    });
    let id = token.id.clone();
    let on_confirm = Callback::new(move |()| {
        revoke.dispatch(RevokeApiToken { id: id.clone() });
    });
    let expiry = match (token.expired, token.expires_at) {
        (true, _) => {
            view! { <span class="rounded bg-red-100 px-2 py-0.5 text-xs font-medium text-red-800">"expired"</span> }
                .into_any()
        }
        (false, Some(at)) => view! { <span>{format!("expires {}", date(at))}</span> }.into_any(),
        (false, None) => view! { <span>"never expires"</span> }.into_any(),
    };
    let used = token.last_used_at.map(|at| format!("last used {}", date(at))).unwrap_or_else(|| "never used".into());
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 px-4 py-3" data-token=token.name.clone()>
            <div class="min-w-0">
                <p class="font-medium">{token.name.clone()}</p>
                <p class="flex flex-wrap gap-2 text-xs text-slate-500">
                    <span>{format!("created {}", date(token.created_at))}</span>
                    <span>{used}</span>
                    {expiry}
                </p>
            </div>
            <div class="flex flex-col items-end gap-1">
                <ConfirmButton
                    id=format!("revoke-{}", token.id)
                    label="Revoke"
                    question=format!("Revoke “{}”? Programs using it stop working at once.", token.name)
                    confirm_label="Yes, revoke"
                    pending=revoke.pending()
                    on_confirm
                />
                <ActionError value=revoke.value()/>
            </div>
        </li>
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time in seconds.
pub fn date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::date;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_796_256_000), "2026-12-03");
        assert_eq!(date(1_796_256_000 + 86_399), "2026-12-03");
    }
}

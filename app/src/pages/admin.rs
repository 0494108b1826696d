use crate::api::{SetUserTier, list_users};
use crate::auth::Auth;
use crate::components::{ActionError, BUTTON_SECONDARY, ErrorBanner, Interactive};
use crate::model::{Tier, UserView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// Admins only: every account and its tier.
#[component]
pub fn AdminUsers() -> impl IntoView {
    let auth = Auth::get();
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Title text="Users · AutoMCP"/>
        <h1 class="mb-6 text-2xl font-bold tracking-tight">"Users"</h1>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                if let Ok(None) = auth.user.await {
                    return view! { <Redirect path="/login"/> }.into_any();
                }
                match users.await {
                    Ok(users) => view! { <UserTable users/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserTable(users: Vec<UserView>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-xl border border-slate-200 bg-white">
            <table class="min-w-full text-left text-sm">
                <thead class="bg-slate-50 text-slate-600">
                    <tr>
                        <th class="px-4 py-2 font-medium">"Email"</th>
                        <th class="px-4 py-2 font-medium">"Role"</th>
                        <th class="px-4 py-2 font-medium">"Tier"</th>
                    </tr>
                </thead>
                <tbody>
                    {users
                        .into_iter()
                        .map(|user| {
                            let current = user.tier;
                            view! {
                                <tr class="border-t border-slate-100">
                                    <td class="px-4 py-2">{user.email}</td>
                                    <td class="px-4 py-2">{if user.is_admin { "admin" } else { "user" }}</td>
                                    <td class="px-4 py-2">
                                        <TierForm user_id=user.id current/>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// One account's tier, saved on its own; the table reloads after a change.
#[cfg_attr(any(feature = "ssr", feature = "bundle-account"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-account")), component)]
fn TierForm(user_id: String, current: Tier) -> impl IntoView {
    let set_tier = ServerAction::<SetUserTier>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = set_tier.value().get() {
            crate::browser::reload();
        }
    });
    view! {
        <Interactive>
            <ActionForm action=set_tier attr:class="flex flex-wrap items-center gap-2">
                <input type="hidden" name="user_id" value=user_id/>
                <select name="tier" class="rounded-lg border border-slate-300 px-2 py-1" aria-label="Tier">
                    {Tier::ALL
                        .into_iter()
                        .map(|tier| view! { <option value=tier.as_str() selected=tier == current>{tier.as_str()}</option> })
                        .collect_view()}
                </select>
                <button type="submit" class=BUTTON_SECONDARY disabled=set_tier.pending()>"Save"</button>
                <ActionError value=set_tier.value()/>
            </ActionForm>
        </Interactive>
    }
}

use crate::api::{SetUserTier, list_users};
use crate::auth::Auth;
use crate::components::{ActionError, BUTTON_SECONDARY, ErrorBanner};
use crate::model::{Tier, UserView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// Admins only: every account and its tier.
#[component]
pub fn AdminUsers() -> impl IntoView {
    let auth = Auth::get();
    let set_tier = ServerAction::<SetUserTier>::new();
    let users = Resource::new(move || set_tier.version().get(), |_| list_users());
    view! {
        <Title text="Users · AutoMCP"/>
        <h1 class="mb-6 text-2xl font-bold tracking-tight">"Users"</h1>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                if let Ok(None) = auth.user.await {
                    return view! { <Redirect path="/login"/> }.into_any();
                }
                match users.await {
                    Ok(users) => view! { <UserTable users set_tier/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserTable(users: Vec<UserView>, set_tier: ServerAction<SetUserTier>) -> impl IntoView {
    view! {
        <ActionError value=set_tier.value()/>
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
                                        <ActionForm action=set_tier attr:class="flex items-center gap-2">
                                            <input type="hidden" name="user_id" value=user.id/>
                                            <select name="tier" class="rounded-lg border border-slate-300 px-2 py-1" aria-label="Tier">
                                                {Tier::ALL
                                                    .into_iter()
                                                    .map(|tier| view! {
                                                        <option value=tier.as_str() selected=tier == current>{tier.as_str()}</option>
                                                    })
                                                    .collect_view()}
                                            </select>
                                            <button type="submit" class=BUTTON_SECONDARY>"Save"</button>
                                        </ActionForm>
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

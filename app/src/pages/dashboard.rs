use crate::auth::Auth;
use crate::components::{BUTTON_PRIMARY, ErrorBanner};
use crate::model::{Tier, UserView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// The signed-in home: the user's servers and the ways to create one.
#[component]
pub fn Dashboard() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <Title text="Dashboard · AutoMCP"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => view! { <DashboardFor user/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DashboardFor(user: UserView) -> impl IntoView {
    let tier_note = match user.tier {
        Tier::Free => "Free plan: servers with up to 3 tools, hosted here.",
        Tier::Paid => "Paid plan: no tool limit; host on your own server.",
    };
    view! {
        <div class="space-y-8">
            <div class="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
                <div>
                    <h1 class="text-2xl font-bold tracking-tight" id="dashboard-title">"Your MCP servers"</h1>
                    <p class="mt-1 text-sm text-slate-600">
                        "Signed in as " <span id="dashboard-email" class="font-medium">{user.email.clone()}</span>
                        " · " <span id="dashboard-tier" class="font-medium">{user.tier.to_string()}</span>
                        {user.is_admin.then_some(" · admin")}
                    </p>
                    <p class="text-xs text-slate-500">{tier_note}</p>
                </div>
                <CreateServerMenu/>
            </div>
            <section aria-labelledby="servers-heading" class="rounded-2xl border border-dashed border-slate-300 bg-white p-8 text-center">
                <h2 id="servers-heading" class="sr-only">"Servers"</h2>
                <p id="servers-empty" class="text-slate-600">"You have no servers yet."</p>
                <p class="mt-1 text-sm text-slate-500">
                    "A server turns the HTTP calls you choose into tools your assistant can use."
                </p>
            </section>
        </div>
    }
}

/// The entry points for creating a server. Both flows are being built; until
/// a flow exists its button says so instead of leading nowhere.
#[component]
fn CreateServerMenu() -> impl IntoView {
    view! {
        <div class="flex flex-wrap gap-2" id="create-server">
            <button type="button" class=BUTTON_PRIMARY disabled title="The create-server wizard is not available yet">
                "Create server: describe it"
            </button>
            <button type="button" class=BUTTON_PRIMARY disabled title="Creating from an existing MCP server is not available yet">
                "Create server: from an MCP server"
            </button>
        </div>
    }
}

use crate::api::{list_servers, unfinished_wizards};
use crate::auth::Auth;
use crate::commands::{Ask, Command, CommandButton, Then};
use crate::components::{BUTTON_PRIMARY, BUTTON_SECONDARY, CopyButton, ErrorBanner};
use crate::model::{ServerKind, ServerStatus, ServerView, Tier, UserView};
use crate::pages::wizard::DiscardWizardButton;
use crate::wizard::{ProcessingStatus, WizardView};
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
        Tier::Free => "Free plan: servers with up to 3 tools, up to 3 live at once, hosted here.",
        Tier::Paid => "Paid plan: no tool limit.",
    };
    let servers = Resource::new(|| (), |_| list_servers());
    let wizards = Resource::new(|| (), |_| unfinished_wizards());
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
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match wizards.await {
                        Ok(list) if list.is_empty() => None,
                        Ok(list) => Some(view! { <Unfinished list/> }.into_any()),
                        Err(error) => Some(view! { <ErrorBanner error/> }.into_any()),
                    }
                })}
            </Suspense>
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading servers…"</p> }>
                {move || Suspend::new(async move {
                    match servers.await {
                        Ok(list) if list.is_empty() => view! {
                            <section class="rounded-2xl border border-dashed border-slate-300 bg-white p-8 text-center">
                                <p id="servers-empty" class="text-slate-600">"You have no servers yet."</p>
                                <p class="mt-1 text-sm text-slate-500">
                                    "A server turns the HTTP calls you choose into tools your assistant can use."
                                </p>
                            </section>
                        }
                        .into_any(),
                        Ok(list) => view! { <ServerList list tier=user.tier/> }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

/// Wizards not finished yet, to pick up where they were left.
#[component]
fn Unfinished(list: Vec<WizardView>) -> impl IntoView {
    view! {
        <section aria-labelledby="unfinished-heading" id="unfinished">
            <h2 id="unfinished-heading" class="mb-2 text-lg font-semibold">"Unfinished"</h2>
            <ul class="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white">
                {list
                    .into_iter()
                    .map(|wizard| {
                        let status = match (wizard.step, wizard.processing_status) {
                            (_, ProcessingStatus::Processing) => "proposing tools…".to_owned(),
                            (_, ProcessingStatus::Failed) => "failed; retry".to_owned(),
                            (step, _) => format!("at step: {}", step.as_str()),
                        };
                        view! {
                            <li class="flex flex-wrap items-center justify-between gap-2 px-4 py-3">
                                <div class="min-w-0">
                                    <p class="truncate font-medium">{wizard.description.clone()}</p>
                                    <p class="text-xs text-slate-500" data-step=wizard.step.as_str()>{status}</p>
                                </div>
                                <div class="flex items-center gap-2">
                                    <a href=format!("/wizard/{}", wizard.id) class=BUTTON_SECONDARY>"Continue"</a>
                                    <DiscardWizardButton id=wizard.id.clone() then=crate::commands::Then::Reload/>
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn ServerList(list: Vec<ServerView>, tier: Tier) -> impl IntoView {
    view! {
        <section aria-labelledby="servers-heading">
            <h2 id="servers-heading" class="mb-2 text-lg font-semibold">"Servers"</h2>
            <ul class="space-y-3" id="servers">
                {list.into_iter().map(|server| view! { <ServerRow server tier/> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn ServerRow(server: ServerView, tier: Tier) -> impl IntoView {
    let live = server.status == ServerStatus::Active;
    let id = server.id.clone();
    let toggle = if live {
        view! { <CommandButton command=Command::DisableServer(id.clone()) id=format!("disable-{id}") label="Disable".to_owned() ask=None then=Then::Reload primary=false/> }
    } else {
        view! { <CommandButton command=Command::EnableServer(id.clone()) id=format!("enable-{id}") label="Enable".to_owned() ask=None then=Then::Reload primary=false/> }
    };
    let ask = Ask {
        question: format!("Delete {}? Its endpoint stops working and its call log is removed.", server.name),
        confirm: "Yes, delete".to_owned(),
    };
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4" data-slug=server.slug.clone()>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <a href=format!("/servers/{id}") class="font-semibold text-indigo-700 hover:underline">
                        {server.name.clone()}
                    </a>
                    <p class="text-xs text-slate-500">
                        <span class=if live { "text-green-700" } else { "text-slate-500" } data-status=server.status.as_str()>
                            {server.status.as_str()}
                        </span>
                        {format!(" · {tier} tier · {} tool(s) · {}", server.tool_count, server.client_auth.as_str())}
                        {(server.kind == ServerKind::Mcp).then_some(" · from an MCP server")}
                    </p>
                    <div class="mt-1 flex flex-wrap items-center gap-2">
                        <code class="break-all text-xs">{server.endpoint.clone()}</code>
                        <CopyButton text=server.endpoint.clone() label="Copy URL"/>
                    </div>
                </div>
                <div class="flex flex-wrap items-start gap-2">
                    <a href=format!("/servers/{id}") class=BUTTON_SECONDARY>"Open"</a>
                    {(server.kind == ServerKind::Mcp).then(|| view! {
                        <a href=format!("/mcps/{id}/edit") class=BUTTON_SECONDARY>"Edit"</a>
                    })}
                    {toggle}
                    <CommandButton command=Command::DeleteServer(id.clone()) id=format!("delete-{id}") label="Delete".to_owned() ask=Some(ask) then=Then::Reload primary=false/>
                </div>
            </div>
        </li>
    }
}

/// The ways to create a server.
#[component]
fn CreateServerMenu() -> impl IntoView {
    view! {
        <div class="flex flex-wrap gap-2" id="create-server">
            <a href="/wizard/new" class=BUTTON_PRIMARY id="create-wizard">"Create server"</a>
            <a href="/mcps/new" class=BUTTON_SECONDARY id="create-from-mcp">"From an MCP server"</a>
        </div>
    }
}

use crate::api::{DeleteServer, DisableServer, EnableServer, list_servers, unfinished_wizards};
use crate::auth::Auth;
use crate::components::{ActionError, BUTTON_PRIMARY, BUTTON_SECONDARY, CopyButton, ErrorBanner};
use crate::model::{ServerKind, ServerStatus, ServerView, Tier, UserView};
use crate::pages::Created;
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
    let changed = RwSignal::new(0u32);
    let servers = Resource::new(move || changed.get(), |_| list_servers());
    let wizards_changed = RwSignal::new(0u32);
    let wizards = Resource::new(move || wizards_changed.get(), |_| unfinished_wizards());
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
            <JustCreatedBanner/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match wizards.await {
                        Ok(list) if list.is_empty() => None,
                        Ok(list) => Some(view! { <Unfinished list changed=wizards_changed/> }.into_any()),
                        Err(error) => Some(view! { <ErrorBanner error/> }.into_any()),
                    }
                })}
            </Transition>
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading servers…"</p> }>
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
                        Ok(list) => view! { <ServerList list changed tier=user.tier/> }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// Wizards not finished yet, to pick up where they were left.
#[component]
fn Unfinished(list: Vec<WizardView>, changed: RwSignal<u32>) -> impl IntoView {
    let gone = Callback::new(move |()| changed.update(|n| *n += 1));
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
                                    <DiscardWizardButton id=wizard.id.clone() gone/>
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
fn ServerList(list: Vec<ServerView>, changed: RwSignal<u32>, tier: Tier) -> impl IntoView {
    let disable = ServerAction::<DisableServer>::new();
    let enable = ServerAction::<EnableServer>::new();
    let delete = ServerAction::<DeleteServer>::new();
    Effect::new(move |_| {
        let done = [disable.version().get(), enable.version().get(), delete.version().get()];
        if done.iter().any(|v| *v > 0) {
            changed.update(|c| *c += 1);
        }
    });
    view! {
        <section aria-labelledby="servers-heading">
            <h2 id="servers-heading" class="mb-2 text-lg font-semibold">"Servers"</h2>
            <ActionError value=disable.value()/>
            <ActionError value=enable.value()/>
            <ActionError value=delete.value()/>
            <ul class="space-y-3" id="servers">
                {list
                    .into_iter()
                    .map(|server| {
                        let (id1, id2) = (server.id.clone(), server.id.clone());
                        let name = server.name.clone();
                        let live = server.status == ServerStatus::Active;
                        view! {
                            <li class="rounded-xl border border-slate-200 bg-white p-4" data-slug=server.slug.clone()>
                                <div class="flex flex-wrap items-start justify-between gap-3">
                                    <div class="min-w-0">
                                        <a href=format!("/servers/{}", server.id) class="font-semibold text-indigo-700 hover:underline">
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
                                    <div class="flex flex-wrap gap-2">
                                        <a href=format!("/servers/{}", server.id) class=BUTTON_SECONDARY>"Open"</a>
                                        {(server.kind == ServerKind::Mcp).then(|| view! {
                                            <a href=format!("/mcps/{}/edit", server.id) class=BUTTON_SECONDARY>"Edit"</a>
                                        })}
                                        {if live {
                                            view! {
                                                <button class=BUTTON_SECONDARY on:click=move |_| { disable.dispatch(DisableServer { id: id1.clone() }); }>
                                                    "Disable"
                                                </button>
                                            }.into_any()
                                        } else {
                                            view! {
                                                <button class=BUTTON_SECONDARY on:click=move |_| { enable.dispatch(EnableServer { id: id1.clone() }); }>
                                                    "Enable"
                                                </button>
                                            }.into_any()
                                        }}
                                        <button
                                            class=BUTTON_SECONDARY
                                            on:click=move |_| {
                                                if confirm(&format!("Delete {name}? Its endpoint stops working and its call log is removed.")) {
                                                    delete.dispatch(DeleteServer { id: id2.clone() });
                                                }
                                            }
                                        >
                                            "Delete"
                                        </button>
                                    </div>
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// Asks the person to confirm (in the browser; always "no" elsewhere).
fn confirm(message: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().confirm_with_message(message).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = message;
        false
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

/// The server just created from an MCP server, with its client token:
/// shown once, here, right after the create.
#[component]
fn JustCreatedBanner() -> impl IntoView {
    let slot = use_context::<Created>().map(|Created(slot)| slot);
    move || {
        let slot = slot?;
        let created = slot.get()?;
        Some(view! {
            <section id="just-created" role="status" class="rounded-2xl border border-green-200 bg-green-50 p-4 text-sm text-green-900">
                <div class="flex items-start justify-between gap-3">
                    <p class="font-semibold">{format!("{} is created.", created.name)}</p>
                    <button type="button" aria-label="Dismiss" class="font-semibold" on:click=move |_| slot.set(None)>"×"</button>
                </div>
                <div class="mt-3 text-slate-900">
                    <crate::pages::ConnectPanel server=created.target.clone() token=created.token.clone()/>
                </div>
            </section>
        })
    }
}

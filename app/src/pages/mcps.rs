//! Servers made from an existing MCP server, in the browser:
//! - `/sources`: register upstream MCP servers (admins: for everyone);
//! - `/mcps/new`: pick a source, Fetch Tools, tick, Create MCP (one request);
//! - `/mcps/{id}/edit`: the same form with the cached tools, Refresh Tools
//!   (showing what changed) and Save (one request).

use crate::api::{
    AddSource, ChangeSource, CreateFromSource, FetchSourceTools, RefreshMcpTools, RemoveSource, SaveMcp, get_mcp,
    list_sources,
};
use crate::auth::Auth;
use crate::components::{
    ActionError, BUTTON_PRIMARY, BUTTON_SECONDARY, ChoiceBox, ErrorBanner, INPUT, Interactive, Toast, parameters_line,
};
use crate::mcps::{
    AuthKind, CreateMcp, FetchTools, McpView, RegisterSource, SourceView, ToolDef, ToolsDiff, UpdateMcp, UpdateSource,
    diff_tools, slug_from,
};
use crate::model::{AppError, ClientAuth, ServerStatus, Tier, UserView};
use crate::spec::FREE_MAX_TOOLS;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

/// A server just created, shown once in place of the form: its client
/// token is not stored anywhere we could show it from again.
#[derive(Clone, Debug, PartialEq)]
struct JustCreated {
    name: String,
    target: crate::pages::ConnectTarget,
    token: Option<String>,
}

/// `/sources`: the upstream MCP servers the user can build from.
#[component]
pub fn SourcesPage() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <Title text="MCP sources · AutoMCP"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => view! { <Sources user/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The sources and the form to register one: one island that fetches the
/// list again after each change.
#[cfg_attr(any(feature = "ssr", feature = "bundle-manage"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-manage")), component)]
fn Sources(user: UserView) -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let sources = Resource::new(move || changed.get(), |_| list_sources());
    let add = ServerAction::<AddSource>::new();
    let change = ServerAction::<ChangeSource>::new();
    let remove = ServerAction::<RemoveSource>::new();
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let shared = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            name.set(String::new());
            url.set(String::new());
            description.set(String::new());
            changed.update(|c| *c += 1);
        }
    });
    Effect::new(move |_| {
        let done = [change.version().get(), remove.version().get()];
        if done.iter().any(|v| *v > 0) {
            changed.update(|c| *c += 1);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch(AddSource {
            input: RegisterSource {
                name: name.get_untracked(),
                url: url.get_untracked(),
                description: description.get_untracked(),
                enabled: true,
                shared: shared.get_untracked(),
            },
        });
    };
    let is_admin = user.is_admin;
    view! {
        <Interactive>
            <div class="space-y-8">
                <div class="flex flex-wrap items-end justify-between gap-4">
                    <div>
                        <h1 class="text-2xl font-bold tracking-tight">"MCP sources"</h1>
                        <p class="mt-1 text-sm text-slate-600">
                            "Existing MCP servers you can build from: pick the tools to expose and get an endpoint with our auth, limits and call log in front."
                        </p>
                    </div>
                    <a href="/mcps/new" class=BUTTON_PRIMARY id="new-mcp">"Create from an MCP server"</a>
                </div>
                <section aria-labelledby="register-heading" class="rounded-2xl border border-slate-200 bg-white p-6">
                    <h2 id="register-heading" class="mb-4 text-lg font-semibold">"Register an MCP server"</h2>
                    <form on:submit=submit class="grid gap-4 sm:grid-cols-2" id="source-form">
                        <div>
                            <label for="source-name" class="block text-sm font-medium text-slate-700">"Name"</label>
                            <input id="source-name" class=INPUT required prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                        </div>
                        <div>
                            <label for="source-url" class="block text-sm font-medium text-slate-700">"MCP endpoint URL"</label>
                            <input
                                id="source-url"
                                type="url"
                                class=INPUT
                                required
                                placeholder="https://mcp.example.com/mcp"
                                prop:value=url
                                on:input=move |ev| url.set(event_target_value(&ev))
                            />
                        </div>
                        <div class="sm:col-span-2">
                            <label for="source-description" class="block text-sm font-medium text-slate-700">"Description (optional)"</label>
                            <input id="source-description" class=INPUT prop:value=description on:input=move |ev| description.set(event_target_value(&ev))/>
                        </div>
                        {is_admin.then(|| view! {
                            <label class="flex items-center gap-2 text-sm sm:col-span-2">
                                <input type="checkbox" id="source-shared" prop:checked=shared on:change=move |ev| shared.set(event_target_checked(&ev))/>
                                "Available to every account (otherwise only you see it)"
                            </label>
                        })}
                        <div class="flex items-center gap-3 sm:col-span-2">
                            <button type="submit" id="add-source" class=BUTTON_PRIMARY disabled=move || add.pending().get()>
                                "Register"
                            </button>
                            <ActionError value=add.value()/>
                        </div>
                    </form>
                </section>
                <ActionError value=change.value()/>
                <ActionError value=remove.value()/>
                <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match sources.await {
                            Ok(list) if list.is_empty() => view! {
                                <p id="sources-empty" class="text-sm text-slate-500">"No MCP servers are registered yet."</p>
                            }.into_any(),
                            Ok(list) => view! { <SourceList list change remove/> }.into_any(),
                            Err(error) => view! { <ErrorBanner error/> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </Interactive>
    }
}

#[component]
fn SourceList(
    list: Vec<SourceView>,
    change: ServerAction<ChangeSource>,
    remove: ServerAction<RemoveSource>,
) -> impl IntoView {
    view! {
        <ul class="space-y-3" id="sources">
            {list.into_iter().map(|source| {
                let (id1, id2) = (source.id.clone(), source.id.clone());
                let enabled = source.enabled;
                view! {
                    <li class="rounded-xl border border-slate-200 bg-white p-4" data-source=source.name.clone()>
                        <div class="flex flex-wrap items-start justify-between gap-3">
                            <div class="min-w-0">
                                <p class="font-semibold">{source.name.clone()}</p>
                                <p class="break-all font-mono text-xs text-slate-600">{source.url.clone()}</p>
                                <p class="text-xs text-slate-500">
                                    <span data-enabled=enabled.to_string()>{if enabled { "enabled" } else { "disabled" }}</span>
                                    {if source.shared { " · for everyone" } else { " · only you" }}
                                </p>
                                {(!source.description.is_empty()).then(|| view! { <p class="text-sm text-slate-600">{source.description.clone()}</p> })}
                            </div>
                            {source.editable.then(|| view! {
                                <div class="flex gap-2">
                                    <button
                                        class=BUTTON_SECONDARY
                                        on:click=move |_| {
                                            change.dispatch(ChangeSource {
                                                id: id1.clone(),
                                                input: UpdateSource { enabled: Some(!enabled), ..UpdateSource::default() },
                                            });
                                        }
                                    >
                                        {if enabled { "Disable" } else { "Enable" }}
                                    </button>
                                    <button class=BUTTON_SECONDARY on:click=move |_| { remove.dispatch(RemoveSource { id: id2.clone() }); }>
                                        "Delete"
                                    </button>
                                </div>
                            })}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// `/mcps/new`: the single-step create form.
#[component]
pub fn NewMcp() -> impl IntoView {
    let auth = Auth::get();
    let sources = Resource::new(|| (), |_| list_sources());
    view! {
        <Title text="New server from an MCP server · AutoMCP"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = match auth.user.await {
                    Ok(Some(user)) => user,
                    Ok(None) => return view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => return view! { <ErrorBanner error/> }.into_any(),
                };
                match sources.await {
                    Ok(list) => view! { <McpForm existing=None sources=list tier=user.tier/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/mcps/{id}/edit`: the same form for a stored server.
#[component]
pub fn EditMcp() -> impl IntoView {
    let auth = Auth::get();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let server = Resource::new(id, get_mcp);
    let sources = Resource::new(|| (), |_| list_sources());
    view! {
        <Title text="Edit server · AutoMCP"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = match auth.user.await {
                    Ok(Some(user)) => user,
                    Ok(None) => return view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => return view! { <ErrorBanner error/> }.into_any(),
                };
                match (server.await, sources.await) {
                    (Ok(existing), Ok(list)) => {
                        view! { <McpForm existing=Some(existing) sources=list tier=user.tier/> }.into_any()
                    }
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn optional(text: String) -> Option<String> {
    Some(text).filter(|t| !t.trim().is_empty())
}

/// Create (no `existing`) or edit (`existing`) a server made from a source.
#[cfg_attr(any(feature = "ssr", feature = "bundle-manage"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-manage")), component)]
fn McpForm(existing: Option<McpView>, sources: Vec<SourceView>, tier: Tier) -> impl IntoView {
    let editing = existing.is_some();
    let edit_id = existing.as_ref().map(|v| v.id.clone()).unwrap_or_default();
    let stored_auth = existing.as_ref().map(|v| v.auth).unwrap_or_default();
    let cached: Vec<ToolDef> = existing.as_ref().map(|v| v.tools_cache.clone()).unwrap_or_default();
    let first_usable = sources.iter().find(|s| s.enabled).map(|s| s.id.clone()).unwrap_or_default();

    let source_id = RwSignal::new(existing.as_ref().map(|v| v.mcp_server_id.clone()).unwrap_or(first_usable));
    let auth_kind = RwSignal::new(stored_auth);
    let header_key = RwSignal::new(existing.as_ref().and_then(|v| v.auth_header_key.clone()).unwrap_or_default());
    let header_value = RwSignal::new(String::new());
    let name = RwSignal::new(existing.as_ref().map(|v| v.name.clone()).unwrap_or_default());
    let slug = RwSignal::new(existing.as_ref().map(|v| v.slug.clone()).unwrap_or_default());
    let slug_touched = RwSignal::new(editing);
    let description = RwSignal::new(existing.as_ref().map(|v| v.description.clone()).unwrap_or_default());
    let enabled = RwSignal::new(existing.as_ref().is_none_or(|v| v.status == ServerStatus::Active));
    let client_auth = RwSignal::new(ClientAuth::Bearer);
    // None until a fetch succeeds (create); the cached list when editing.
    let tools: RwSignal<Option<Vec<ToolDef>>> = RwSignal::new(existing.as_ref().map(|v| v.tools_cache.clone()));
    let chosen = RwSignal::new(existing.as_ref().map(|v| v.tools_filter.clone()).unwrap_or_default());
    let diff: RwSignal<Option<ToolsDiff>> = RwSignal::new(None);
    let toast: RwSignal<Option<String>> = RwSignal::new(None);
    let limit = (tier == Tier::Free).then_some(FREE_MAX_TOOLS);

    let fetch = ServerAction::<FetchSourceTools>::new();
    let refresh = ServerAction::<RefreshMcpTools>::new();
    let create = ServerAction::<CreateFromSource>::new();
    let save = ServerAction::<SaveMcp>::new();
    let fetching = Signal::derive(move || fetch.pending().get() || refresh.pending().get());

    let cached_for_fetch = cached.clone();
    let arrived = move |fresh: Vec<ToolDef>| {
        chosen.update(|c| c.retain(|name| fresh.iter().any(|t| &t.name == name)));
        if editing {
            diff.set(Some(diff_tools(&cached_for_fetch, &fresh)));
        }
        toast.set(None);
        tools.set(Some(fresh));
    };
    let arrived_too = arrived.clone();
    Effect::new(move |_| match fetch.value().get() {
        Some(Ok(result)) => arrived(result.tools),
        Some(Err(error)) => {
            toast.set(Some(format!("Could not fetch tools: {error}")));
            if !editing {
                tools.set(None);
            }
        }
        None => {}
    });
    Effect::new(move |_| match refresh.value().get() {
        Some(Ok(result)) => arrived_too(result.tools),
        Some(Err(error)) => toast.set(Some(format!("Could not refresh tools: {error}"))),
        None => {}
    });

    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            crate::browser::go("/dashboard");
        }
    });

    let do_fetch = move || {
        fetch.dispatch(FetchSourceTools {
            input: FetchTools {
                mcp_server_id: source_id.get_untracked(),
                auth: auth_kind.get_untracked(),
                auth_header_key: optional(header_key.get_untracked()),
                auth_header_value: optional(header_value.get_untracked()),
            },
        });
    };
    let id_for_refresh = edit_id.clone();
    let on_fetch = move |_| {
        // Editing with the stored auth: refresh through the server, which
        // holds the header value (it is never sent back to the browser).
        let auth_changed = auth_kind.get_untracked() != stored_auth || !header_value.get_untracked().is_empty();
        if editing && !auth_changed {
            refresh.dispatch(RefreshMcpTools { id: id_for_refresh.clone() });
        } else {
            do_fetch();
        }
    };
    let id_for_save = edit_id.clone();
    let on_submit = move |_| {
        let header = auth_kind.get_untracked() == AuthKind::Header;
        if editing {
            save.dispatch(SaveMcp {
                id: id_for_save.clone(),
                input: UpdateMcp {
                    name: Some(name.get_untracked()),
                    slug: Some(slug.get_untracked()),
                    description: Some(description.get_untracked()),
                    enabled: Some(enabled.get_untracked()),
                    auth: Some(auth_kind.get_untracked()),
                    auth_header_key: header.then(|| header_key.get_untracked()),
                    auth_header_value: if header { optional(header_value.get_untracked()) } else { None },
                    tools_cache: tools.get_untracked(),
                    tools_filter: Some(chosen.get_untracked()),
                },
            });
        } else {
            create.dispatch(CreateFromSource {
                input: CreateMcp {
                    name: name.get_untracked(),
                    slug: slug.get_untracked(),
                    mcp_server_id: source_id.get_untracked(),
                    description: description.get_untracked(),
                    enabled: enabled.get_untracked(),
                    auth: auth_kind.get_untracked(),
                    auth_header_key: header.then(|| header_key.get_untracked()),
                    auth_header_value: if header { optional(header_value.get_untracked()) } else { None },
                    client_auth: client_auth.get_untracked(),
                    tools_cache: tools.get_untracked().unwrap_or_default(),
                    tools_filter: chosen.get_untracked(),
                },
            });
        }
    };

    let source_name = existing.as_ref().map(|v| v.mcp_server_name.clone()).unwrap_or_default();
    let no_sources = sources.is_empty();
    let not_fetched = move || tools.with(Option::is_none);
    let submit_error = Signal::derive(move || match (create.value().get(), save.value().get()) {
        (Some(Err(error)), _) | (_, Some(Err(error))) => Some(Err::<(), AppError>(error)),
        _ => None,
    });

    let just_created = move || {
        create.value().get().and_then(Result::ok).map(|created| JustCreated {
            name: created.mcp.name.clone(),
            target: crate::pages::ConnectTarget::from(&created.mcp),
            token: created.token,
        })
    };
    view! {
        <Interactive>
            {move || just_created().map(|created| view! { <JustCreatedPanel created/> })}
            <div class:hidden=move || just_created().is_some()>
            <Toast message=toast/>
            <section class="mx-auto max-w-3xl space-y-6">
                <div>
                    <h1 class="text-2xl font-bold tracking-tight" id="mcp-form-title">
                        {if editing { "Edit server" } else { "New server from an MCP server" }}
                    </h1>
                    <p class="mt-1 text-sm text-slate-600">
                        "Expose only the tools you choose from an existing MCP server, behind your own endpoint, token, limits and call log."
                    </p>
                </div>
                <div class="space-y-4 rounded-2xl border border-slate-200 bg-white p-6">
                    {if editing {
                        view! {
                            <p class="text-sm">"MCP server: " <span class="font-medium" id="source-name-readonly">{source_name.clone()}</span></p>
                        }.into_any()
                    } else if no_sources {
                        view! {
                            <p id="no-sources" class="text-sm text-slate-600">
                                "No MCP servers are registered yet. " <a href="/sources" class="text-indigo-700 hover:underline">"Register one"</a> " first."
                            </p>
                        }.into_any()
                    } else {
                        view! {
                            <div>
                                <label for="source" class="block text-sm font-medium text-slate-700">"MCP server"</label>
                                <select
                                    id="source"
                                    class=INPUT
                                    prop:value=source_id
                                    on:change=move |ev| {
                                        source_id.set(event_target_value(&ev));
                                        tools.set(None);
                                        chosen.set(Vec::new());
                                    }
                                >
                                    {sources.iter().map(|s| {
                                        let label = if s.enabled { s.name.clone() } else { format!("{} (disabled)", s.name) };
                                        view! { <option value=s.id.clone() disabled=!s.enabled>{label}</option> }
                                    }).collect_view()}
                                </select>
                                <p class="mt-1 text-xs text-slate-500"><a href="/sources" class="hover:underline">"Manage MCP servers"</a></p>
                            </div>
                        }.into_any()
                    }}
                    <fieldset class="space-y-2">
                        <legend class="text-sm font-medium text-slate-700">"How we authenticate to it"</legend>
                        <div class="flex gap-4 text-sm">
                            <label class="flex items-center gap-2">
                                <input type="radio" name="auth" id="auth-public" prop:checked=move || auth_kind.get() == AuthKind::Public
                                    on:change=move |_| auth_kind.set(AuthKind::Public)/>
                                "No credentials"
                            </label>
                            <label class="flex items-center gap-2">
                                <input type="radio" name="auth" id="auth-header" prop:checked=move || auth_kind.get() == AuthKind::Header
                                    on:change=move |_| auth_kind.set(AuthKind::Header)/>
                                "A header"
                            </label>
                        </div>
                        <Show when=move || auth_kind.get() == AuthKind::Header>
                            <div class="grid gap-3 sm:grid-cols-2">
                                <div>
                                    <label for="auth-header-key" class="block text-xs font-medium text-slate-600">"Header name"</label>
                                    <input id="auth-header-key" class=INPUT placeholder="Authorization"
                                        prop:value=header_key on:input=move |ev| header_key.set(event_target_value(&ev))/>
                                </div>
                                <div>
                                    <label for="auth-header-value" class="block text-xs font-medium text-slate-600">"Value (stored encrypted)"</label>
                                    <input id="auth-header-value" type="password" class=INPUT autocomplete="off"
                                        placeholder=if editing && stored_auth == AuthKind::Header { "unchanged" } else { "Bearer …" }
                                        prop:value=header_value on:input=move |ev| header_value.set(event_target_value(&ev))/>
                                </div>
                            </div>
                        </Show>
                    </fieldset>
                    <div class="grid gap-4 sm:grid-cols-2">
                        <div>
                            <label for="mcp-name" class="block text-sm font-medium text-slate-700">"Name"</label>
                            <input id="mcp-name" class=INPUT prop:value=name on:input=move |ev| {
                                let value = event_target_value(&ev);
                                if !slug_touched.get_untracked() {
                                    slug.set(slug_from(&value));
                                }
                                name.set(value);
                            }/>
                        </div>
                        <div>
                            <label for="mcp-slug" class="block text-sm font-medium text-slate-700">"Endpoint slug"</label>
                            <input id="mcp-slug" class=format!("{INPUT} font-mono") prop:value=slug on:input=move |ev| {
                                slug_touched.set(true);
                                slug.set(event_target_value(&ev));
                            }/>
                            <p class="mt-1 text-xs text-slate-500">{move || format!("/mcp/{}", slug.get())}</p>
                        </div>
                        <div class="sm:col-span-2">
                            <label for="mcp-description" class="block text-sm font-medium text-slate-700">"Description (optional)"</label>
                            <input id="mcp-description" class=INPUT prop:value=description on:input=move |ev| description.set(event_target_value(&ev))/>
                        </div>
                        <label class="flex items-center gap-2 text-sm">
                            <input type="checkbox" id="mcp-enabled" prop:checked=enabled on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                            "Live at its endpoint"
                        </label>
                        {(!editing).then(|| view! {
                            <label class="block text-sm">
                                "How clients connect"
                                <select id="mcp-client-auth" class=INPUT on:change=move |ev| client_auth.set(match event_target_value(&ev).as_str() {
                                    "oauth" => ClientAuth::OAuth,
                                    "public" => ClientAuth::Public,
                                    _ => ClientAuth::Bearer,
                                })>
                                    <option value="bearer" selected=move || client_auth.get() == ClientAuth::Bearer>"With a token (recommended)"</option>
                                    <option value="oauth" selected=move || client_auth.get() == ClientAuth::OAuth>"Sign in with OAuth (claude.ai, ChatGPT)"</option>
                                    <option value="public" selected=move || client_auth.get() == ClientAuth::Public>"Public: anyone with the URL"</option>
                                </select>
                            </label>
                        })}
                    </div>
                </div>

                <section aria-labelledby="tools-heading" class="space-y-3 rounded-2xl border border-slate-200 bg-white p-6">
                    <div class="flex flex-wrap items-center justify-between gap-3">
                        <h2 id="tools-heading" class="text-lg font-semibold">"Tools"</h2>
                        <div class="flex items-center gap-3">
                            <p id="selection-count" class="text-sm font-medium text-slate-700" aria-live="polite">
                                {move || match limit {
                                    Some(max) => format!("{} of {max}", chosen.with(Vec::len)),
                                    None => format!("{} selected", chosen.with(Vec::len)),
                                }}
                            </p>
                            <button
                                type="button"
                                id="fetch-tools"
                                class=BUTTON_SECONDARY
                                disabled=move || fetching.get() || (!editing && no_sources)
                                on:click=on_fetch
                            >
                                {move || match (fetching.get(), editing) {
                                    (true, _) => "Fetching…",
                                    (false, true) => "Refresh Tools",
                                    (false, false) => "Fetch Tools",
                                }}
                            </button>
                        </div>
                    </div>
                    {limit.map(|max| view! {
                        <p class="text-xs text-slate-500" id="tier-hint">
                            {format!("The free tier exposes up to {max} tools per server. The paid tier has no limit.")}
                        </p>
                    })}
                    {move || diff.get().map(|d| view! { <DiffPanel diff=d/> })}
                    {move || match tools.get() {
                        None => view! {
                            <p id="tools-placeholder" class="rounded-lg border border-dashed border-slate-300 p-6 text-center text-sm text-slate-500">
                                "Select a server and fetch tools to see available tools"
                            </p>
                        }.into_any(),
                        Some(list) if list.is_empty() => view! {
                            <p id="tools-none" class="text-sm text-slate-500">"This MCP server offers no tools."</p>
                        }.into_any(),
                        Some(list) => view! { <ToolList list chosen limit diff/> }.into_any(),
                    }}
                </section>

                <div class="flex flex-wrap items-center gap-3">
                    <span title=move || not_fetched().then_some("Fetch tools from server first")>
                        <button
                            type="button"
                            id="submit-mcp"
                            class=BUTTON_PRIMARY
                            title=move || not_fetched().then_some("Fetch tools from server first")
                            disabled=move || not_fetched() || create.pending().get() || save.pending().get()
                            on:click=on_submit
                        >
                            {if editing { "Save" } else { "Create MCP" }}
                        </button>
                    </span>
                    <a href="/dashboard" class=BUTTON_SECONDARY>"Cancel"</a>
                </div>
                <ActionError value=submit_error/>
            </section>
            </div>
        </Interactive>
    }
}

/// The server just created, with its client token: shown once, here.
#[component]
fn JustCreatedPanel(created: JustCreated) -> impl IntoView {
    view! {
        <section id="just-created" role="status" class="mx-auto max-w-3xl space-y-3 rounded-2xl border border-green-200 bg-green-50 p-4 text-sm text-green-900">
            <p class="font-semibold">{format!("{} is created.", created.name)}</p>
            <div class="text-slate-900">
                <crate::pages::ConnectPanel server=created.target.clone() token=created.token.clone()/>
            </div>
            <div class="flex flex-wrap gap-2">
                <a href=format!("/servers/{}", created.target.id) class=BUTTON_PRIMARY id="open-created">"Open the server page"</a>
                <a href="/dashboard" class=BUTTON_SECONDARY id="to-dashboard">"Go to your dashboard"</a>
            </div>
        </section>
    }
}

#[component]
fn ToolList(
    list: Vec<ToolDef>,
    chosen: RwSignal<Vec<String>>,
    limit: Option<usize>,
    diff: RwSignal<Option<ToolsDiff>>,
) -> impl IntoView {
    view! {
        <ul class="divide-y divide-slate-100 rounded-xl border border-slate-200" id="tools-list">
            {list.into_iter().map(|tool| {
                let key = tool.name.clone();
                let badge = {
                    let key = key.clone();
                    move || diff.with(|d| d.as_ref().and_then(|d| {
                        if d.added.contains(&key) { Some("new") } else if d.changed.contains(&key) { Some("changed") } else { None }
                    }))
                };
                let label = tool.label().to_owned();
                view! {
                    <li class="flex items-start gap-3 p-3" data-tool=key.clone()>
                        <ChoiceBox key=key.clone() chosen limit label=format!("Expose {key}")/>
                        <div class="min-w-0 flex-1">
                            <p class="font-mono text-sm font-semibold">
                                {key.clone()}
                                {move || badge().map(|b| view! {
                                    <span class="ml-2 rounded bg-amber-100 px-1.5 py-0.5 font-sans text-xs font-medium text-amber-800" data-badge=b>{b}</span>
                                })}
                            </p>
                            {(label != key).then(|| view! { <p class="text-sm font-medium">{label.clone()}</p> })}
                            <p class="text-sm text-slate-600">{tool.description.clone().unwrap_or_default()}</p>
                            <p class="text-xs text-slate-500">
                                {parameters_line(&tool.input_schema)}
                            </p>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// What changed at the source since the tools were saved.
#[component]
fn DiffPanel(diff: ToolsDiff) -> impl IntoView {
    if diff.is_empty() {
        return view! {
            <p id="tools-diff" data-empty="true" class="rounded-lg bg-slate-50 px-3 py-2 text-sm text-slate-600">
                "No changes: the MCP server offers the same tools as saved."
            </p>
        }
        .into_any();
    }
    let row = |id: &'static str, title: &'static str, names: Vec<String>| {
        (!names.is_empty()).then(|| {
            view! {
                <p id=id><span class="font-medium">{title}</span>" "{names.join(", ")}</p>
            }
        })
    };
    view! {
        <div id="tools-diff" role="status" class="space-y-1 rounded-lg border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
            <p class="font-semibold">"The MCP server's tools changed since they were saved. Review, then save to keep the new list."</p>
            {row("diff-added", "Added:", diff.added)}
            {row("diff-removed", "Removed:", diff.removed)}
            {row("diff-changed", "Changed:", diff.changed)}
        </div>
    }
    .into_any()
}

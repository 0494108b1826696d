//! One server's page: rendered on the server, with islands for access
//! (connect panel and client access), connection settings, hosting, the
//! playground and the live call log.

use crate::api::{PlaygroundCall, get_server, server_calls};
use crate::components::{BUTTON_PRIMARY, BUTTON_SECONDARY, ErrorBanner, INPUT, Interactive};
use crate::model::{CallView, ServerKind, ServerStatus, ServerView, ToolSummary};
use crate::pages::{ConnectTarget, ServerAccess};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde_json::{Map, Value};
use std::time::Duration;

/// One server: its endpoint, tools, recent calls and a playground.
#[component]
pub fn ServerPage() -> impl IntoView {
    let auth = crate::auth::Auth::get();
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    let server = Resource::new(move || id.clone(), get_server);
    view! {
        <Title text="Server · AutoMCP"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                if let Ok(None) = auth.user.await {
                    return view! { <leptos_router::components::Redirect path="/login"/> }.into_any();
                }
                let tier = match auth.user.await {
                    Ok(Some(user)) => user.tier,
                    _ => crate::model::Tier::Free,
                };
                match server.await {
                    Ok(server) => {
                        let calls = server_calls(server.id.clone()).await.unwrap_or_default();
                        let clients = match server.client_auth {
                            crate::model::ClientAuth::OAuth => {
                                crate::api::connected_clients(server.id.clone()).await.unwrap_or_default()
                            }
                            _ => Vec::new(),
                        };
                        view! { <ServerDetail server calls clients tier/> }.into_any()
                    }
                    Err(error) => {
                        #[cfg(feature = "ssr")]
                        crate::ssr::set_error_status(&error);
                        view! { <ErrorBanner error/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ServerDetail(
    server: ServerView,
    calls: Vec<CallView>,
    clients: Vec<crate::model::ConnectedClient>,
    tier: crate::model::Tier,
) -> impl IntoView {
    let live = server.status == ServerStatus::Active;
    view! {
        <div class="space-y-8">
            <div>
                <h1 class="text-2xl font-bold tracking-tight" id="server-name">{server.name.clone()}</h1>
                <p class="text-sm text-slate-600">
                    <span data-status=server.status.as_str()>{server.status.as_str()}</span>
                    {format!(" · {} tool(s) · clients: {}", server.tool_count, server.client_auth.as_str())}
                </p>
                {(!server.missing_credentials.is_empty()).then(|| view! {
                    <p class="mt-2 text-sm text-amber-700">
                        {format!("Missing credentials: {}", server.missing_credentials.join(", "))}
                    </p>
                })}
            </div>
            <ServerAccess target=ConnectTarget::from(&server) oauth_access=server.oauth_access.clone() clients/>
            <crate::pages::ConnectionSettings
                server_id=server.id.clone()
                connection=server.connection.clone()
                forwards=server.kind == ServerKind::Mcp
                public=server.client_auth == crate::model::ClientAuth::Public
            />
            {(server.kind == ServerKind::Actions).then(|| view! { <HostingSummary server_id=server.id.clone() tier/> })}
            <section aria-labelledby="tools-heading">
                <div class="mb-2 flex items-center justify-between gap-2">
                    <h2 id="tools-heading" class="text-lg font-semibold">"Tools"</h2>
                    {(server.kind == ServerKind::Mcp).then(|| view! {
                        <a href=format!("/mcps/{}/edit", server.id) class=BUTTON_SECONDARY id="edit-tools">"Edit tools"</a>
                    })}
                </div>
                <ul class="space-y-2">
                    {server.tools.iter().map(|tool| {
                        let summary = match server.kind {
                            ServerKind::Actions => server
                                .spec
                                .tools
                                .iter()
                                .find(|t| t.name == tool.name)
                                .map(crate::wizard::action_summary)
                                .unwrap_or_default(),
                            ServerKind::Mcp => "forwarded to its MCP server".to_owned(),
                        };
                        view! {
                            <li class="rounded-xl border border-slate-200 bg-white p-3">
                                <p class="font-mono text-sm font-semibold">{tool.name.clone()}</p>
                                <p class="text-sm text-slate-600">{tool.description.clone()}</p>
                                <p class="break-all font-mono text-xs text-slate-600">{summary}</p>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
            {if live && server.tools.is_empty() {
                view! { <p class="text-sm text-slate-500">"This server exposes no tools yet."</p> }.into_any()
            } else if live {
                view! { <Playground server_id=server.id.clone() tools=server.tools.clone()/> }.into_any()
            } else {
                view! { <p class="text-sm text-slate-500">"Deploy the server to try its tools here."</p> }.into_any()
            }}
            <section aria-labelledby="calls-heading">
                <h2 id="calls-heading" class="mb-2 text-lg font-semibold">"Recent calls"</h2>
                <CallLog server_id=server.id.clone() calls/>
            </section>
        </div>
    }
}

/// Where the server runs, with the way to its hosting page (paid tier).
#[component]
fn HostingSummary(server_id: String, tier: crate::model::Tier) -> impl IntoView {
    let paid = tier == crate::model::Tier::Paid;
    let id = server_id.clone();
    let hosting = Resource::new(|| (), move |_| crate::api::server_hosting(id.clone()));
    view! {
        <section aria-labelledby="hosting-heading" id="hosting-summary" class="space-y-2">
            <h2 id="hosting-heading" class="text-lg font-semibold">"Hosting"</h2>
            {if paid {
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let text = match hosting.await {
                                Ok(view) => match view.target {
                                    Some(target) if view.hosting == "vps" => format!("Runs on {}.", target.name),
                                    _ => "Runs here.".to_owned(),
                                },
                                Err(error) => error.to_string(),
                            };
                            view! { <p class="text-sm" id="hosting-state">{text}</p> }
                        })}
                    </Suspense>
                    <a href=format!("/servers/{server_id}/hosting") class=BUTTON_SECONDARY id="open-hosting">
                        "Hosting on your machine"
                    </a>
                }
                .into_any()
            } else {
                view! {
                    <p class="text-sm text-slate-600" id="hosting-paid-only">
                        "Runs here. " {crate::vps::PAID_ONLY.to_owned()} "."
                    </p>
                }
                .into_any()
            }}
        </section>
    }
}

/// The recent calls, fetched again every two seconds while the page is open
/// (calls also come from MCP clients).
#[cfg_attr(any(feature = "ssr", feature = "bundle-server"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-server")), component)]
fn CallLog(server_id: String, calls: Vec<CallView>) -> impl IntoView {
    let calls = RwSignal::new(calls);
    let error = RwSignal::new(None::<crate::model::AppError>);
    // Effects run only in the browser (an island's body also runs on the server).
    Effect::new(move |_| {
        let id = server_id.clone();
        let poll = move || {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match server_calls(id).await {
                    Ok(list) => {
                        error.set(None);
                        if calls.with_untracked(|old| *old != list) {
                            calls.set(list);
                        }
                    }
                    Err(failed) => error.set(Some(failed)),
                }
            });
        };
        if let Ok(handle) = set_interval_with_handle(poll, Duration::from_secs(2)) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        {move || error.get().map(|error| view! { <ErrorBanner error id="calls-error"/> })}
        {move || {
            let list = calls.get();
            if list.is_empty() {
                view! { <p class="text-sm text-slate-500" id="calls-empty">"No calls yet."</p> }.into_any()
            } else {
                view! { <CallTable list/> }.into_any()
            }
        }}
    }
}

#[component]
fn CallTable(list: Vec<CallView>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-xl border border-slate-200 bg-white">
            <table class="min-w-full text-left text-sm" id="calls">
                <thead class="bg-slate-50 text-slate-600">
                    <tr>
                        <th class="px-3 py-2 font-medium">"Tool"</th>
                        <th class="px-3 py-2 font-medium">"Outcome"</th>
                        <th class="px-3 py-2 font-medium">"Status"</th>
                        <th class="px-3 py-2 font-medium">"Duration"</th>
                        <th class="px-3 py-2 font-medium">"Caller"</th>
                        <th class="px-3 py-2 font-medium">"Error"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|call| view! {
                        <tr class="border-t border-slate-100">
                            <td class="px-3 py-2 font-mono">{call.tool}</td>
                            <td class="px-3 py-2">{call.outcome}</td>
                            <td class="px-3 py-2">{call.upstream_status.map(|s| s.to_string()).unwrap_or_default()}</td>
                            <td class="px-3 py-2">{format!("{} ms", call.duration_ms)}</td>
                            <td class="px-3 py-2 text-xs" data-caller="">{caller(&call.client, &call.user)}</td>
                            <td class="px-3 py-2 text-xs text-slate-600">{call.error.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Who made a call: an OAuth client and its account, else a token or the playground.
fn caller(client: &Option<String>, user: &Option<String>) -> String {
    match (client, user) {
        (Some(client), Some(user)) => format!("{client} ({user})"),
        (Some(client), None) => client.clone(),
        _ => String::new(),
    }
}

/// One playground input: (form generation, argument name, JSON type, value).
type FormField = (u64, String, String, RwSignal<String>);

/// A form generated from a tool's input schema; calls the tool live.
#[cfg_attr(any(feature = "ssr", feature = "bundle-server"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-server")), component)]
fn Playground(server_id: String, tools: Vec<ToolSummary>) -> impl IntoView {
    let call = ServerAction::<PlaygroundCall>::new();
    let selected = RwSignal::new(0usize);
    // (form generation, name, type, value): the generation keys the rows, so
    // rebuilt fields never keep inputs bound to the previous signals.
    let fields: RwSignal<Vec<FormField>> = RwSignal::new(Vec::new());
    let generation = StoredValue::new(0u64);
    let tools_for_fields = tools.clone();
    Effect::new(move |_| {
        let tool = &tools_for_fields[selected.get()];
        generation.update_value(|g| *g += 1);
        let g = generation.get_value();
        let rows = schema_fields(&tool.input_schema).into_iter().map(|(n, k)| (g, n, k, RwSignal::new(String::new())));
        fields.set(rows.collect());
    });
    let form_error = RwSignal::new(None::<String>);
    let tools_for_submit = tools.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let tool = &tools_for_submit[selected.get_untracked()];
        match arguments(&fields.get_untracked()) {
            Ok(arguments) => {
                form_error.set(None);
                call.dispatch(PlaygroundCall { id: server_id.clone(), tool: tool.name.clone(), arguments });
            }
            Err(message) => form_error.set(Some(message)),
        }
    };
    view! {
        <Interactive>
            <section aria-labelledby="playground-heading" class="rounded-xl border border-slate-200 bg-white p-4" id="playground">
                <h2 id="playground-heading" class="mb-3 text-lg font-semibold">"Playground"</h2>
                <form on:submit=submit class="space-y-3">
                    <label class="block text-sm font-medium text-slate-700" for="playground-tool">"Tool"</label>
                    <select
                        id="playground-tool"
                        class=INPUT
                        on:change=move |ev| selected.set(event_target_value(&ev).parse().unwrap_or(0))
                    >
                        {tools.iter().enumerate().map(|(i, t)| view! { <option value=i.to_string()>{t.name.clone()}</option> }).collect_view()}
                    </select>
                    <For each=move || fields.get() key=|(g, name, _, _)| format!("{g}:{name}") let:field>
                        {
                            let (_, name, kind, value) = field;
                            let input_id = format!("arg-{name}");
                            view! {
                                <div>
                                    <label for=input_id.clone() class="block text-sm font-medium text-slate-700">
                                        {name.clone()}<span class="ml-1 text-xs text-slate-500">{kind.clone()}</span>
                                    </label>
                                    <input
                                        id=input_id
                                        class=INPUT
                                        prop:value=value
                                        on:input=move |ev| value.set(event_target_value(&ev))
                                    />
                                </div>
                            }
                        }
                    </For>
                    {move || form_error.get().map(|message| view! { <p role="alert" class="text-sm text-red-700">{message}</p> })}
                    <button type="submit" id="playground-call" class=BUTTON_PRIMARY disabled=move || call.pending().get()>
                        {move || if call.pending().get() { "Calling…" } else { "Call" }}
                    </button>
                </form>
                {move || match call.value().get() {
                    Some(Ok(result)) => Some(view! {
                        <div class="mt-3">
                            <p class="text-sm font-medium" class:text-red-700=result.is_error>
                                {if result.is_error { "The tool reported an error" } else { "Result" }}
                            </p>
                            <pre id="playground-result" class="mt-1 max-h-96 overflow-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{result.text}</pre>
                        </div>
                    }.into_any()),
                    Some(Err(error)) => Some(view! { <div class="mt-3"><ErrorBanner error id="playground-error"/></div> }.into_any()),
                    None => None,
                }}
            </section>
        </Interactive>
    }
}

/// (name, JSON type) for each top-level property of an object schema.
fn schema_fields(schema: &Value) -> Vec<(String, String)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, prop)| {
                    let kind = prop.get("type").and_then(Value::as_str).unwrap_or("json").to_owned();
                    (name.clone(), kind)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Turns the form's text fields into typed arguments; empty fields are left out.
fn arguments(fields: &[FormField]) -> Result<Value, String> {
    let mut map = Map::new();
    for (_, name, kind, value) in fields {
        let text = value.get_untracked();
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let parsed = match kind.as_str() {
            "string" => Value::String(text.to_owned()),
            "integer" | "number" | "boolean" | "array" | "object" | "json" => {
                serde_json::from_str(text).map_err(|_| {
                    format!("`{name}` must be {}", if kind == "json" { "JSON".to_owned() } else { format!("a {kind}") })
                })?
            }
            _ => Value::String(text.to_owned()),
        };
        map.insert(name.clone(), parsed);
    }
    Ok(Value::Object(map))
}

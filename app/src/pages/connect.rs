//! The Connect panel: everything a user needs to plug a live server into
//! an assistant, on every server page and after every create. The token
//! is shown once; without it the configurations carry a placeholder and
//! "New token" issues another (the old one stops working).

use crate::api::{RotateServerToken, TestConnection, UpdateServerConnection};
use crate::clients::{HOSTED_ASSISTANTS, OAUTH_ASSISTANTS, client_configs, install_links, token_env};
use crate::components::{BUTTON_SECONDARY, ConfirmButton, CopyButton, ErrorBanner, INPUT, Interactive};
use crate::model::{ClientAuth, Connection, ConnectionInput, ServerStatus, ServerView};
use leptos::prelude::*;

/// What the panel needs to know of a server (any kind).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConnectTarget {
    pub id: String,
    pub slug: String,
    pub endpoint: String,
    pub auth: ClientAuth,
    pub live: bool,
}

impl From<&ServerView> for ConnectTarget {
    fn from(server: &ServerView) -> Self {
        ConnectTarget {
            id: server.id.clone(),
            slug: server.slug.clone(),
            endpoint: server.endpoint.clone(),
            auth: server.client_auth,
            live: server.status == ServerStatus::Active,
        }
    }
}

impl From<&crate::mcps::McpView> for ConnectTarget {
    fn from(mcp: &crate::mcps::McpView) -> Self {
        ConnectTarget {
            id: mcp.id.clone(),
            slug: mcp.slug.clone(),
            endpoint: mcp.endpoint.clone(),
            auth: mcp.client_auth,
            live: mcp.status == ServerStatus::Active,
        }
    }
}

#[component]
pub fn ConnectPanel(
    server: ConnectTarget,
    /// The token, when it was just issued (create, deploy).
    token: Option<String>,
) -> impl IntoView {
    let auth = server.auth;
    let (needs_token, oauth) = (auth == ClientAuth::Bearer, auth == ClientAuth::OAuth);
    let token = RwSignal::new(token);
    let live = server.live;
    let (slug, endpoint) = (server.slug.clone(), server.endpoint.clone());
    let configs = {
        let (slug, endpoint) = (slug.clone(), endpoint.clone());
        move || client_configs(&slug, &endpoint, token.get().as_deref(), auth)
    };
    let links = install_links(&slug, &endpoint, needs_token);
    view! {
        <Interactive>
            <section class="space-y-4 rounded-xl border border-slate-200 bg-white p-4" id="connect">
                <h2 class="text-lg font-semibold">"Connect"</h2>
                <div class="flex flex-wrap items-center gap-2">
                    <code id="endpoint" class="break-all rounded bg-slate-100 px-2 py-1 text-sm">{endpoint.clone()}</code>
                    <CopyButton text=endpoint.clone() label="Copy URL"/>
                </div>
                {needs_token.then(|| view! { <TokenRow server_id=server.id.clone() token/> })}
                {(!live).then(|| view! {
                    <p class="text-sm text-amber-700" id="connect-offline">"This server is not live: clients get 404 until it is deployed."</p>
                })}
                {if oauth {
                    view! {
                        <p class="text-sm text-slate-700" id="oauth-connect-note">
                            "Clients sign in with OAuth: give them the URL alone. Each one you allow is listed under Connected clients."
                        </p>
                    }.into_any()
                } else {
                    view! { <TestRow server_id=server.id.clone() token needs_token/> }.into_any()
                }}
                <div class="space-y-2" id="install-links">
                    <p class="text-sm font-medium">"One-click install"</p>
                    <div class="flex flex-wrap gap-2">
                        {links.into_iter().map(|link| view! {
                            <a id=link.id href=link.href class=BUTTON_SECONDARY title=link.note>{format!("Add to {}", link.client)}</a>
                        }).collect_view()}
                    </div>
                    {needs_token.then(|| view! {
                        <p class="text-xs text-slate-500">
                            "The links never contain your token. VS Code asks for it; Cursor reads it from the environment variable "
                            <code id="token-env">{token_env(&slug)}</code>"."
                        </p>
                    })}
                </div>
                <p class="rounded-lg bg-slate-50 p-3 text-sm text-slate-700" id="hosted-assistants">
                    {if oauth { OAUTH_ASSISTANTS } else { HOSTED_ASSISTANTS }}
                </p>
                <div class="space-y-3" id="client-configs">
                    {move || configs().into_iter().map(|config| view! {
                        <div class="rounded-lg border border-slate-200 p-3" id=format!("config-{}", config.id)>
                            <div class="mb-2 flex items-center justify-between gap-2">
                                <p class="font-medium">{config.client}<span class="ml-2 text-xs text-slate-500">{config.where_}</span></p>
                                <CopyButton text=config.text.clone() label="Copy"/>
                            </div>
                            <pre class="overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{config.text}</pre>
                        </div>
                    }).collect_view()}
                </div>
            </section>
        </Interactive>
    }
}

/// The token when it is at hand (shown once), and "New token".
#[component]
fn TokenRow(server_id: String, token: RwSignal<Option<String>>) -> impl IntoView {
    let rotate = ServerAction::<RotateServerToken>::new();
    Effect::new(move |_| {
        if let Some(Ok(issued)) = rotate.value().get() {
            token.set(Some(issued.token));
        }
    });
    view! {
        <div class="space-y-2">
            {move || match token.get() {
                Some(value) => view! {
                    <div>
                        <p class="text-sm font-medium">"Token (shown only now; store it safely)"</p>
                        <div class="mt-1 flex flex-wrap items-center gap-2">
                            <code id="token" class="break-all rounded bg-slate-100 px-2 py-1 text-sm">{value.clone()}</code>
                            <CopyButton text=value label="Copy token"/>
                        </div>
                    </div>
                }.into_any(),
                None => view! {
                    <p class="text-sm text-slate-600" id="token-hidden">
                        "The token was shown once, when it was issued. Lost it? Make a new one; the configurations below show a placeholder until then."
                    </p>
                }.into_any(),
            }}
            <ConfirmButton
                id="new-token".into()
                label="New token"
                question="Clients using the current token will stop working. Make a new one?".into()
                confirm_label="Yes, new token"
                pending=rotate.pending()
                on_confirm=Callback::new(move |()| {
                    rotate.dispatch(RotateServerToken { id: server_id.clone() });
                })
            />
            {move || match rotate.value().get() {
                Some(Err(error)) => Some(view! { <ErrorBanner error id="token-error"/> }),
                _ => None,
            }}
        </div>
    }
}

/// "Test connection": lists the tools through a real MCP client.
#[component]
fn TestRow(server_id: String, token: RwSignal<Option<String>>, needs_token: bool) -> impl IntoView {
    let test = ServerAction::<TestConnection>::new();
    let typed = RwSignal::new(String::new());
    view! {
        <div class="space-y-2">
            <div class="flex flex-wrap items-end gap-2">
                {move || (needs_token && token.get().is_none()).then(|| view! {
                    <label class="text-sm">
                        "Token to test with"
                        <input id="test-token" type="password" class=INPUT autocomplete="off"
                            prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
                    </label>
                })}
                <button
                    id="test-connection"
                    class=BUTTON_SECONDARY
                    disabled=move || test.pending().get()
                    on:click=move |_| {
                        let token = token.get().or_else(|| Some(typed.get()).filter(|t| !t.trim().is_empty()));
                        test.dispatch(TestConnection { id: server_id.clone(), token });
                    }
                >
                    {move || if test.pending().get() { "Connecting…" } else { "Test connection" }}
                </button>
            </div>
            {move || match test.value().get() {
                Some(Ok(tools)) => Some(view! {
                    <p id="test-result" class="text-sm text-green-800">
                        {format!("Connected with an MCP client: {} tool(s): {}", tools.len(), tools.join(", "))}
                    </p>
                }.into_any()),
                Some(Err(error)) => Some(view! { <ErrorBanner error id="test-error"/> }.into_any()),
                None => None,
            }}
        </div>
    }
}

/// Which web pages may call the server from a browser, and (for servers
/// that forward to a source, `forwards`) how long a call may wait for it.
#[cfg_attr(any(feature = "ssr", feature = "bundle-server"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-server")), component)]
pub fn ConnectionSettings(server_id: String, connection: Connection, forwards: bool, public: bool) -> impl IntoView {
    let save = ServerAction::<UpdateServerConnection>::new();
    let origins = RwSignal::new(connection.allowed_origins.join("\n"));
    let timeout = RwSignal::new(connection.call_timeout_secs.to_string());
    let id = server_id;
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            origins.set(saved.allowed_origins.join("\n"));
            timeout.set(saved.call_timeout_secs.to_string());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let allowed_origins =
            origins.get().lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect();
        let call_timeout_secs = if forwards { timeout.get().trim().parse().ok() } else { None };
        save.dispatch(UpdateServerConnection {
            id: id.clone(),
            input: ConnectionInput { allowed_origins: Some(allowed_origins), call_timeout_secs },
        });
    };
    view! {
        <Interactive>
            <form class="space-y-3 rounded-xl border border-slate-200 bg-white p-4" id="connection-settings" on:submit=submit>
                <h2 class="text-lg font-semibold">"Connection settings"</h2>
                <label class="block text-sm">
                    "Web pages allowed to call this server from a browser (one origin per line, or *)"
                    <textarea id="allowed-origins" class=INPUT rows="3" placeholder="https://app.example.com"
                        prop:value=move || origins.get() on:input=move |ev| origins.set(event_target_value(&ev))></textarea>
                    <span class="mt-1 block text-xs text-slate-500">
                        {if public {
                            "This server is public: browsers may call it only from the pages listed here. Desktop clients and agents are not affected."
                        } else {
                            "Clients need credentials (a token or a sign-in), so any page may call it; listing origins changes nothing until the server is made public."
                        }}
                    </span>
                </label>
                {forwards.then(|| view! {
                    <label class="block text-sm">
                        {format!(
                            "Seconds a call may wait for the source's answer or progress ({} to {})",
                            crate::mcps::MIN_CALL_TIMEOUT_SECS,
                            crate::mcps::MAX_CALL_TIMEOUT_SECS
                        )}
                        <input id="call-timeout" type="number" class=INPUT
                            min=crate::mcps::MIN_CALL_TIMEOUT_SECS max=crate::mcps::MAX_CALL_TIMEOUT_SECS
                            prop:value=move || timeout.get() on:input=move |ev| timeout.set(event_target_value(&ev))/>
                    </label>
                })}
                <button type="submit" id="save-connection" class=BUTTON_SECONDARY disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save connection settings" }}
                </button>
                {move || match save.value().get() {
                    Some(Ok(_)) => Some(view! { <p id="connection-saved" class="text-sm text-green-800">"Saved; live at once."</p> }.into_any()),
                    Some(Err(error)) => Some(view! { <ErrorBanner error id="connection-error"/> }.into_any()),
                    None => None,
                }}
            </form>
        </Interactive>
    }
}

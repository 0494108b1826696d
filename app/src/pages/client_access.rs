//! Client access on the server page: how clients authenticate (public, a
//! token, or OAuth sign-in), who may connect with OAuth, and the clients
//! that are connected, each with Revoke.

use super::tokens::date;
use crate::api::{ChangeServer, RotateServerToken};
use crate::components::{BUTTON_SECONDARY, ConfirmButton, ErrorBanner, INPUT, Interactive};
use crate::model::{ClientAuth, ConnectedClient, OAuthAccess, UpdateServer};
use crate::pages::{ConnectPanel, ConnectTarget};
use leptos::prelude::*;

const MODES: [(ClientAuth, &str, &str); 3] = [
    (ClientAuth::Bearer, "Token", "Clients send a bearer token (Cursor, VS Code, Claude Code, agents)."),
    (
        ClientAuth::OAuth,
        "Sign in with OAuth",
        "Clients send the user to AutoMCP to sign in and allow them (claude.ai, ChatGPT, and most others).",
    ),
    (ClientAuth::Public, "Public", "Anyone with the URL can call the tools with your credentials."),
];

/// The connect panel and client access of a server page, together: a
/// switch to "Token" issues a token, which the panel then shows (once).
#[cfg_attr(any(feature = "ssr", feature = "bundle-server"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-server")), component)]
pub fn ServerAccess(target: ConnectTarget, oauth_access: OAuthAccess, clients: Vec<ConnectedClient>) -> impl IntoView {
    let token = RwSignal::new(None::<String>);
    let auth = RwSignal::new(target.auth);
    let on_issued = Callback::new(move |issued: String| {
        token.set(Some(issued));
        auth.set(ClientAuth::Bearer);
    });
    let server_id = target.id.clone();
    view! {
        <Interactive>
            {move || {
                let server = ConnectTarget { auth: auth.get(), ..target.clone() };
                view! { <ConnectPanel server token=token.get_untracked()/> }
            }}
            {move || view! {
                <ClientAccess
                server_id=server_id.clone()
                current=auth.get()
                oauth_access=oauth_access.clone()
                clients=clients.clone()
                on_issued
            />
            }}
        </Interactive>
    }
}

/// How clients authenticate. A switch to "Token" hands the new token to
/// `on_issued`; any other switch loads the page again.
#[component]
fn ClientAccess(
    server_id: String,
    current: ClientAuth,
    oauth_access: OAuthAccess,
    clients: Vec<ConnectedClient>,
    on_issued: Callback<String>,
) -> impl IntoView {
    let chosen = RwSignal::new(current);
    let change = ServerAction::<ChangeServer>::new();
    let rotate = ServerAction::<RotateServerToken>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = change.value().get() {
            crate::browser::reload();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(issued)) = rotate.value().get() {
            on_issued.run(issued.token);
        }
    });
    let id = server_id.clone();
    let apply = Callback::new(move |()| match chosen.get_untracked() {
        ClientAuth::Bearer => {
            rotate.dispatch(RotateServerToken { id: id.clone() });
        }
        other => {
            change.dispatch(ChangeServer {
                id: id.clone(),
                input: UpdateServer { client_auth: Some(other), ..UpdateServer::default() },
            });
        }
    });
    let question = match current {
        ClientAuth::Bearer => "Clients using the current token will stop working. Change how clients connect?",
        ClientAuth::OAuth => "Every connected client will be signed out. Change how clients connect?",
        ClientAuth::Public => "Clients connecting without credentials will be refused. Change how clients connect?",
    };
    let pending = Signal::derive(move || change.pending().get() || rotate.pending().get());
    view! {
        <section class="space-y-4 rounded-xl border border-slate-200 bg-white p-4" id="client-access">
            <h2 class="text-lg font-semibold">"Client access"</h2>
            <fieldset class="space-y-2">
                {MODES.into_iter().map(|(mode, label, hint)| view! {
                    <label class="flex items-start gap-2 text-sm">
                        <input type="radio" name="client-auth" id=format!("auth-{}", mode.as_str())
                            prop:checked=move || chosen.get() == mode on:change=move |_| chosen.set(mode)/>
                        <span>
                            <span class="font-medium">{label}</span>
                            {(mode == current).then_some(" (current)")}
                            <span class="block text-xs text-slate-500">{hint}</span>
                        </span>
                    </label>
                }).collect_view()}
            </fieldset>
            <Show when=move || chosen.get() != current>
                <ConfirmButton
                    id="change-auth".into()
                    label="Change client access"
                    question=question.into()
                    confirm_label="Yes, change"
                    pending
                    on_confirm=apply
                />
            </Show>
            {move || change.value().get().and_then(Result::err).map(|error| view! { <ErrorBanner error id="auth-error"/> })}
            {move || rotate.value().get().and_then(Result::err).map(|error| view! { <ErrorBanner error id="auth-error"/> })}
            {(current == ClientAuth::OAuth).then(|| view! {
                <WhoMayConnect server_id=server_id.clone() access=oauth_access/>
                <ConnectedClients server_id clients/>
            })}
        </section>
    }
}

/// The choice in the "who may connect" select (the emails are typed apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    AnyAccount,
    Emails,
}

impl Who {
    const ALL: [(Who, &'static str, &'static str); 3] = [
        (Who::Owner, "owner", "Only me"),
        (Who::AnyAccount, "any_account", "Any account of this AutoMCP"),
        (Who::Emails, "emails", "Me and these accounts"),
    ];

    fn of(access: &OAuthAccess) -> Self {
        match access {
            OAuthAccess::Owner => Who::Owner,
            OAuthAccess::AnyAccount => Who::AnyAccount,
            OAuthAccess::Emails { .. } => Who::Emails,
        }
    }

    /// The select's option value back to the choice.
    fn from_value(value: &str) -> Self {
        Who::ALL.iter().find(|(_, v, _)| *v == value).map_or(Who::Owner, |(who, _, _)| *who)
    }

    /// The setting, with the typed emails (one per line) for `Emails`.
    fn access(self, emails: &str) -> OAuthAccess {
        match self {
            Who::Owner => OAuthAccess::Owner,
            Who::AnyAccount => OAuthAccess::AnyAccount,
            Who::Emails => OAuthAccess::Emails {
                emails: emails.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
            },
        }
    }
}

/// Only the owner, any account here, or listed emails.
#[component]
fn WhoMayConnect(server_id: String, access: OAuthAccess) -> impl IntoView {
    let save = ServerAction::<ChangeServer>::new();
    let who = RwSignal::new(Who::of(&access));
    let emails = RwSignal::new(match access {
        OAuthAccess::Emails { emails } => emails.join("\n"),
        _ => String::new(),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let access = who.get_untracked().access(&emails.get_untracked());
        save.dispatch(ChangeServer {
            id: server_id.clone(),
            input: UpdateServer { oauth_access: Some(access), ..UpdateServer::default() },
        });
    };
    view! {
        <form class="space-y-2" id="who-may-connect" on:submit=submit>
            <label class="block text-sm font-medium">
                "Who may connect clients"
                <select id="oauth-access" class=INPUT on:change=move |ev| who.set(Who::from_value(&event_target_value(&ev)))>
                    {Who::ALL.into_iter().map(|(choice, value, label)| view! {
                        <option value=value selected=move || who.get() == choice>{label}</option>
                    }).collect_view()}
                </select>
            </label>
            <Show when=move || who.get() == Who::Emails>
                <textarea id="oauth-emails" class=INPUT rows="3" placeholder="one email per line"
                    prop:value=move || emails.get() on:input=move |ev| emails.set(event_target_value(&ev))></textarea>
            </Show>
            <p class="text-xs text-slate-500">"Accounts you remove are refused from their next call on."</p>
            <button type="submit" id="save-oauth-access" class=BUTTON_SECONDARY disabled=move || save.pending().get()>
                {move || if save.pending().get() { "Saving…" } else { "Save" }}
            </button>
            {move || match save.value().get() {
                Some(Ok(_)) => Some(view! { <p id="oauth-access-saved" class="text-sm text-green-800">"Saved."</p> }.into_any()),
                Some(Err(error)) => Some(view! { <ErrorBanner error id="oauth-access-error"/> }.into_any()),
                None => None,
            }}
        </form>
    }
}

/// The clients users allowed, newest first, each with Revoke (the list
/// follows revokes in place).
#[component]
fn ConnectedClients(server_id: String, clients: Vec<ConnectedClient>) -> impl IntoView {
    let id = server_id;
    // Resolves to the revoked grant's id.
    let revoke: Revoke = Action::new_local(move |grant_id: &String| {
        let (id, grant_id) = (id.clone(), grant_id.clone());
        async move { crate::api::revoke_client(id, grant_id.clone()).await.map(|()| grant_id) }
    });
    let list = RwSignal::new(clients);
    Effect::new(move |_| {
        if let Some(Ok(revoked)) = revoke.value().get() {
            list.update(|list| list.retain(|client| client.id != revoked));
        }
    });
    view! {
        <div class="space-y-2" id="connected-clients">
            <h3 class="text-sm font-medium">"Connected clients"</h3>
            {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorBanner error id="revoke-client-error"/> })}
            {move || {
                if list.with(Vec::is_empty) {
                    view! { <p class="text-sm text-slate-500" id="no-connected-clients">"No client is connected yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-100">
                            {list.get().into_iter().map(|client| view! { <ClientRow client revoke/> }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// Revokes one connected client; resolves to its grant id.
type Revoke = Action<String, Result<String, crate::model::AppError>>;

#[component]
fn ClientRow(client: ConnectedClient, revoke: Revoke) -> impl IntoView {
    let used = client.last_used_at.map(|at| format!("last used {}", date(at))).unwrap_or_else(|| "not used yet".into());
    let grant_id = client.id.clone();
    view! {
        <li class="flex flex-wrap items-center justify-between gap-2 py-2 text-sm" data-client=client.client_id.clone()>
            <span>
                <span class="font-medium" data-client-name="">{client.client_name.clone()}</span>
                <span class="block text-xs text-slate-500">
                    {format!("{} · connected {} · {used}", client.user_email, date(client.connected_at))}
                </span>
            </span>
            <ConfirmButton
                id=format!("revoke-{}", client.id)
                label="Revoke"
                question=format!("Sign {} out of this server?", client.client_name)
                confirm_label="Yes, revoke"
                pending=revoke.pending()
                on_confirm=Callback::new(move |()| {
                    revoke.dispatch(grant_id.clone());
                })
            />
        </li>
    }
}

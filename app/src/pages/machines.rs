//! Paid-tier hosting in the browser: `/machines` (register a machine, add
//! its public key, check the connection, confirm the host key) and the
//! hosting panel on a server's page (deploy, roll back, stop, start, remove,
//! log; the steps of the running operation as they happen).

use crate::api::{
    AddTarget, CheckTarget, DeployToMachine, MachineAction, MachineLogs, RemoveTarget, TrustTarget, get_operation,
    list_targets, server_hosting,
};
use crate::auth::Auth;
use crate::components::{ActionError, BUTTON_PRIMARY, BUTTON_SECONDARY, CopyButton, ErrorBanner, INPUT, Interactive};
use crate::model::Tier;
use crate::vps::{
    DeployToTarget, HostingView, OperationView, PAID_ONLY, RegisterTarget, TargetCheck, TargetView, TrustHostKey,
    VpsAction,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use std::time::Duration;

/// `/machines`.
#[component]
pub fn MachinesPage() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <Title text="Your machines · AutoMCP"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) if user.tier == Tier::Paid => view! { <Machines/> }.into_any(),
                    Ok(Some(_)) => view! { <PaidOnly/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <ErrorBanner error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PaidOnly() -> impl IntoView {
    let mut text = PAID_ONLY.to_owned();
    text[..1].make_ascii_uppercase();
    view! {
        <section class="mx-auto max-w-2xl rounded-2xl border border-slate-200 bg-white p-6">
            <h1 class="mb-2 text-2xl font-bold tracking-tight">"Your own machine"</h1>
            <p id="paid-only" class="text-sm text-slate-600">{format!("{text}.")}</p>
        </section>
    }
}

/// The machine form and the machines, each with its checks: one island that
/// fetches the list again after each change.
#[cfg_attr(any(feature = "ssr", feature = "bundle-manage"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-manage")), component)]
fn Machines() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let targets = Resource::new(move || changed.get(), |_| list_targets());
    let add = ServerAction::<AddTarget>::new();
    let remove = ServerAction::<RemoveTarget>::new();
    let (name, host, port, user, base_dir, key) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("22".to_owned()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            for field in [name, host, user, base_dir, key] {
                field.set(String::new());
            }
            changed.update(|c| *c += 1);
        }
    });
    Effect::new(move |_| {
        if remove.version().get() > 0 {
            changed.update(|c| *c += 1);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        add.dispatch(AddTarget {
            input: RegisterTarget {
                name: name.get_untracked(),
                host: host.get_untracked(),
                port: port.get_untracked().trim().parse().unwrap_or(0),
                user: user.get_untracked(),
                base_dir: text(base_dir),
                private_key: text(key),
            },
        });
    };
    let input = |id: &'static str, label: &'static str, signal: RwSignal<String>, placeholder: &'static str| {
        view! {
            <div>
                <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
                <input id=id class=INPUT placeholder=placeholder prop:value=signal on:input=move |ev| signal.set(event_target_value(&ev))/>
            </div>
        }
    };
    view! {
        <Interactive>
            <div class="space-y-8">
                <div>
                    <h1 class="text-2xl font-bold tracking-tight">"Your machines"</h1>
                    <p class="mt-1 text-sm text-slate-600">
                        "Run your servers on your own Linux machine over SSH, with no tool limit. Their endpoints stay here and forward to the machine."
                    </p>
                </div>
                <section class="rounded-2xl border border-slate-200 bg-white p-6" aria-labelledby="add-machine-heading">
                    <h2 id="add-machine-heading" class="mb-4 text-lg font-semibold">"Add a machine"</h2>
                    <form on:submit=submit class="grid gap-4 sm:grid-cols-2" id="machine-form">
                        {input("machine-name", "Name", name, "my-vps")}
                        {input("machine-host", "Host or IP address", host, "203.0.113.5")}
                        {input("machine-port", "SSH port", port, "22")}
                        {input("machine-user", "User", user, "deploy")}
                        {input("machine-base-dir", "Directory for AutoMCP (optional)", base_dir, "~/.automcp")}
                        <details class="sm:col-span-2">
                            <summary class="cursor-pointer text-sm text-slate-700">"Use my own private key instead of a generated one"</summary>
                            <textarea id="machine-key" rows="5" class=format!("{INPUT} font-mono text-xs")
                                placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
                                prop:value=key on:input=move |ev| key.set(event_target_value(&ev))></textarea>
                            <p class="mt-1 text-xs text-slate-500">"Stored encrypted and never shown again."</p>
                        </details>
                        <div class="flex items-center gap-3 sm:col-span-2">
                            <button type="submit" id="add-machine" class=BUTTON_PRIMARY disabled=move || add.pending().get()>"Add machine"</button>
                            <ActionError value=add.value()/>
                        </div>
                    </form>
                </section>
                <ActionError value=remove.value()/>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match targets.await {
                            Ok(list) if list.is_empty() => view! { <p id="machines-empty" class="text-sm text-slate-500">"No machines yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="space-y-4" id="machines">
                                    {list.into_iter().map(|target| view! { <MachineCard target changed remove/> }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(error) => view! { <ErrorBanner error/> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </Interactive>
    }
}

#[component]
fn MachineCard(target: TargetView, changed: RwSignal<u32>, remove: ServerAction<RemoveTarget>) -> impl IntoView {
    let check = ServerAction::<CheckTarget>::new();
    let trust = ServerAction::<TrustTarget>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = trust.value().get() {
            changed.update(|c| *c += 1);
        }
    });
    let (id1, id2, id3) = (target.id.clone(), target.id.clone(), target.id.clone());
    let pinned = target.host_key.clone();
    view! {
        <li class="space-y-3 rounded-xl border border-slate-200 bg-white p-4" data-machine=target.name.clone()>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div>
                    <p class="font-semibold">{target.name.clone()}</p>
                    <p class="font-mono text-xs text-slate-600">{format!("{}@{}:{} · {}", target.user, target.host, target.port, target.base_dir)}</p>
                    <p class="text-xs" data-trusted=target.host_key.is_some().to_string()>
                        {match &target.host_key {
                            Some(key) => format!("Host key confirmed: {key}"),
                            None => "Host key not confirmed yet: check the connection".to_owned(),
                        }}
                    </p>
                </div>
                <div class="flex gap-2">
                    <button class=BUTTON_SECONDARY data-action="check" disabled=move || check.pending().get()
                        on:click=move |_| { check.dispatch(CheckTarget { id: id1.clone() }); }>
                        {move || if check.pending().get() { "Checking…" } else { "Check connection" }}
                    </button>
                    <button class=BUTTON_SECONDARY on:click=move |_| { remove.dispatch(RemoveTarget { id: id2.clone() }); }>"Delete"</button>
                </div>
            </div>
            <div class="rounded-lg bg-slate-50 p-3 text-xs">
                <p class="mb-1 text-slate-600">{format!("Add this line to ~{}/.ssh/authorized_keys on the machine:", target.user)}</p>
                <div class="flex flex-wrap items-center gap-2">
                    <code class="break-all" data-public-key="">{target.public_key.clone()}</code>
                    <CopyButton text=target.public_key.clone() label="Copy key"/>
                </div>
            </div>
            <ActionError value=check.value()/>
            <ActionError value=trust.value()/>
            {move || check.value().get().and_then(Result::ok).map(|result: TargetCheck| {
                let changed_key = pinned.as_ref().is_some_and(|p| *p != result.host_key);
                let key = result.host_key.clone();
                let id = id3.clone();
                view! {
                    <div class="space-y-2 rounded-lg border border-slate-200 p-3 text-sm" data-check="">
                        <p>{format!("Connected: {} · runs servers with {}", result.platform, result.supervisor)}</p>
                        <p class="font-mono text-xs" data-host-key=result.host_key.clone()>{format!("Host key: {}", result.host_key)}</p>
                        {changed_key.then(|| view! {
                            <p role="alert" class="font-semibold text-red-700">
                                "This is not the host key you confirmed before. If the machine was not reinstalled, someone may be in between: do not trust it."
                            </p>
                        })}
                        {(!result.trusted).then(|| view! {
                            <button class=BUTTON_PRIMARY data-action="trust"
                                on:click=move |_| { trust.dispatch(TrustTarget { id: id.clone(), input: TrustHostKey { host_key: key.clone() } }); }>
                                "Trust this host key"
                            </button>
                        })}
                    </div>
                }
            })}
        </li>
    }
}

/// `/servers/{id}/hosting`: where a server runs, and moving it to (and
/// running it on) the owner's machine.
#[component]
pub fn HostingPage() -> impl IntoView {
    let auth = Auth::get();
    let params = leptos_router::hooks::use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    let server = Resource::new(move || id.clone(), crate::api::get_server);
    view! {
        <Title text="Hosting · AutoMCP"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let tier = match auth.user.await {
                    Ok(Some(user)) => user.tier,
                    Ok(None) => return view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => return view! { <ErrorBanner error/> }.into_any(),
                };
                match server.await {
                    Ok(server) => view! {
                        <div class="space-y-6">
                            <div>
                                <a href=format!("/servers/{}", server.id) class="text-sm text-indigo-700 underline">
                                    {format!("← {}", server.name)}
                                </a>
                                <h1 class="mt-1 text-2xl font-bold tracking-tight">"Hosting"</h1>
                            </div>
                            <HostingPanel server_id=server.id tier/>
                        </div>
                    }
                    .into_any(),
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

/// The hosting panel of the hosting page.
#[cfg_attr(any(feature = "ssr", feature = "bundle-manage"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-manage")), component)]
pub fn HostingPanel(server_id: String, tier: Tier) -> impl IntoView {
    if tier != Tier::Paid {
        return view! {
            <section id="hosting">
                <p class="text-sm text-slate-600" id="hosting-paid-only">
                    "Runs here. " {PAID_ONLY.to_owned()} "."
                </p>
            </section>
        }
        .into_any();
    }
    let tick = RwSignal::new(0u32);
    let id = server_id.clone();
    let hosting = Resource::new(move || tick.get(), move |_| server_hosting(id.clone()));
    let targets = Resource::new(|| (), |_| list_targets());
    view! {
        <section id="hosting" class="space-y-3">
            <Interactive>
            <Transition fallback=|| ()>
                {move || {
                    let server_id = server_id.clone();
                    Suspend::new(async move {
                        match (hosting.await, targets.await) {
                            (Ok(view), Ok(list)) => view! { <Hosting server_id view targets=list tick/> }.into_any(),
                            (Err(error), _) | (_, Err(error)) => view! { <ErrorBanner error/> }.into_any(),
                        }
                    })
                }}
            </Transition>
            </Interactive>
        </section>
    }
    .into_any()
}

#[component]
fn Hosting(server_id: String, view: HostingView, targets: Vec<TargetView>, tick: RwSignal<u32>) -> impl IntoView {
    let deploy = ServerAction::<DeployToMachine>::new();
    let action = ServerAction::<MachineAction>::new();
    let logs = ServerAction::<MachineLogs>::new();
    let on_vps = view.hosting == "vps";
    let trusted: Vec<TargetView> = targets.into_iter().filter(|t| t.host_key.is_some()).collect();
    let chosen = RwSignal::new(
        view.target
            .as_ref()
            .map(|t| t.id.clone())
            .or_else(|| trusted.first().map(|t| t.id.clone()))
            .unwrap_or_default(),
    );
    // The operation shown: the last one, then whatever was started here.
    let operation: RwSignal<Option<OperationView>> = RwSignal::new(view.last_operation.clone());
    Effect::new(move |_| {
        if let Some(Ok(started)) = deploy.value().get() {
            operation.set(Some(started));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(started)) = action.value().get() {
            operation.set(Some(started));
        }
    });
    // Poll a running operation; refresh the panel when it ends.
    let poll = Action::new(move |id: &String| get_operation(id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(latest)) = poll.value().get() {
            let finished = latest.status != "running";
            operation.set(Some(latest));
            if finished {
                tick.update(|t| *t += 1);
            }
        }
    });
    Effect::new(move |_| {
        if let Some(current) = operation.get()
            && current.status == "running"
        {
            set_timeout(move || drop(poll.dispatch(current.id.clone())), Duration::from_millis(700));
        }
    });
    let running = move || operation.with(|o| o.as_ref().is_some_and(|o| o.status == "running"));
    // Effects run only in the browser: tests wait for this before clicking.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let (id1, id2, id3, id4, id5, id6) = (
        server_id.clone(),
        server_id.clone(),
        server_id.clone(),
        server_id.clone(),
        server_id.clone(),
        server_id.clone(),
    );
    let act = move |id: String, what: VpsAction| {
        move |_| {
            action.dispatch(MachineAction { id: id.clone(), action: what });
        }
    };
    let serving = view.releases.iter().find(|r| r.status == "serving").map(|r| r.number);
    let halted = view.releases.iter().any(|r| r.status == "halted");
    let can_roll_back = serving.is_some_and(|n| view.releases.iter().any(|r| r.number < n && r.status != "failed"));
    view! {
        <span hidden data-hosting-ready=move || ready.get().to_string()></span>
        <p class="text-sm" id="hosting-where">
            {match (&view.target, &view.machine_endpoint) {
                (Some(target), Some(endpoint)) => format!(
                    "Runs on {} (release {}, http://{endpoint}/mcp); clients keep using {}",
                    target.name, serving.map(|n| n.to_string()).unwrap_or_default(), view.endpoint
                ),
                (Some(target), None) => format!("On {}, not serving now", target.name),
                _ => "Runs here.".to_owned(),
            }}
        </p>
        {if trusted.is_empty() && !on_vps {
            view! {
                <p class="text-sm text-slate-600" id="hosting-no-machine">
                    "To run it on your own machine, " <a href="/machines" class="text-indigo-700 hover:underline">"add a machine"</a> " and confirm its host key."
                </p>
            }.into_any()
        } else {
            view! {
                <div class="flex flex-wrap items-center gap-2">
                    <select id="hosting-target" class=format!("{INPUT} w-auto") prop:value=chosen disabled=on_vps
                        on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {trusted.iter().map(|t| view! { <option value=t.id.clone()>{format!("{} ({})", t.name, t.host)}</option> }).collect_view()}
                    </select>
                    <button id="vps-deploy" class=BUTTON_PRIMARY disabled=move || running() || deploy.pending().get()
                        on:click=move |_| { deploy.dispatch(DeployToMachine { id: id1.clone(), input: DeployToTarget { target_id: chosen.get_untracked() } }); }>
                        {if on_vps { "Redeploy" } else { "Deploy to machine" }}
                    </button>
                    {on_vps.then(|| view! {
                        <button id="vps-rollback" class=BUTTON_SECONDARY disabled=move || running() || !can_roll_back on:click=act(id2.clone(), VpsAction::Rollback)>"Roll back"</button>
                        {if halted {
                            view! { <button id="vps-start" class=BUTTON_SECONDARY disabled=running on:click=act(id3.clone(), VpsAction::Start)>"Start"</button> }.into_any()
                        } else {
                            view! { <button id="vps-stop" class=BUTTON_SECONDARY disabled=running on:click=act(id4.clone(), VpsAction::Stop)>"Stop"</button> }.into_any()
                        }}
                        <button id="vps-remove" class=BUTTON_SECONDARY disabled=running on:click=act(id5.clone(), VpsAction::Remove)>"Remove from machine"</button>
                        <button id="vps-logs" class=BUTTON_SECONDARY on:click=move |_| { logs.dispatch(MachineLogs { id: id6.clone() }); }>"Show log"</button>
                    })}
                </div>
            }.into_any()
        }}
        <ActionError value=deploy.value()/>
        <ActionError value=action.value()/>
        {move || operation.get().map(|op| view! { <OperationPanel op/> })}
        {move || match logs.value().get() {
            Some(Ok(text)) => Some(view! { <pre id="vps-log" class="max-h-80 overflow-auto rounded-lg bg-slate-900 p-3 text-xs text-slate-100">{text}</pre> }.into_any()),
            Some(Err(error)) => Some(view! { <ErrorBanner error/> }.into_any()),
            None => None,
        }}
    }
}

/// An operation's steps, as they happen.
#[component]
fn OperationPanel(op: OperationView) -> impl IntoView {
    let mark = |status: &str| match status {
        "done" => "✓",
        "failed" => "✗",
        _ => "…",
    };
    view! {
        <div id="operation" class="rounded-lg border border-slate-200 bg-white p-3 text-sm" data-status=op.status.clone() data-kind=op.kind.clone()>
            <p class="mb-2 font-medium">
                {match op.status.as_str() {
                    "running" => format!("{}: in progress…", op.kind),
                    "succeeded" => format!("{}: done", op.kind),
                    _ => format!("{}: failed", op.kind),
                }}
            </p>
            <ol class="space-y-1">
                {op.steps.iter().map(|step| view! {
                    <li data-step=step.step.clone() data-status=step.status.clone()>
                        <span class="inline-block w-4">{mark(&step.status)}</span>
                        <span class="font-medium">{step.step.clone()}</span>
                        " "<span class="text-slate-600">{step.detail.clone()}</span>
                    </li>
                }).collect_view()}
            </ol>
            {op.error.clone().map(|error| view! { <p role="alert" id="operation-error" class="mt-2 text-red-700">{error}</p> })}
        </div>
    }
}

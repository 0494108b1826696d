//! The create-server wizard in the browser: describe, wait (spinner or
//! failure with Retry), pick actions, set auth, deploy, and connect.

use crate::api::{
    ActivateWizard, AddWizardOperation, BeginWizard, ConfigureWizardAuth, DiscardWizard, RetryWizard,
    SearchWizardOperations, SelectWizardTools, get_wizard,
};
use crate::auth::Auth;
use crate::components::{
    ActionError, BUTTON_PRIMARY, BUTTON_SECONDARY, ChoiceBox, ConfirmButton, DestructiveMark, ErrorBanner, INPUT,
    MethodBadge, parameters_line,
};
use crate::model::{ClientAuth, Tier};
use crate::pages::{ConnectPanel, ConnectTarget};
use crate::spec::FREE_MAX_TOOLS;
use crate::wizard::{
    Activated, AddOperation, ConfigureAuth, ProcessingStatus, SelectTools, StartWizard, ToolChoice, WizardStep,
    WizardView,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::collections::BTreeMap;
use std::time::Duration;

/// Step 1: what should the server do?
#[component]
pub fn NewWizard() -> impl IntoView {
    let auth = Auth::get();
    let begin = ServerAction::<BeginWizard>::new();
    let description = RwSignal::new(String::new());
    let openapi_url = RwSignal::new(String::new());
    let openapi_document = RwSignal::new(String::new());
    let pending = begin.pending();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(view)) = begin.value().get() {
            navigate(&format!("/wizard/{}", view.id), Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        begin.dispatch(BeginWizard {
            input: StartWizard {
                description: description.get_untracked(),
                openapi_url: text(openapi_url),
                openapi_document: text(openapi_document),
            },
        });
    };
    view! {
        <Title text="New server · AutoMCP"/>
        <SignedIn auth/>
        <section class="mx-auto max-w-2xl">
            <StepBar current=WizardStep::Describe/>
            <h1 class="mb-2 text-2xl font-bold tracking-tight">"What should your assistant be able to do?"</h1>
            <p class="mb-6 text-sm text-slate-600">
                "Describe it in a sentence or two. Add the API's OpenAPI document if you have one: the tools then come from its real endpoints."
            </p>
            <form on:submit=submit class="space-y-4" id="describe-form">
                <div>
                    <label for="description" class="block text-sm font-medium text-slate-700">"Description"</label>
                    <textarea
                        id="description"
                        rows="4"
                        class=INPUT
                        placeholder="e.g. Look up the weather forecast for a city and list severe weather alerts"
                        prop:value=description
                        on:input=move |ev| description.set(event_target_value(&ev))
                    ></textarea>
                </div>
                <div>
                    <label for="openapi-url" class="block text-sm font-medium text-slate-700">"OpenAPI URL (optional)"</label>
                    <input
                        id="openapi-url"
                        type="url"
                        class=INPUT
                        placeholder="https://api.example.com/openapi.json"
                        prop:value=openapi_url
                        on:input=move |ev| openapi_url.set(event_target_value(&ev))
                    />
                </div>
                <details class="rounded-lg border border-slate-200 bg-white p-3">
                    <summary class="cursor-pointer text-sm font-medium text-slate-700">"…or paste an OpenAPI document (JSON or YAML)"</summary>
                    <textarea
                        id="openapi-document"
                        rows="8"
                        class=format!("{INPUT} font-mono text-xs")
                        prop:value=openapi_document
                        on:input=move |ev| openapi_document.set(event_target_value(&ev))
                    ></textarea>
                </details>
                <ActionError value=begin.value()/>
                <button
                    type="submit"
                    id="start"
                    class=BUTTON_PRIMARY
                    disabled=move || pending.get() || description.with(|d| d.trim().is_empty())
                >
                    {move || if pending.get() { "Starting…" } else { "Start" }}
                </button>
            </form>
        </section>
    }
}

/// Sends signed-out visitors to the log-in page.
#[component]
fn SignedIn(auth: Auth) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.user.await, Ok(None)).then(|| view! { <Redirect path="/login"/> })
            })}
        </Transition>
    }
}

/// The steps, with the current one highlighted.
#[component]
fn StepBar(current: WizardStep) -> impl IntoView {
    let labels = [
        (WizardStep::Describe, "Describe"),
        (WizardStep::Actions, "Actions"),
        (WizardStep::Auth, "Auth"),
        (WizardStep::Deploy, "Deploy"),
        (WizardStep::Complete, "Done"),
    ];
    let index = labels.iter().position(|(s, _)| *s == current).unwrap_or(0);
    view! {
        <ol class="mb-6 flex flex-wrap gap-2 text-xs" aria-label="Wizard steps" id="steps">
            {labels
                .into_iter()
                .enumerate()
                .map(|(i, (step, label))| {
                    let class = if i == index {
                        "rounded-full bg-indigo-600 px-3 py-1 font-semibold text-white"
                    } else if i < index {
                        "rounded-full bg-indigo-100 px-3 py-1 text-indigo-800"
                    } else {
                        "rounded-full bg-slate-200 px-3 py-1 text-slate-600"
                    };
                    view! {
                        <li class=class data-step=step.as_str() aria-current=(i == index).then_some("step")>{label}</li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// A wizard in progress: shows its current step with its state, and polls
/// about once a second while tools are being generated.
#[component]
pub fn WizardPage() -> impl IntoView {
    let auth = Auth::get();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let tick = RwSignal::new(0u32);
    let wizard = Resource::new(move || (id(), tick.get()), |(id, _)| get_wizard(id));
    let activated: RwSignal<Option<Activated>> = RwSignal::new(None);
    // The ticked candidates outlive a reload of the wizard (adding an operation reloads it).
    let chosen: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let refresh = Callback::new(move |()| tick.update(|t| *t += 1));
    Effect::new(move |_| {
        if let Some(Ok(view)) = wizard.get()
            && view.processing_status == ProcessingStatus::Processing
        {
            set_timeout(move || tick.update(|t| *t += 1), Duration::from_millis(1000));
        }
    });
    view! {
        <Title text="New server · AutoMCP"/>
        <SignedIn auth/>
        <section class="mx-auto max-w-3xl">
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let tier = match auth.user.await {
                        Ok(Some(user)) => user.tier,
                        _ => Tier::Free,
                    };
                    match wizard.await {
                        Ok(view) => view! { <WizardSteps view tier refresh activated chosen/> }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn WizardSteps(
    view: WizardView,
    tier: Tier,
    refresh: Callback<()>,
    activated: RwSignal<Option<Activated>>,
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    let step = view.step;
    let discard = (step != WizardStep::Complete).then(|| {
        let id = view.id.clone();
        let gone = Callback::new(move |()| {
            use_navigate()("/dashboard", Default::default());
        });
        view! { <div class="mb-4 flex justify-end"><DiscardWizardButton id gone/></div> }
    });
    // Data that does not read back is named here, whatever the step.
    let problem = (view.processing_status != ProcessingStatus::Failed)
        .then(|| view.processing_error.clone())
        .flatten()
        .map(|message| view! { <div class="mb-4"><ErrorBanner error=crate::model::AppError::conflict("wizard", message) id="wizard-problem"/></div> });
    let body = match (view.step, view.processing_status) {
        (WizardStep::Describe, ProcessingStatus::Processing) => view! { <Processing view/> }.into_any(),
        (WizardStep::Describe, _) => view! { <Failed view refresh/> }.into_any(),
        (WizardStep::Actions, _) => view! { <ActionsStep view tier refresh chosen/> }.into_any(),
        (WizardStep::Auth, _) => view! { <AuthStep view refresh/> }.into_any(),
        (WizardStep::Deploy, _) => view! { <DeployStep view tier refresh activated/> }.into_any(),
        (WizardStep::Complete, _) => view! { <CompleteStep activated/> }.into_any(),
    };
    view! {
        <StepBar current=step/>
        {discard}
        {problem}
        {body}
    }
}

/// Discards a wizard after asking; `gone` runs once it is discarded.
#[component]
pub fn DiscardWizardButton(id: String, gone: Callback<()>) -> impl IntoView {
    let discard = ServerAction::<DiscardWizard>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = discard.value().get() {
            gone.run(());
        }
    });
    let element_id = format!("discard-{id}");
    let on_confirm = Callback::new(move |()| {
        discard.dispatch(DiscardWizard { id: id.clone() });
    });
    view! {
        <div class="flex flex-col items-end gap-1">
            <ConfirmButton
                id=element_id
                label="Discard"
                question="Discard this wizard? Its proposal and any undeployed draft go with it.".to_owned()
                confirm_label="Yes, discard"
                pending=discard.pending()
                on_confirm
            />
            <ActionError value=discard.value()/>
        </div>
    }
}

#[component]
fn Processing(view: WizardView) -> impl IntoView {
    let source = if view.openapi_url.is_some() || view.has_openapi_document {
        "Reading the OpenAPI document and ranking its operations against your description."
    } else {
        "Asking the model to propose HTTP actions for your description."
    };
    view! {
        <div id="processing-banner" role="status" class="flex items-start gap-3 rounded-xl border border-indigo-200 bg-indigo-50 p-4">
            <span class="mt-0.5 inline-block h-5 w-5 shrink-0 animate-spin rounded-full border-2 border-indigo-600 border-t-transparent" aria-hidden="true"></span>
            <div>
                <p class="font-medium text-indigo-900">"Proposing tools…"</p>
                <p class="text-sm text-indigo-800">{source}</p>
                <p class="mt-1 text-xs text-indigo-700">"“" {view.description} "”"</p>
            </div>
        </div>
    }
}

#[component]
fn Failed(view: WizardView, refresh: Callback<()>) -> impl IntoView {
    let retry = ServerAction::<RetryWizard>::new();
    let id = view.id.clone();
    Effect::new(move |_| {
        if let Some(Ok(_)) = retry.value().get() {
            refresh.run(());
        }
    });
    view! {
        <div id="failure-banner" role="alert" class="rounded-xl border border-red-200 bg-red-50 p-4">
            <p class="font-medium text-red-900">"Generating the tools failed"</p>
            <p id="failure-message" class="mt-1 text-sm text-red-800">{view.processing_error.unwrap_or_default()}</p>
            <div class="mt-3 flex items-center gap-3">
                <button
                    id="retry"
                    class=BUTTON_PRIMARY
                    disabled=move || retry.pending().get()
                    on:click=move |_| {
                        retry.dispatch(RetryWizard { id: id.clone() });
                    }
                >
                    "Retry"
                </button>
                <a href="/wizard/new" class="text-sm text-red-900 underline">"Start over"</a>
            </div>
            <ActionError value=retry.value()/>
        </div>
    }
}

/// Searches every operation of the wizard's document and adds one to the
/// proposal (ticked, when the tier allows another).
#[component]
fn OperationSearch(
    id: String,
    chosen: RwSignal<Vec<String>>,
    limit: Option<usize>,
    refresh: Callback<()>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let search = ServerAction::<SearchWizardOperations>::new();
    let add = ServerAction::<AddWizardOperation>::new();
    Effect::new(move |_| {
        if let Some(Ok(view)) = add.value().get() {
            let added = view.proposal.and_then(|p| p.candidates.last().map(|c| c.tool.name.clone()));
            if let Some(name) = added {
                chosen.update(|c| {
                    if !c.contains(&name) && limit.is_none_or(|max| c.len() < max) {
                        c.push(name);
                    }
                });
            }
            refresh.run(());
        }
    });
    let search_id = id.clone();
    let run = move || {
        search.dispatch(SearchWizardOperations { id: search_id.clone(), query: query.get_untracked(), offset: 0 });
    };
    let results = move || {
        let id = id.clone();
        search.value().get().map(move |result| match result {
            Err(error) => view! { <ErrorBanner error id="operation-search-error"/> }.into_any(),
            Ok(page) => {
                let shown = page.operations.len();
                let count = match page.total {
                    0 => "No operation matches.".to_owned(),
                    1 => "1 operation matches.".to_owned(),
                    total if total > shown => format!("{total} operations match; the first {shown} are shown."),
                    total => format!("{total} operations match."),
                };
                let rows = page
                    .operations
                    .into_iter()
                    .map(|found| {
                        let name = found.operation.name.clone();
                        let id = id.clone();
                        let label = format!("Add {name}");
                        let key = name.clone();
                        view! {
                            <li class="flex flex-wrap items-center gap-2 py-2" data-operation=key>
                                <MethodBadge method=found.operation.method/>
                                <code class="break-all text-xs">{found.operation.path.clone()}</code>
                                {found.destructive.then(|| view! { <DestructiveMark/> })}
                                <span class="min-w-0 flex-1 text-sm text-slate-700">{found.operation.summary.clone()}</span>
                                {if found.proposed {
                                    view! { <span class="text-xs text-slate-600">"Proposed"</span> }.into_any()
                                } else {
                                    view! {
                                        <button
                                            type="button"
                                            class=BUTTON_SECONDARY
                                            aria-label=label
                                            disabled=move || add.pending().get()
                                            on:click=move |_| {
                                                add.dispatch(AddWizardOperation {
                                                    id: id.clone(),
                                                    input: AddOperation { operation: name.clone() },
                                                });
                                            }
                                        >
                                            "Add"
                                        </button>
                                    }
                                        .into_any()
                                }}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <p id="operation-count" class="mt-3 text-sm text-slate-700" aria-live="polite">{count}</p>
                    <ul id="operations" class="divide-y divide-slate-100">{rows}</ul>
                }
                .into_any()
            }
        })
    };
    view! {
        <section id="operation-search" class="mt-6 rounded-xl border border-slate-200 bg-white p-4">
            <h2 class="font-medium">"Not the operation you want?"</h2>
            <p class="text-sm text-slate-600">"Search every operation of the document by method, path or words, and add any of them."</p>
            <form
                class="mt-2 flex gap-2"
                on:submit=move |ev| {
                    ev.prevent_default();
                    run();
                }
            >
                <input
                    id="operation-query"
                    type="search"
                    class=INPUT
                    aria-label="Search the document's operations"
                    placeholder="e.g. POST customers"
                    prop:value=query
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
                <button type="submit" class=BUTTON_SECONDARY disabled=move || search.pending().get()>"Search"</button>
            </form>
            {results}
            <ActionError value=add.value()/>
        </section>
    }
}

/// Step 2: tick the tools to keep, edit their names and descriptions.
#[component]
fn ActionsStep(view: WizardView, tier: Tier, refresh: Callback<()>, chosen: RwSignal<Vec<String>>) -> impl IntoView {
    let select = ServerAction::<SelectWizardTools>::new();
    let proposal = view.proposal.clone().unwrap_or_else(|| crate::wizard::Proposal {
        name: String::new(),
        description: String::new(),
        candidates: vec![],
        notes: vec![],
    });
    let notes = proposal.notes.clone();
    let searchable = view.searchable;
    let limit = (tier == Tier::Free).then_some(FREE_MAX_TOOLS);
    let edits: BTreeMap<String, (RwSignal<String>, RwSignal<String>)> = proposal
        .candidates
        .iter()
        .map(|c| (c.tool.name.clone(), (RwSignal::new(c.tool.name.clone()), RwSignal::new(c.tool.description.clone()))))
        .collect();
    Effect::new(move |_| {
        if let Some(Ok(_)) = select.value().get() {
            refresh.run(());
        }
    });
    let id = view.id.clone();
    let edits_for_submit = edits.clone();
    let submit = move |_| {
        let tools = chosen
            .get_untracked()
            .into_iter()
            .map(|candidate| {
                let (name, description) = edits_for_submit[&candidate];
                ToolChoice {
                    candidate,
                    name: Some(name.get_untracked()),
                    description: Some(description.get_untracked()),
                }
            })
            .collect();
        select.dispatch(SelectWizardTools { id: id.clone(), input: SelectTools { tools } });
    };
    let count = move || chosen.with(Vec::len);
    view! {
        <div class="mb-4 flex flex-wrap items-end justify-between gap-2">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">{proposal.name.clone()}</h1>
                <p class="text-sm text-slate-600">"Pick the actions your assistant may take. You can rename them and sharpen their descriptions."</p>
            </div>
            <p id="selection-count" class="text-sm font-medium text-slate-700" aria-live="polite">
                {move || match limit {
                    Some(max) => format!("{} of {max}", count()),
                    None => format!("{} selected", count()),
                }}
            </p>
        </div>
        {limit.map(|max| view! {
            <p class="mb-4 text-xs text-slate-500" id="tier-hint">
                {format!("The free tier hosts servers with up to {max} tools. The paid tier has no limit.")}
            </p>
        })}
        {(!notes.is_empty()).then(|| view! {
            <div id="proposal-notes" class="mb-4 rounded-xl border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
                <p class="font-medium">"Some operations were left out:"</p>
                <ul class="mt-1 list-disc pl-5">
                    {notes.into_iter().map(|note| view! { <li>{note}</li> }).collect_view()}
                </ul>
            </div>
        })}
        <ul class="space-y-3" id="candidates">
            {proposal
                .candidates
                .into_iter()
                .map(|candidate| {
                    let key = candidate.tool.name.clone();
                    let (name, description) = edits[&key];
                    let parameters = parameters_line(&candidate.tool.input_schema);
                    let url = candidate.tool.action.url.clone();
                    let method = candidate.tool.action.method;
                    let destructive = candidate.tool.effective_annotations().destructive;
                    view! {
                        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-candidate=key.clone()>
                            <div class="flex items-start gap-3">
                                <ChoiceBox key=key.clone() chosen limit label=format!("Use {key}")/>
                                <div class="min-w-0 flex-1 space-y-2">
                                    <input
                                        class=format!("{INPUT} font-mono")
                                        aria-label="Tool name"
                                        prop:value=name
                                        on:input=move |ev| name.set(event_target_value(&ev))
                                    />
                                    <textarea
                                        class=INPUT
                                        rows="2"
                                        aria-label="Tool description"
                                        prop:value=description
                                        on:input=move |ev| description.set(event_target_value(&ev))
                                    ></textarea>
                                    <p class="flex flex-wrap items-center gap-2">
                                        <MethodBadge method/>
                                        {destructive.then(|| view! { <DestructiveMark/> })}
                                        <span class="break-all font-mono text-xs text-slate-600">{url}</span>
                                    </p>
                                    <p class="text-xs text-slate-500">
                                        {parameters}
                                    </p>
                                    <p class="text-xs text-slate-400">{format!("From {}", candidate.source)}</p>
                                </div>
                            </div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        {searchable.then(|| view! { <OperationSearch id=view.id.clone() chosen limit refresh/> })}
        <div class="mt-6 flex items-center gap-3">
            <button
                id="continue-actions"
                class=BUTTON_PRIMARY
                disabled=move || select.pending().get() || chosen.with(Vec::is_empty)
                on:click=submit
            >
                "Continue"
            </button>
            <ActionError value=select.value()/>
        </div>
    }
}

/// Step 3: how clients authenticate, and the upstream's credentials.
#[component]
fn AuthStep(view: WizardView, refresh: Callback<()>) -> impl IntoView {
    let configure = ServerAction::<ConfigureWizardAuth>::new();
    let client_auth = RwSignal::new(ClientAuth::Bearer);
    let secrets: Vec<(String, RwSignal<String>)> =
        view.credentials_needed.iter().map(|name| (name.clone(), RwSignal::new(String::new()))).collect();
    Effect::new(move |_| {
        if let Some(Ok(_)) = configure.value().get() {
            refresh.run(());
        }
    });
    let id = view.id.clone();
    let secrets_for_submit = secrets.clone();
    let submit = move |_| {
        let credentials =
            secrets_for_submit.iter().map(|(name, value)| (name.clone(), value.get_untracked())).collect();
        configure.dispatch(ConfigureWizardAuth {
            id: id.clone(),
            input: ConfigureAuth { client_auth: client_auth.get_untracked(), credentials },
        });
    };
    view! {
        <h1 class="mb-4 text-2xl font-bold tracking-tight">"Authentication"</h1>
        <fieldset class="space-y-2 rounded-xl border border-slate-200 bg-white p-4">
            <legend class="px-1 text-sm font-medium text-slate-700">"How MCP clients connect"</legend>
            <label class="flex items-start gap-2">
                <input
                    type="radio"
                    name="client_auth"
                    id="auth-bearer"
                    prop:checked=move || client_auth.get() == ClientAuth::Bearer
                    on:change=move |_| client_auth.set(ClientAuth::Bearer)
                />
                <span><span class="font-medium">"With a token"</span>" (recommended): we generate one and show it once."</span>
            </label>
            <label class="flex items-start gap-2">
                <input
                    type="radio"
                    name="client_auth"
                    id="auth-oauth"
                    prop:checked=move || client_auth.get() == ClientAuth::OAuth
                    on:change=move |_| client_auth.set(ClientAuth::OAuth)
                />
                <span>
                    <span class="font-medium">"Sign in with OAuth"</span>
                    ": clients send you to AutoMCP to sign in and allow them. The way to use it in claude.ai and ChatGPT."
                </span>
            </label>
            <label class="flex items-start gap-2">
                <input
                    type="radio"
                    name="client_auth"
                    id="auth-public"
                    prop:checked=move || client_auth.get() == ClientAuth::Public
                    on:change=move |_| client_auth.set(ClientAuth::Public)
                />
                <span><span class="font-medium">"Public"</span>": anyone with the URL can call the tools."</span>
            </label>
        </fieldset>
        <div class="mt-4 space-y-3">
            {if secrets.is_empty() {
                view! { <p class="text-sm text-slate-600">"The chosen actions need no API credentials."</p> }.into_any()
            } else {
                secrets
                    .into_iter()
                    .map(|(name, value)| {
                        let input_id = format!("credential-{name}");
                        view! {
                            <div>
                                <label for=input_id.clone() class="block text-sm font-medium text-slate-700">
                                    {format!("Credential “{name}”")}
                                </label>
                                <input
                                    id=input_id
                                    type="password"
                                    autocomplete="off"
                                    class=INPUT
                                    prop:value=value
                                    on:input=move |ev| value.set(event_target_value(&ev))
                                />
                                <p class="mt-1 text-xs text-slate-500">"Stored encrypted and never shown again."</p>
                            </div>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </div>
        <div class="mt-6 flex items-center gap-3">
            <button id="continue-auth" class=BUTTON_PRIMARY disabled=move || configure.pending().get() on:click=submit>
                "Continue"
            </button>
        </div>
        <div class="mt-3"><ActionError value=configure.value()/></div>
    }
}

/// Step 4: where it runs.
#[component]
fn DeployStep(
    view: WizardView,
    tier: Tier,
    refresh: Callback<()>,
    activated: RwSignal<Option<Activated>>,
) -> impl IntoView {
    let activate = ServerAction::<ActivateWizard>::new();
    Effect::new(move |_| {
        if let Some(Ok(result)) = activate.value().get() {
            activated.set(Some(result));
            refresh.run(());
        }
    });
    let id = view.id.clone();
    let tools = view.selected.len();
    view! {
        <h1 class="mb-4 text-2xl font-bold tracking-tight">"Deploy"</h1>
        <div class="grid gap-3 md:grid-cols-2">
            <div class="rounded-xl border-2 border-indigo-600 bg-white p-4" id="deploy-here">
                <p class="font-semibold">"On AutoMCP"</p>
                <p class="text-sm text-slate-600">
                    {format!("Live at once on this server, with {tools} tool(s). {}", match tier {
                        Tier::Free => "Included in the free tier.",
                        Tier::Paid => "No tool limit on your plan.",
                    })}
                </p>
            </div>
            <div class="rounded-xl border border-dashed border-slate-300 bg-slate-50 p-4 text-slate-600" id="deploy-vps">
                <p class="font-semibold">"On your own server (VPS)"</p>
                <p class="text-sm">
                    "Paid tier: activate here first, then move it to your machine from the server's page (Hosting). "
                    "Its endpoint stays the same."
                </p>
            </div>
        </div>
        <div class="mt-6 flex items-center gap-3">
            <button
                id="activate"
                class=BUTTON_PRIMARY
                disabled=move || activate.pending().get()
                on:click=move |_| {
                    activate.dispatch(ActivateWizard { id: id.clone() });
                }
            >
                {move || if activate.pending().get() { "Deploying…" } else { "Deploy" }}
            </button>
        </div>
        <div class="mt-3"><ActionError value=activate.value()/></div>
    }
}

/// Step 5: the endpoint, the token (once) and the client configurations.
#[component]
fn CompleteStep(activated: RwSignal<Option<Activated>>) -> impl IntoView {
    move || match activated.get() {
        Some(result) => view! { <Connect result/> }.into_any(),
        None => view! {
            <div class="rounded-xl border border-green-200 bg-green-50 p-4" id="complete">
                <p class="font-medium text-green-900">"This server is live."</p>
                <p class="text-sm text-green-800">
                    "Its token was shown once, when it was deployed. Find its endpoint on "
                    <a href="/dashboard" class="underline">"your dashboard"</a>"."
                </p>
            </div>
        }
        .into_any(),
    }
}

#[component]
fn Connect(result: Activated) -> impl IntoView {
    let server = result.server.clone();
    view! {
        <div class="space-y-6" id="complete">
            <div class="rounded-xl border border-green-200 bg-green-50 p-4">
                <p class="font-medium text-green-900">{format!("{} is live", server.name)}</p>
            </div>
            <ConnectPanel server=ConnectTarget::from(&server) token=result.token.clone()/>
            <a href=format!("/servers/{}", server.id) class=BUTTON_PRIMARY>"Open the server page"</a>
        </div>
    }
}

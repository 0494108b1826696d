//! The create-server wizard: describe, wait (spinner or failure with
//! Retry), pick actions, set auth, deploy, and connect.
//!
//! The page is rendered on the server from the wizard's state; each step's
//! form is an island that sends its step and loads the page again, so the
//! server renders the next step.

use crate::api::{
    AddWizardCandidate, BeginWizard, ConfigureWizardAuth, DeployWizard, SearchWizardOperations, SelectWizardTools,
    get_wizard, wizard_progress,
};
use crate::auth::Auth;
use crate::browser;
use crate::commands::{Ask, Command, CommandButton, Then};
use crate::components::{
    ActionError, BUTTON_PRIMARY, BUTTON_SECONDARY, ChoiceBox, DestructiveMark, ErrorBanner, INPUT, Interactive,
    MethodBadge,
};
use crate::model::{ClientAuth, Tier};
use crate::pages::ConnectPanel;
use crate::spec::FREE_MAX_TOOLS;
use crate::wizard::{
    AddOperation, CandidateRow, ConfigureAuth, ProcessingStatus, SelectTools, StartWizard, ToolChoice, WizardStep,
    WizardView,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use std::collections::BTreeMap;
use std::time::Duration;

/// Step 1: what should the server do?
#[component]
pub fn NewWizard() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <Title text="New server · AutoMCP"/>
        <SignedIn auth/>
        <section class="mx-auto max-w-2xl">
            <StepBar current=WizardStep::Describe/>
            <h1 class="mb-2 text-2xl font-bold tracking-tight">"What should your assistant be able to do?"</h1>
            <p class="mb-6 text-sm text-slate-600">
                "Describe it in a sentence or two. Add the API's OpenAPI document if you have one: the tools then come from its real endpoints."
            </p>
            <DescribeForm/>
        </section>
    }
}

/// The description and the optional document; starting goes to the new
/// wizard's page.
#[cfg_attr(any(feature = "ssr", feature = "bundle-wizard"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-wizard")), component)]
fn DescribeForm() -> impl IntoView {
    let begin = ServerAction::<BeginWizard>::new();
    let description = RwSignal::new(String::new());
    let openapi_url = RwSignal::new(String::new());
    let openapi_document = RwSignal::new(String::new());
    let pending = begin.pending();
    Effect::new(move |_| {
        if let Some(Ok(id)) = begin.value().get() {
            browser::go(&format!("/wizard/{id}"));
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
        <Interactive>
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
                        aria-label="OpenAPI document"
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
        </Interactive>
    }
}

/// Sends signed-out visitors to the log-in page.
#[component]
fn SignedIn(auth: Auth) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.user.await, Ok(None)).then(|| view! { <Redirect path="/login"/> })
            })}
        </Suspense>
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

/// A wizard in progress: its current step, rendered from its state.
#[component]
pub fn WizardPage() -> impl IntoView {
    let auth = Auth::get();
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    let wizard = Resource::new(move || id.clone(), get_wizard);
    view! {
        <Title text="New server · AutoMCP"/>
        <SignedIn auth/>
        <section class="mx-auto max-w-3xl">
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let tier = match auth.user.await {
                        Ok(Some(user)) => user.tier,
                        _ => Tier::Free,
                    };
                    match wizard.await {
                        Ok(view) => view! { <WizardSteps view tier/> }.into_any(),
                        Err(error) => {
                            #[cfg(feature = "ssr")]
                            crate::ssr::set_error_status(&error);
                            view! { <ErrorBanner error/> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn WizardSteps(view: WizardView, tier: Tier) -> impl IntoView {
    let step = view.step;
    let discard = (step != WizardStep::Complete).then(|| {
        view! {
            <div class="mb-4 flex justify-end">
                <DiscardWizardButton id=view.id.clone() then=Then::Go("/dashboard".to_owned())/>
            </div>
        }
    });
    // Data that does not read back is named here, whatever the step.
    let problem = (view.processing_status != ProcessingStatus::Failed)
        .then(|| view.processing_error.clone())
        .flatten()
        .map(|message| view! { <div class="mb-4"><ErrorBanner error=crate::model::AppError::conflict("wizard", message) id="wizard-problem"/></div> });
    let body = match (view.step, view.processing_status) {
        (WizardStep::Describe, ProcessingStatus::Processing) => view! { <Processing view/> }.into_any(),
        (WizardStep::Describe, _) => view! { <Failed view/> }.into_any(),
        (WizardStep::Actions, _) => view! { <ActionsStep view tier/> }.into_any(),
        (WizardStep::Auth, _) => view! { <AuthStep view/> }.into_any(),
        (WizardStep::Deploy, _) => view! { <DeployStep view tier/> }.into_any(),
        (WizardStep::Complete, _) => view! { <CompleteStep view/> }.into_any(),
    };
    view! {
        <StepBar current=step/>
        {discard}
        {problem}
        {body}
    }
}

/// Discards a wizard after asking, then goes on as `then` says.
#[component]
pub fn DiscardWizardButton(id: String, then: Then) -> impl IntoView {
    let ask = Ask {
        question: "Discard this wizard? Its proposal and any undeployed draft go with it.".to_owned(),
        confirm: "Yes, discard".to_owned(),
    };
    view! {
        <CommandButton command=Command::DiscardWizard(id.clone()) id=format!("discard-{id}") label="Discard".to_owned() ask=Some(ask) then primary=false/>
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
        <AwaitProposal id=view.id/>
    }
}

/// Asks about once a second whether generation has finished, and loads the
/// page again when it has (with the proposal or the failure).
#[cfg_attr(any(feature = "ssr", feature = "bundle-wizard"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-wizard")), component)]
fn AwaitProposal(id: String) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        tick.track();
        let id = id.clone();
        leptos::task::spawn_local(async move {
            match wizard_progress(id).await {
                Ok(ProcessingStatus::Processing) => {
                    set_timeout(move || tick.update(|t| *t += 1), Duration::from_millis(1000))
                }
                // Done, failed, or an error worth showing: the server renders it.
                _ => browser::reload(),
            }
        });
    });
}

#[component]
fn Failed(view: WizardView) -> impl IntoView {
    view! {
        <div id="failure-banner" role="alert" class="rounded-xl border border-red-200 bg-red-50 p-4">
            <p class="font-medium text-red-900">"Generating the tools failed"</p>
            <p id="failure-message" class="mt-1 text-sm text-red-800">{view.processing_error.unwrap_or_default()}</p>
            <div class="mt-3 flex items-center gap-3">
                <CommandButton command=Command::RetryWizard(view.id.clone()) id="retry".to_owned() label="Retry".to_owned() ask=None then=Then::Reload primary=true/>
                <a href="/wizard/new" class="text-sm text-red-900 underline">"Start over"</a>
            </div>
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
    candidates: RwSignal<Vec<Editable>>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let search = ServerAction::<SearchWizardOperations>::new();
    let add = ServerAction::<AddWizardCandidate>::new();
    Effect::new(move |_| {
        if let Some(Ok(row)) = add.value().get() {
            let name = row.key.clone();
            if candidates.with_untracked(|list| list.iter().any(|c| c.row.key == name)) {
                return;
            }
            candidates.update(|list| list.push(Editable::new(row)));
            chosen.update(|c| {
                if !c.contains(&name) && limit.is_none_or(|max| c.len() < max) {
                    c.push(name);
                }
            });
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
                                                add.dispatch(AddWizardCandidate {
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

/// A proposed tool with the name and description the user is editing.
#[derive(Clone)]
struct Editable {
    row: CandidateRow,
    name: RwSignal<String>,
    description: RwSignal<String>,
}

impl Editable {
    fn new(row: CandidateRow) -> Self {
        let (name, description) = (RwSignal::new(row.key.clone()), RwSignal::new(row.description.clone()));
        Editable { row, name, description }
    }
}

/// Step 2: tick the tools to keep, edit their names and descriptions.
#[component]
fn ActionsStep(view: WizardView, tier: Tier) -> impl IntoView {
    let proposal = view.proposal.clone();
    let candidates: Vec<CandidateRow> =
        proposal.iter().flat_map(|p| p.candidates.iter().map(CandidateRow::from)).collect();
    let (name, notes) = proposal.map(|p| (p.name, p.notes)).unwrap_or_default();
    let limit = (tier == Tier::Free).then_some(FREE_MAX_TOOLS);
    view! { <ActionsPicker id=view.id name notes candidates limit searchable=view.searchable/> }
}

/// The proposed tools to tick and edit, the search for more, and Continue.
#[cfg_attr(any(feature = "ssr", feature = "bundle-wizard"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-wizard")), component)]
fn ActionsPicker(
    id: String,
    name: String,
    notes: Vec<String>,
    candidates: Vec<CandidateRow>,
    limit: Option<usize>,
    searchable: bool,
) -> impl IntoView {
    let select = ServerAction::<SelectWizardTools>::new();
    let chosen: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let candidates = RwSignal::new(candidates.into_iter().map(Editable::new).collect::<Vec<_>>());
    Effect::new(move |_| {
        if let Some(Ok(_)) = select.value().get() {
            browser::reload();
        }
    });
    let select_id = id.clone();
    let submit = move |_| {
        let edits: BTreeMap<String, Editable> =
            candidates.get_untracked().into_iter().map(|c| (c.row.key.clone(), c)).collect();
        let tools = chosen
            .get_untracked()
            .into_iter()
            .filter_map(|candidate| {
                let edit = edits.get(&candidate)?;
                Some(ToolChoice {
                    name: Some(edit.name.get_untracked()),
                    description: Some(edit.description.get_untracked()),
                    candidate,
                })
            })
            .collect();
        select.dispatch(SelectWizardTools { id: select_id.clone(), input: SelectTools { tools } });
    };
    let count = move || chosen.with(Vec::len);
    view! {
        <Interactive>
            <div class="mb-4 flex flex-wrap items-end justify-between gap-2">
                <div>
                    <h1 class="text-2xl font-bold tracking-tight">{name}</h1>
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
                <For each=move || candidates.get() key=|c| c.row.key.clone() let:candidate>
                    <CandidateItem candidate chosen limit/>
                </For>
            </ul>
            {searchable.then(|| view! { <OperationSearch id=id.clone() chosen limit candidates/> })}
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
        </Interactive>
    }
}

#[component]
fn CandidateItem(candidate: Editable, chosen: RwSignal<Vec<String>>, limit: Option<usize>) -> impl IntoView {
    let Editable { row, name, description } = candidate;
    let key = row.key.clone();
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
                        <MethodBadge method=row.method/>
                        {row.destructive.then(|| view! { <DestructiveMark/> })}
                        <span class="break-all font-mono text-xs text-slate-600">{row.url}</span>
                    </p>
                    <p class="text-xs text-slate-500">{row.parameters}</p>
                    <p class="text-xs text-slate-600">{format!("From {}", row.source)}</p>
                </div>
            </div>
        </li>
    }
}

/// Step 3: how clients authenticate, and the upstream's credentials.
#[component]
fn AuthStep(view: WizardView) -> impl IntoView {
    view! { <AuthForm id=view.id credentials=view.credentials_needed/> }
}

#[cfg_attr(any(feature = "ssr", feature = "bundle-wizard"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-wizard")), component)]
fn AuthForm(id: String, credentials: Vec<String>) -> impl IntoView {
    let configure = ServerAction::<ConfigureWizardAuth>::new();
    let client_auth = RwSignal::new(ClientAuth::Bearer);
    let secrets: Vec<(String, RwSignal<String>)> =
        credentials.iter().map(|name| (name.clone(), RwSignal::new(String::new()))).collect();
    Effect::new(move |_| {
        if let Some(Ok(_)) = configure.value().get() {
            browser::reload();
        }
    });
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
        <Interactive>
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
        </Interactive>
    }
}

/// Step 4: where it runs.
#[component]
fn DeployStep(view: WizardView, tier: Tier) -> impl IntoView {
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
        <DeployButton id=view.id/>
    }
}

/// Deploys, then shows the endpoint, the token (this once) and the client
/// configurations in place.
#[cfg_attr(any(feature = "ssr", feature = "bundle-wizard"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-wizard")), component)]
fn DeployButton(id: String) -> impl IntoView {
    let deploy = ServerAction::<DeployWizard>::new();
    let pending = deploy.pending();
    view! {
        <Interactive>
            {move || match deploy.value().get() {
            Some(Ok(deployed)) => view! {
                <div class="mt-6 space-y-6" id="complete">
                    <div class="rounded-xl border border-green-200 bg-green-50 p-4">
                        <p class="font-medium text-green-900">{format!("{} is live", deployed.name)}</p>
                    </div>
                    <ConnectPanel server=deployed.target.clone() token=deployed.token.clone()/>
                    <a href=format!("/servers/{}", deployed.target.id) class=BUTTON_PRIMARY>"Open the server page"</a>
                </div>
            }
            .into_any(),
            failed => {
                let id = id.clone();
                view! {
                    <div class="mt-6 flex items-center gap-3">
                        <button
                            id="activate"
                            class=BUTTON_PRIMARY
                            disabled=move || pending.get()
                            on:click=move |_| {
                                deploy.dispatch(DeployWizard { id: id.clone() });
                            }
                        >
                            {move || if pending.get() { "Deploying…" } else { "Deploy" }}
                        </button>
                    </div>
                    {failed.and_then(Result::err).map(|error| view! { <div class="mt-3"><ErrorBanner error/></div> })}
                }
                .into_any()
            }
        }}
        </Interactive>
    }
}

/// Step 5, on a later visit: the server is live (its token was shown once).
#[component]
fn CompleteStep(view: WizardView) -> impl IntoView {
    let server = view.server_id.map(|id| format!("/servers/{id}")).unwrap_or_else(|| "/dashboard".to_owned());
    view! {
        <div class="rounded-xl border border-green-200 bg-green-50 p-4" id="complete">
            <p class="font-medium text-green-900">"This server is live."</p>
            <p class="text-sm text-green-800">
                "Its token was shown once, when it was deployed. Find its endpoint on "
                <a href=server class="underline">"its page"</a>"."
            </p>
        </div>
    }
}

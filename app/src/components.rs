//! Small presentational pieces shared by the pages.

use crate::auth::Auth;
use crate::model::AppError;
use leptos::prelude::*;

/// Where the log-out form posts (the server function's path).
const LOG_OUT: &str = <crate::api::LogOut as leptos::server_fn::ServerFn>::PATH;

/// The top bar: brand, and either the account menu or log in / sign up links.
#[component]
pub fn NavBar() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <header class="border-b border-slate-200 bg-white">
            <nav class="mx-auto flex max-w-5xl items-center justify-between gap-4 px-4 py-3 sm:px-6" aria-label="Main">
                <a href="/" class="text-lg font-bold tracking-tight text-indigo-700">"AutoMCP"</a>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match auth.user.await {
                            Ok(Some(user)) => {
                                let is_admin = user.is_admin;
                                view! {
                                    <div class="flex items-center gap-3 text-sm">
                                        <a href="/dashboard" class="font-medium hover:underline">"Dashboard"</a>
                                        <a href="/sources" class="font-medium hover:underline" id="nav-sources">"MCP sources"</a>
                                        <a href="/machines" class="font-medium hover:underline" id="nav-machines">"Machines"</a>
                                        <a href="/tokens" class="font-medium hover:underline" id="nav-tokens">"API tokens"</a>
                                        {is_admin.then(|| view! {
                                            <a href="/admin/users" class="font-medium hover:underline">"Users"</a>
                                        })}
                                        <span id="nav-email" class="hidden text-slate-500 sm:inline">{user.email}</span>
                                        // A plain form: the server ends the session and redirects.
                                        <form method="post" action=LOG_OUT>
                                            <button type="submit" id="logout" class=BUTTON_SECONDARY>"Log out"</button>
                                        </form>
                                    </div>
                                }
                                .into_any()
                            }
                            _ => view! {
                                <div class="flex items-center gap-3 text-sm">
                                    <a href="/login" class="font-medium hover:underline">"Log in"</a>
                                    <a href="/signup" class=BUTTON_PRIMARY>"Sign up"</a>
                                </div>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}

pub const BUTTON_PRIMARY: &str = "inline-flex items-center justify-center rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:opacity-50";
pub const BUTTON_SECONDARY: &str = "inline-flex items-center justify-center rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:cursor-not-allowed disabled:opacity-50";
pub const INPUT: &str = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500";

/// Wraps an island's controls in a fieldset that is disabled in the
/// server's HTML and enabled once the island is hydrated: until the page can
/// act on them, buttons and fields take no clicks or keystrokes that would
/// be lost (and browser tests wait for them to be enabled).
#[component]
pub fn Interactive(children: Children) -> impl IntoView {
    let ready = RwSignal::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| ready.set(true));
    view! { <fieldset class="contents" disabled=move || !ready.get()>{children()}</fieldset> }
}

/// A labelled input.
#[component]
pub fn Field(
    /// The form field name, also the element id.
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div>
            <label for=name class="block text-sm font-medium text-slate-700">{label}</label>
            <input id=name name=name type=kind autocomplete=autocomplete required class=INPUT/>
            {hint.map(|hint| view! { <p class="mt-1 text-xs text-slate-500">{hint}</p> })}
        </div>
    }
}

/// An error shown where the user is looking: red, announced to screen readers.
#[component]
pub fn ErrorBanner(error: AppError, #[prop(default = "form-error")] id: &'static str) -> impl IntoView {
    view! {
        <div id=id role="alert" class="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {error.to_string()}
        </div>
    }
}

/// A checkbox that adds `key` to `chosen` or removes it; once `limit` are
/// chosen, the unticked ones are disabled (the free tier's tool limit).
#[component]
pub fn ChoiceBox(key: String, chosen: RwSignal<Vec<String>>, limit: Option<usize>, label: String) -> impl IntoView {
    let checked = {
        let key = key.clone();
        move || chosen.with(|c| c.contains(&key))
    };
    let blocked = {
        let checked = checked.clone();
        move || !checked() && limit.is_some_and(|max| chosen.with(Vec::len) >= max)
    };
    let toggle = move |_| {
        chosen.update(|c| match c.iter().position(|k| *k == key) {
            Some(i) => {
                c.remove(i);
            }
            None => c.push(key.clone()),
        })
    };
    view! {
        <input type="checkbox" class="mt-1 h-4 w-4" aria-label=label prop:checked=checked disabled=blocked on:change=toggle/>
    }
}

/// An HTTP method as a coloured badge.
#[component]
pub fn MethodBadge(method: crate::spec::HttpMethod) -> impl IntoView {
    use crate::spec::HttpMethod::*;
    let colours = match method {
        Get => "bg-emerald-100 text-emerald-900",
        Post => "bg-sky-100 text-sky-900",
        Put | Patch => "bg-amber-100 text-amber-900",
        Delete => "bg-red-100 text-red-900",
    };
    view! {
        <span class=format!("inline-block rounded px-1.5 py-0.5 font-mono text-xs font-semibold {colours}") data-method=method.as_str()>
            {method.as_str()}
        </span>
    }
}

/// "Changes or deletes data", for PUT, PATCH and DELETE actions.
#[component]
pub fn DestructiveMark() -> impl IntoView {
    view! {
        <span class="inline-block rounded border border-red-200 bg-red-50 px-1.5 py-0.5 text-xs font-medium text-red-800" data-destructive="true">
            "Changes or deletes data"
        </span>
    }
}

/// "Parameters: a, b" (the properties of an object schema), or "No parameters".
pub fn parameters_line(schema: &serde_json::Value) -> String {
    let names: Vec<&str> = schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() { "No parameters".to_owned() } else { format!("Parameters: {}", names.join(", ")) }
}

/// A message that floats above the page until dismissed (errors of
/// background work, such as a failed fetch).
#[component]
pub fn Toast(message: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|text| {
            view! {
                <div
                    id="toast"
                    role="alert"
                    class="fixed bottom-4 right-4 z-50 max-w-md rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800 shadow-lg"
                >
                    <div class="flex items-start gap-3">
                        <p class="flex-1 break-words" id="toast-message">{text}</p>
                        <button
                            type="button"
                            class="font-semibold text-red-700 hover:text-red-900"
                            aria-label="Dismiss"
                            on:click=move |_| message.set(None)
                        >
                            "×"
                        </button>
                    </div>
                </div>
            }
        })
    }
}

/// The error of an action's last result, if it failed.
#[component]
pub fn ActionError<T: Clone + Send + Sync + 'static>(
    #[prop(into)] value: Signal<Option<Result<T, AppError>>>,
) -> impl IntoView {
    move || match value.get() {
        Some(Err(error)) => Some(view! { <ErrorBanner error/> }),
        _ => None,
    }
}

/// Copies `text` to the clipboard (in the browser), and says so.
#[cfg_attr(
    any(
        feature = "ssr",
        feature = "bundle-account",
        feature = "bundle-wizard",
        feature = "bundle-server",
        feature = "bundle-manage"
    ),
    island
)]
#[cfg_attr(
    not(any(
        feature = "ssr",
        feature = "bundle-account",
        feature = "bundle-wizard",
        feature = "bundle-server",
        feature = "bundle-manage"
    )),
    component
)]
pub fn CopyButton(text: String, #[prop(into)] label: String) -> impl IntoView {
    let state: RwSignal<Option<bool>> = RwSignal::new(None);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let promise = window().navigator().clipboard().write_text(&text);
            leptos::task::spawn_local(async move {
                let done = wasm_bindgen_futures::JsFuture::from(promise).await;
                state.set(Some(done.is_ok()));
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <Interactive>
            <button type="button" class=BUTTON_SECONDARY on:click=on_click>
                {move || match state.get() {
                    Some(true) => "Copied".to_owned(),
                    Some(false) => "Copy failed: select and copy by hand".to_owned(),
                    None => label.clone(),
                }}
            </button>
        </Interactive>
    }
}

/// A button for something that cannot be undone: the first click asks
/// ("Discard this wizard?"), the second does it; Cancel backs out.
#[component]
pub fn ConfirmButton(
    /// Prefix of the element ids: `{id}`, `{id}-confirm`, `{id}-cancel`.
    id: String,
    #[prop(into)] label: String,
    question: String,
    #[prop(into)] confirm_label: String,
    #[prop(into)] pending: Signal<bool>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let (confirm_id, cancel_id) = (format!("{id}-confirm"), format!("{id}-cancel"));
    let danger = "inline-flex items-center justify-center rounded-lg bg-red-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-700 disabled:cursor-not-allowed disabled:opacity-50";
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" id=id.clone() class=BUTTON_SECONDARY on:click=move |_| asking.set(true)>
                    {label.clone()}
                </button>
            }
        >
            <span class="inline-flex flex-wrap items-center gap-2 text-sm" role="group">
                <span class="text-slate-700">{question.clone()}</span>
                <button
                    type="button"
                    id=confirm_id.clone()
                    class=danger
                    disabled=move || pending.get()
                    on:click=move |_| on_confirm.run(())
                >
                    {confirm_label.clone()}
                </button>
                <button type="button" id=cancel_id.clone() class=BUTTON_SECONDARY on:click=move |_| asking.set(false)>
                    "Cancel"
                </button>
            </span>
        </Show>
    }
}

/// A centered card with a heading, used by the small forms.
#[component]
pub fn Card(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="mx-auto max-w-md rounded-2xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8">
            <h1 class="mb-6 text-2xl font-bold tracking-tight">{title}</h1>
            {children()}
        </section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn render<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> String {
        let owner = Owner::new();
        owner.with(|| view().to_html())
    }

    #[test]
    fn field_renders_a_labelled_required_input() {
        let html = render(|| view! { <Field name="email" label="Email" kind="email" hint="We never share it."/> });
        assert!(html.contains(r#"<label for="email""#), "{html}");
        assert!(html.contains(r#"id="email""#) && html.contains(r#"name="email""#) && html.contains(r#"type="email""#));
        assert!(html.contains("required") && html.contains("We never share it."), "{html}");
    }

    #[test]
    fn error_banner_shows_the_message_as_an_alert() {
        let html = render(|| view! { <ErrorBanner error=AppError::unauthenticated("wrong email or password")/> });
        assert!(html.contains(r#"role="alert""#) && html.contains("wrong email or password"), "{html}");
    }

    #[test]
    fn card_has_a_heading() {
        let html = render(|| view! { <Card title="Log in"><p>"body"</p></Card> });
        assert!(html.contains("<h1") && html.contains("Log in") && html.contains("body"), "{html}");
    }
}

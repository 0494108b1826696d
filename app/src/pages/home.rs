use crate::auth::Auth;
use crate::components::{BUTTON_PRIMARY, BUTTON_SECONDARY};
use leptos::prelude::*;

/// The start page: what AutoMCP does, and the way in.
#[component]
pub fn Home() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <section class="py-12 text-center sm:py-20">
            <h1 class="text-4xl font-extrabold tracking-tight sm:text-5xl">
                "Give your AI assistant " <span class="text-indigo-600">"real actions"</span>
            </h1>
            <p class="mx-auto mt-4 max-w-2xl text-lg text-slate-600">
                "Describe what you want your assistant to do with an HTTP API. AutoMCP proposes the tools, \
                 you pick them, and a secure MCP server is live at once for Claude, Cursor, VS Code and any agent."
            </p>
            <div class="mt-8 flex flex-wrap justify-center gap-3">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match auth.user.await {
                            Ok(Some(_)) => view! {
                                <a href="/dashboard" class=BUTTON_PRIMARY>"Go to your dashboard"</a>
                            }
                            .into_any(),
                            _ => view! {
                                <a href="/signup" class=BUTTON_PRIMARY>"Create a free account"</a>
                                <a href="/login" class=BUTTON_SECONDARY>"Log in"</a>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            </div>
            <ul class="mx-auto mt-12 grid max-w-4xl gap-4 text-left md:grid-cols-3">
                <li class="rounded-xl border border-slate-200 bg-white p-4">
                    <h2 class="font-semibold">"Describe"</h2>
                    <p class="mt-1 text-sm text-slate-600">"In words, optionally with an OpenAPI document."</p>
                </li>
                <li class="rounded-xl border border-slate-200 bg-white p-4">
                    <h2 class="font-semibold">"Pick actions"</h2>
                    <p class="mt-1 text-sm text-slate-600">"Each tool is one call to a real HTTP API, with your credentials kept encrypted."</p>
                </li>
                <li class="rounded-xl border border-slate-200 bg-white p-4">
                    <h2 class="font-semibold">"Connect"</h2>
                    <p class="mt-1 text-sm text-slate-600">"Up to 3 tools are hosted free; paid plans run on your own server."</p>
                </li>
            </ul>
        </section>
    }
}

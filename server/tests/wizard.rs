//! The wizard, server side: states seen by polling, background generation
//! from OpenAPI documents and from an LLM stand-in, retries, restarts, and
//! the whole way to a live server called by rmcp's client.

mod common;

use app::model::Tier;
use common::llm::{FakeLlm, Reply};
use common::sql;
use common::upstream::Upstream;
use common::{Era, TestApp, call, fixture, json, mcp_client, text};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn with_llm(llm: &FakeLlm) -> TestApp {
    let url = llm.base_url();
    TestApp::spawn_with(move |c| {
        c.allow_private_upstreams = true;
        c.llm_base_url = Some(url);
        c.llm_model = Some("test-model".into());
    })
    .await
}

async fn start(app: &TestApp, token: &str, body: Value) -> String {
    let response = app.api(Method::POST, "/api/v1/wizard", token, Some(body)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let view = json(response).await;
    assert_eq!((view["step"].as_str(), view["processing_status"].as_str()), (Some("describe"), Some("processing")));
    view["id"].as_str().unwrap().to_owned()
}

/// Selects `tools`, configures `auth` and activates; returns the activation.
async fn complete(app: &TestApp, token: &str, id: &str, tools: &[&str], auth: Value) -> Value {
    let picks: Vec<Value> = tools.iter().map(|c| json!({ "candidate": c })).collect();
    let (status, view) = post(app, token, format!("/api/v1/wizard/{id}/tools"), json!({ "tools": picks })).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (status, view) = post(app, token, format!("/api/v1/wizard/{id}/auth"), auth).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (status, activated) = post(app, token, format!("/api/v1/wizard/{id}/activate"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{activated}");
    activated
}

fn candidate_names(view: &Value) -> Vec<String> {
    view["proposal"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tool"]["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn post(app: &TestApp, token: &str, path: String, body: Value) -> (StatusCode, Value) {
    let response = app.api(Method::POST, &path, token, Some(body)).await;
    let status = response.status();
    (status, json(response).await)
}

#[tokio::test]
async fn from_an_openapi_document_to_a_live_server() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let id = start(
        &app,
        &api,
        json!({
            "description": "I want to list my pets, look one up and add new ones",
            "openapi_document": fixture("petstore-3.0.json", &up.addr),
        }),
    )
    .await;
    let (seen, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(seen.last().unwrap(), &("actions".to_owned(), "idle".to_owned()), "{view}");
    let names = candidate_names(&view);
    assert_eq!(names.len(), 5);
    assert!(names[..3].contains(&"listPets".to_owned()) && names[..3].contains(&"createPet".to_owned()), "{names:?}");
    let list =
        &view["proposal"]["candidates"].as_array().unwrap().iter().find(|c| c["tool"]["name"] == "listPets").unwrap();
    assert_eq!(list["source"], "operation listPets (GET /pets)");

    // A 4th tool is refused on the free tier; nothing changes.
    let picks: Vec<Value> =
        ["listPets", "createPet", "showPetById", "deletePet"].iter().map(|c| json!({"candidate": c})).collect();
    let four = json!({ "tools": picks });
    let (status, error) = post(&app, &api, format!("/api/v1/wizard/{id}/tools"), four).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["error"]["message"].as_str().unwrap().contains("at most 3 tools"), "{error}");

    let three = json!({"tools": [
        {"candidate": "listPets", "name": "list_pets", "description": "List the pets in the store"},
        {"candidate": "createPet"},
        {"candidate": "showPetById"},
    ]});
    let (status, view) = post(&app, &api, format!("/api/v1/wizard/{id}/tools"), three).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "auth");
    assert_eq!(view["credentials_needed"], json!(["bearerAuth"]));

    let (status, error) = post(&app, &api, format!("/api/v1/wizard/{id}/auth"), json!({"client_auth": "bearer"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["error"]["message"].as_str().unwrap().contains("bearerAuth"), "{error}");
    let auth = json!({"client_auth": "bearer", "credentials": {"bearerAuth": "pet-secret"}});
    let (status, view) = post(&app, &api, format!("/api/v1/wizard/{id}/auth"), auth).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "deploy");

    let (status, activated) = post(&app, &api, format!("/api/v1/wizard/{id}/activate"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{activated}");
    assert_eq!(activated["wizard"]["step"], "complete");
    assert_eq!(activated["server"]["status"], "active");
    let token = activated["token"].as_str().unwrap();
    let endpoint = activated["server"]["endpoint"].as_str().unwrap();
    assert!(endpoint.ends_with("/mcp/pet-store"), "{endpoint}");

    let client = mcp_client(endpoint, Some(token), Era::Modern).await.unwrap();
    let tools: Vec<String> = client.list_all_tools().await.unwrap().iter().map(|t| t.name.to_string()).collect();
    assert_eq!(tools, ["list_pets", "createPet", "showPetById"]);

    let result = call(&client, "list_pets", json!({"limit": 5, "tags": ["a", "b"]})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let seen = up.last();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str(), seen.query.as_deref()),
        ("GET", "/v1/pets", Some("limit=5&tags=a&tags=b"))
    );
    assert_eq!(seen.header("authorization"), Some("Bearer pet-secret"));

    call(&client, "createPet", json!({"name": "Rex", "tag": "dog"})).await.unwrap();
    let seen = up.last();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/v1/pets"));
    assert_eq!(seen.json(), json!({"name": "Rex", "tag": "dog"}));

    call(&client, "showPetById", json!({"petId": "p 1"})).await.unwrap();
    assert_eq!(up.last().path, "/v1/pets/p%201");

    // Finished wizards are not offered for resuming.
    let unfinished = json(app.api(Method::GET, "/api/v1/wizard", &api, None).await).await;
    assert_eq!(unfinished, json!([]));
    // Activating twice is refused, naming the state.
    let (status, error) = post(&app, &api, format!("/api/v1/wizard/{id}/activate"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(error["error"]["message"].as_str().unwrap().contains("step `complete`"), "{error}");
}

#[tokio::test]
async fn a_yaml_document_fetched_by_url_with_server_variables_and_a_query_key() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    up.serve_document(fixture("weather-3.1.yaml", &up.addr));
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let id = start(&app, &api, json!({"description": "weather forecast", "openapi_url": up.url("/openapi")})).await;
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(view["step"], "actions", "{view}");
    assert_eq!(candidate_names(&view)[0], "cityForecast");
    let forecast = &view["proposal"]["candidates"][0]["tool"];
    assert_eq!(forecast["action"]["url"], up.url("/api/2.1/cities/{city}/forecast"));
    assert_eq!(forecast["input_schema"]["required"], json!(["city"]));

    let auth = json!({"client_auth": "public", "credentials": {"appKey": "k-42"}});
    let activated = complete(&app, &api, &id, &["cityForecast", "cityAlerts"], auth).await;
    assert_eq!(activated["token"], Value::Null, "public servers have no token");
    let client = mcp_client(activated["server"]["endpoint"].as_str().unwrap(), None, Era::Legacy).await.unwrap();
    let result = call(&client, "cityForecast", json!({"city": "Oslo", "days": 3, "X_Units": "metric"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let seen = up.last();
    assert_eq!(seen.path, "/api/2.1/cities/Oslo/forecast");
    assert_eq!(seen.query.as_deref(), Some("days=3&appid=k-42"));
    assert_eq!(seen.header("x-units"), Some("metric"));
}

#[tokio::test]
async fn swagger_2_body_and_form_parameters_with_basic_auth() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let id = start(
        &app,
        &api,
        json!({"description": "notes", "openapi_document": fixture("legacy-swagger-2.0.json", &up.addr)}),
    )
    .await;
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(view["step"], "actions", "{view}");
    let auth = json!({"client_auth": "public", "credentials": {"login": "ada:pw"}});
    let activated = complete(&app, &api, &id, &["addNote", "uploadAttachment"], auth).await;
    let client = mcp_client(activated["server"]["endpoint"].as_str().unwrap(), None, Era::Legacy).await.unwrap();

    call(&client, "addNote", json!({"title": "Buy milk", "pinned": true})).await.unwrap();
    let seen = up.last();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/legacy/notes"));
    assert_eq!(seen.json(), json!({"title": "Buy milk", "pinned": true}));
    assert_eq!(seen.header("authorization"), Some("Basic YWRhOnB3"));

    let result = call(&client, "uploadAttachment", json!({"id": 7, "label": "spec & docs"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let seen = up.last();
    assert_eq!(seen.path, "/legacy/notes/7/attachments");
    assert_eq!(seen.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(&seen.body[..], b"label=spec%20%26%20docs");
    let missing = call(&client, "uploadAttachment", json!({"id": 7})).await.unwrap();
    assert!(text(&missing).contains("\"label\" is a required property"), "{}", text(&missing));
}

#[tokio::test]
async fn cyclic_references_are_resolved() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let id = start(
        &app,
        &api,
        json!({"description": "org chart", "openapi_document": fixture("cyclic-3.0.json", &up.addr)}),
    )
    .await;
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(view["step"], "actions", "{view}");
    let tool = &view["proposal"]["candidates"][0]["tool"];
    let properties = &tool["input_schema"]["properties"];
    // Recursive schemas are kept once, in `$defs`, and referenced from there.
    let defs = &tool["input_schema"]["$defs"];
    assert_eq!(properties["manager"], json!({"$ref": "#/$defs/Person"}));
    assert_eq!(properties["reports"]["items"], json!({"$ref": "#/$defs/Person"}));
    assert_eq!(properties["team"], json!({"$ref": "#/$defs/Team"}));
    assert_eq!(defs["Person"]["properties"]["manager"], json!({"$ref": "#/$defs/Person"}));
    assert_eq!(defs["Team"]["properties"]["lead"], json!({"$ref": "#/$defs/Person"}));
    assert_eq!(defs["Team"]["properties"]["name"]["type"], "string");
    assert_eq!(
        tool["action"]["auth"],
        json!({"credential": "key", "placement": {"in": "header", "name": "X-Org-Key"}})
    );

    let auth = json!({"client_auth": "public", "credentials": {"key": "org-1"}});
    let activated = complete(&app, &api, &id, &["addPerson"], auth).await;
    let client = mcp_client(activated["server"]["endpoint"].as_str().unwrap(), None, Era::Legacy).await.unwrap();
    let person = json!({"name": "Ada", "manager": {"name": "Grace", "manager": {"name": "Alan"}}});
    call(&client, "addPerson", person.clone()).await.unwrap();
    let seen = up.last();
    assert_eq!(seen.json(), person);
    assert_eq!(seen.header("x-org-key"), Some("org-1"));
    // The recursion is validated at every depth.
    let bad = json!({"name": "Ada", "manager": {"name": "Grace", "manager": {"name": 7}}});
    let refused = call(&client, "addPerson", bad).await.unwrap();
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("7 is not of type \"string\""), "{}", text(&refused));
}

#[tokio::test]
async fn with_neither_an_llm_nor_a_document_generation_fails_at_once() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let id = start(&app, &api, json!({"description": "send emails"})).await;
    let (seen, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(seen.last().unwrap(), &("describe".to_owned(), "failed".to_owned()));
    let error = view["processing_error"].as_str().unwrap();
    assert!(error.contains("OpenAPI document") && error.contains("AUTOMCP_LLM_BASE_URL"), "{error}");
}

fn llm_tool(name: &str, url: &str) -> Value {
    json!({
        "name": name,
        "description": "Send a message",
        "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        "action": {"method": "POST", "url": url, "body": {"type": "json", "value": {"text": "{text}"}}}
    })
}

#[tokio::test]
async fn an_llm_proposes_actions_from_a_description() {
    let llm = FakeLlm::start().await;
    let app = with_llm(&llm).await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    llm.push_json(json!({"name": "Messenger", "description": "Sends messages", "tools": [llm_tool("send_message", &up.url("/messages"))]}));
    let id = start(&app, &api, json!({"description": "send chat messages"})).await;
    let (seen, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(seen.last().unwrap(), &("actions".to_owned(), "idle".to_owned()), "{view}");
    assert_eq!(view["proposal"]["name"], "Messenger");
    assert_eq!(view["proposal"]["candidates"][0]["source"], "proposed by test-model");
    let request = &llm.requests()[0];
    assert_eq!(request["model"], "test-model");
    assert_eq!(request["response_format"]["type"], "json_object");
    assert!(request["messages"][1]["content"].as_str().unwrap().contains("send chat messages"));

    let activated = complete(&app, &api, &id, &["send_message"], json!({"client_auth": "bearer"})).await;
    let client =
        mcp_client(activated["server"]["endpoint"].as_str().unwrap(), activated["token"].as_str(), Era::Legacy)
            .await
            .unwrap();
    call(&client, "send_message", json!({"text": "hi"})).await.unwrap();
    assert_eq!(up.last().json(), json!({"text": "hi"}));
}

#[tokio::test]
async fn an_invalid_llm_answer_is_repaired_once_with_the_validation_errors() {
    let llm = FakeLlm::start().await;
    let app = with_llm(&llm).await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let mut bad = llm_tool("send message!", "https://chat.example.com/{room}/messages");
    bad["description"] = json!("");
    llm.push_json(json!({"name": "Chat", "tools": [bad]}));
    llm.push_json(json!({"name": "Chat", "tools": [llm_tool("send_message", "https://chat.example.com/messages")]}));
    let id = start(&app, &api, json!({"description": "chat"})).await;
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(view["step"], "actions", "{view}");
    assert_eq!(candidate_names(&view), ["send_message"]);
    let requests = llm.requests();
    assert_eq!(requests.len(), 2);
    let correction =
        requests[1]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
    assert!(
        correction.contains("tools[0].name") && correction.contains("`{room}` refers to no argument"),
        "{correction}"
    );
}

#[tokio::test]
async fn malformed_llm_answers_fail_with_a_readable_message() {
    let llm = FakeLlm::start().await;
    let app = with_llm(&llm).await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    llm.push(Reply::Content("Sure! Here are your tools: {name: oops".into()));
    llm.push(Reply::Content("still not JSON".into()));
    let id = start(&app, &api, json!({"description": "anything"})).await;
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!((view["step"].as_str(), view["processing_status"].as_str()), (Some("describe"), Some("failed")));
    let error = view["processing_error"].as_str().unwrap();
    assert!(error.contains("not usable") && error.contains("not valid JSON"), "{error}");
}

#[tokio::test]
async fn an_llm_outage_fails_and_retry_recovers() {
    let llm = FakeLlm::start().await;
    let app = with_llm(&llm).await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    llm.push(Reply::Status(500, "model overloaded".into()));
    let id = start(&app, &api, json!({"description": "chat"})).await;
    let (seen, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(seen.last().unwrap(), &("describe".to_owned(), "failed".to_owned()));
    assert_eq!(view["processing_error"], "the LLM API answered 500: model overloaded");

    // Anything but retry is refused while failed.
    let (status, error) = post(&app, &api, format!("/api/v1/wizard/{id}/tools"), json!({"tools": []})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(error["error"]["message"].as_str().unwrap().contains("`failed`"), "{error}");

    llm.push_json(json!({"name": "Chat", "tools": [llm_tool("send_message", "https://chat.example.com/messages")]}));
    let (status, view) = post(&app, &api, format!("/api/v1/wizard/{id}/retry"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!((view["processing_status"].as_str(), view["processing_error"].as_str()), (Some("processing"), None));
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(view["step"], "actions", "{view}");
    // Retrying after success is refused.
    let (status, _) = post(&app, &api, format!("/api/v1/wizard/{id}/retry"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn with_a_document_the_llm_chooses_among_its_operations_only() {
    let llm = FakeLlm::start().await;
    let app = with_llm(&llm).await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    llm.push_json(json!({"name": "Pets", "tools": [{"operation": "adoptUnicorn", "name": "adopt"}]}));
    llm.push_json(json!({"name": "Pets", "description": "Pet lookups", "tools": [
        {"operation": "showPetById", "name": "find_pet", "description": "Look up one pet by its id"}
    ]}));
    let id = start(
        &app,
        &api,
        json!({"description": "find a pet", "openapi_document": fixture("petstore-3.0.json", &up.addr)}),
    )
    .await;
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(view["step"], "actions", "{view}");
    let first = &view["proposal"]["candidates"][0];
    assert_eq!(first["tool"]["name"], "find_pet");
    assert_eq!(first["tool"]["action"]["url"], up.url("/v1/pets/{petId}"));
    assert_eq!(first["source"], "operation showPetById (GET /pets/{petId}), chosen by test-model");
    assert_eq!(candidate_names(&view).len(), 5, "the other operations stay available");
    let correction =
        llm.requests()[1]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
    assert!(correction.contains("`adoptUnicorn` is not one of the listed operations"), "{correction}");
}

#[tokio::test]
async fn illegal_moves_are_refused_and_change_nothing() {
    let llm = FakeLlm::start().await;
    let app = with_llm(&llm).await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let (_, other) = app.account("bob@example.com", Tier::Free).await;
    // No scripted answer yet: the LLM stand-in answers 500 only when asked, so
    // hold the job back by starting, then checking moves while it runs or fails.
    llm.push(Reply::Status(503, "busy".into()));
    let id = start(&app, &api, json!({"description": "x"})).await;
    for (path, body) in [
        ("activate", json!({})),
        ("auth", json!({"client_auth": "public"})),
        ("tools", json!({"tools": [{"candidate": "x"}]})),
    ] {
        let (status, error) = post(&app, &api, format!("/api/v1/wizard/{id}/{path}"), body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {error}");
        assert!(error["error"]["message"].as_str().unwrap().contains("step `describe`"), "{error}");
    }
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(view["processing_status"], "failed");
    // Another account sees nothing.
    let response = app.api(Method::GET, &format!("/api/v1/wizard/{id}"), &other, None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (status, _) = post(&app, &other, format!("/api/v1/wizard/{id}/retry"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Unfinished wizards are listed for resuming.
    let listed = json(app.api(Method::GET, "/api/v1/wizard", &api, None).await).await;
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["step"], "describe");
    let (status, error) = post(&app, &api, "/api/v1/wizard".into(), json!({"description": "  "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["field"], "description");
}

#[tokio::test]
async fn a_restart_while_processing_never_leaves_a_wizard_stuck() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (user, _) = app.account("ada@example.com", Tier::Free).await;
    let db = app.services.db.clone();
    // Two wizards whose jobs were running when the process died: one with
    // attempts left, one that has been interrupted too often.
    for (wizard, attempts) in [("w-resume", 1), ("w-exhausted", 3)] {
        sql::exec(
            &db,
            "insert into wizards (id, owner_id, description, openapi_document, wizard_step, processing_status, created_at, updated_at)
             values ($1, $2, 'pets', $3, 'describe', 'processing', 0, 0)",
            &[wizard.into(), (&user.id).into(), fixture("petstore-3.0.json", &up.addr).into()],
        )
        .await;
        sql::exec(
            &db,
            "insert into jobs (id, kind, wizard_id, state, attempts, lease_until, created_at, updated_at)
             values ($1, 'generate', $2, 'running', $3, 1, 0, 0)",
            &[format!("job-{wizard}").into(), wizard.into(), i64::from(attempts).into()],
        )
        .await;
    }
    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, |c| c.allow_private_upstreams = true).await;
    let token = app.services.accounts.create_token(&user.id, "t").await.unwrap();
    let (_, resumed) = app.settle_wizard(&token, "w-resume").await;
    assert_eq!(resumed["step"], "actions", "{resumed}");
    let (_, exhausted) = app.settle_wizard(&token, "w-exhausted").await;
    assert_eq!(exhausted["processing_status"], "failed");
    assert!(exhausted["processing_error"].as_str().unwrap().contains("interrupted 3 times"), "{exhausted}");
    let open = sql::int(&app.services.db, "select count(*) from jobs where state in ('queued', 'running')", &[]).await;
    assert_eq!(open, 0);
}

#[tokio::test]
async fn a_large_pasted_document_is_accepted_and_an_oversized_one_refused() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    // A real document padded to about 1 MB with a long description.
    let mut doc: Value = serde_json::from_str(&fixture("petstore-3.0.json", &up.addr)).unwrap();
    doc["info"]["description"] = json!("x".repeat(1024 * 1024));
    let id = start(&app, &api, json!({"description": "pets", "openapi_document": doc.to_string()})).await;
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!(view["step"], "actions", "{}", view["processing_error"]);

    let huge = "y".repeat(32 * 1024 * 1024 + 10);
    let (status, error) =
        post(&app, &api, "/api/v1/wizard".into(), json!({"description": "pets", "openapi_document": huge})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("larger than 32 MiB"), "{error}");
}

#[tokio::test]
async fn every_operation_can_be_searched_and_added_and_documents_are_kept_once() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let doc = server::generate::openapi::sample::large_document(100_000);
    let body = json!({"description": "retrieve resources", "openapi_document": doc});
    let id = start(&app, &api, body.clone()).await;
    let (_, view) = app.settle_wizard(&api, &id).await;
    assert_eq!((view["step"].as_str(), view["searchable"].as_bool()), (Some("actions"), Some(true)));
    let proposed = candidate_names(&view);
    assert_eq!(proposed.len(), 20);

    let search = |q: &str| format!("/api/v1/wizard/{id}/operations?q={q}&limit=100");
    let all = json(app.api(Method::GET, &search(""), &api, None).await).await;
    let total = all["total"].as_u64().unwrap() as usize;
    assert!(total > 20, "{total} operations");
    let unproposed: Vec<&Value> =
        all["operations"].as_array().unwrap().iter().filter(|o| o["proposed"] == false).collect();
    assert_eq!(unproposed.len(), total - 20);
    let wanted = unproposed[0]["name"].as_str().unwrap().to_owned();
    let narrowed = json(
        app.api(Method::GET, &search(&format!("{} {}", unproposed[0]["method"].as_str().unwrap(), wanted)), &api, None)
            .await,
    )
    .await;
    assert_eq!(narrowed["total"], 1, "{narrowed}");

    let (status, view) =
        post(&app, &api, format!("/api/v1/wizard/{id}/candidates"), json!({"operation": wanted.clone()})).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert!(candidate_names(&view).contains(&wanted), "{view}");
    let again = json(app.api(Method::GET, &search(&wanted), &api, None).await).await;
    assert_eq!(again["operations"][0]["proposed"], true);
    let (status, error) =
        post(&app, &api, format!("/api/v1/wizard/{id}/candidates"), json!({"operation": "NoSuchThing"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");

    // The added operation can be chosen like any other.
    let (status, view) =
        post(&app, &api, format!("/api/v1/wizard/{id}/tools"), json!({"tools": [{"candidate": wanted}]})).await;
    assert_eq!((status, view["step"].as_str()), (StatusCode::OK, Some("auth")), "{view}");
    let (status, _) =
        post(&app, &api, format!("/api/v1/wizard/{id}/candidates"), json!({"operation": "GetResource1"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "only while choosing actions");

    // The same document for a second wizard is stored once; discarding both deletes it.
    let second = start(&app, &api, body).await;
    app.settle_wizard(&api, &second).await;
    assert_eq!(sql::int(&app.services.db, "select count(*) from documents", &[]).await, 1);
    for wizard in [&id, &second] {
        let response = app.api(Method::DELETE, &format!("/api/v1/wizard/{wizard}"), &api, None).await;
        assert!(response.status().is_success());
    }
    assert_eq!(sql::int(&app.services.db, "select count(*) from documents", &[]).await, 0);
}

//! Accounts over real HTTP: sign-up, log-in, log-out, sessions, tokens, tiers.

mod common;

use common::sql;
use common::{PASSWORD, TestApp, json};
use reqwest::StatusCode;

#[tokio::test]
async fn sign_up_creates_the_first_account_as_admin_and_signs_it_in() {
    let app = TestApp::spawn().await;

    let response = app.sign_up("  Ada@Example.com ", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("automcp_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http must not set Secure: {cookie}");
    let user = json(response).await;
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["is_admin"], true);
    assert_eq!(user["tier"], "free");

    // The session works for the API and for pages.
    let me = json(app.get("/api/v1/me").await).await;
    assert_eq!(me["email"], "ada@example.com");
    let page = app.get("/dashboard").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Your MCP servers") && html.contains("ada@example.com"), "{html}");
    assert!(html.contains("/pkg/automcp-account.js"), "hydration script missing");

    // The second account is not an admin.
    let other = TestApp::anonymous(&app);
    let response = other
        .post(app.url("/api/fn/sign_up"))
        .header("origin", app.origin())
        .header("accept", "application/json")
        .form(&[("email", "bob@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await["is_admin"], false);
}

#[tokio::test]
async fn https_public_url_marks_the_cookie_secure() {
    let app = TestApp::spawn_with(|c| c.public_url = Some("https://automcp.example".parse().unwrap())).await;
    let response = app
        .client
        .post(app.url("/api/fn/sign_up"))
        .header("origin", "https://automcp.example")
        .header("accept", "application/json")
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("__Host-automcp_session=") && cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_taken_email_is_refused_with_409() {
    let app = TestApp::spawn().await;
    assert_eq!(app.sign_up("ada@example.com", PASSWORD).await.status(), StatusCode::OK);
    let response = app.sign_up("ADA@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let error = json(response).await;
    assert_eq!(error["code"], "conflict");
    assert_eq!(error["field"], "email");
    assert!(error["message"].as_str().unwrap().contains("already exists"), "{error}");
}

#[tokio::test]
async fn weak_passwords_and_bad_emails_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    for (email, password, field, needle) in [
        ("ada@example.com", "short", "password", "at least 10"),
        ("ada@example.com", "password123", "password", "most common"),
        ("ada@example.com", "ada-is-my-password", "password", "email"),
        ("not-an-email", PASSWORD, "email", "no `@`"),
    ] {
        let response = app.sign_up(email, password).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        let error = json(response).await;
        assert_eq!(error["field"], field);
        assert!(error["message"].as_str().unwrap().contains(needle), "{error}");
    }
    assert!(app.services.accounts.list_users().await.unwrap().is_empty(), "nothing was created");
}

#[tokio::test]
async fn log_in_checks_the_password_and_log_out_ends_the_session() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com", PASSWORD).await;
    let signed_up_cookie = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(signed_up_cookie.status(), StatusCode::OK);

    let fresh = TestApp::anonymous(&app);
    for (email, password) in [("ada@example.com", "wrong password!!"), ("nobody@example.com", PASSWORD)] {
        let response = fresh
            .post(app.url("/api/fn/log_in"))
            .header("origin", app.origin())
            .header("accept", "application/json")
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(json(response).await["message"], "wrong email or password");
    }

    let response = app.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let token = cookie.split(';').next().unwrap().to_owned();

    let response = app.server_fn("log_out", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));

    // The old cookie no longer opens anything.
    let response = fresh.get(app.url("/api/v1/me")).header("cookie", &token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let error = json(response).await;
    assert!(error["error"]["message"].as_str().unwrap().contains("log in again"), "{error}");
}

#[tokio::test]
async fn forged_and_expired_sessions_are_signed_out() {
    let app = TestApp::spawn().await;
    let client = app.anonymous();

    let response = client.get(app.url("/dashboard")).header("cookie", "automcp_session=forged").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/login");

    // An expired session, written the way the server writes them.
    let user = app.services.accounts.create_user("ada@example.com", PASSWORD, Default::default()).await.unwrap();
    sql::exec(
        &app.services.db,
        "insert into sessions (token_hash, user_id, created_at, expires_at) values ($1, $2, 0, 1)",
        &[server::accounts::secret_hash("old-token").into(), (&user.id).into()],
    )
    .await;
    let response =
        client.get(app.url("/api/v1/me")).header("cookie", "automcp_session=old-token").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response =
        client.get(app.url("/dashboard")).header("cookie", "automcp_session=old-token").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn api_tokens_authenticate_and_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let user = app.services.accounts.create_user("ada@example.com", PASSWORD, Default::default()).await.unwrap();
    let token = app.services.accounts.create_token(&user.id, "laptop").await.unwrap();
    assert!(token.starts_with("amcp_pat_"));

    let client = app.anonymous();
    let response = client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["email"], "ada@example.com");

    let stored = sql::strings(&app.services.db, "select token_hash from api_tokens", &[]).await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    assert!(!stored[0].contains(&token[9..]));

    for (header, needle) in [
        (format!("Bearer {token}x"), "invalid API token"),
        ("Bearer".to_owned(), "malformed"),
        (format!("Basic {token}"), "malformed"),
        (token.clone(), "malformed"),
    ] {
        let response = client.get(app.url("/api/v1/me")).header("authorization", header.as_str()).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header}");
        let error = json(response).await;
        assert!(error["error"]["message"].as_str().unwrap().contains(needle), "{header}: {error}");
    }
    let response = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn only_admins_change_tiers() {
    let app = TestApp::spawn().await;
    let admin = app.services.accounts.create_user("root@example.com", PASSWORD, Default::default()).await.unwrap();
    let user = app.services.accounts.create_user("ada@example.com", PASSWORD, Default::default()).await.unwrap();
    assert!(admin.is_admin && !user.is_admin);
    let admin_token = app.services.accounts.create_token(&admin.id, "t").await.unwrap();
    let user_token = app.services.accounts.create_token(&user.id, "t").await.unwrap();
    let client = app.anonymous();
    let path = format!("/api/v1/admin/users/{}/tier", user.id);

    let response = client
        .put(app.url(&path))
        .bearer_auth(&user_token)
        .json(&serde_json::json!({"tier": "paid"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = client.get(app.url("/api/v1/admin/users")).bearer_auth(&user_token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = client
        .put(app.url(&path))
        .bearer_auth(&admin_token)
        .json(&serde_json::json!({"tier": "gold"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("tier"));

    let response = client
        .put(app.url(&path))
        .bearer_auth(&admin_token)
        .json(&serde_json::json!({"tier": "paid"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["tier"], "paid");

    let response = client
        .put(app.url("/api/v1/admin/users/nope/tier"))
        .bearer_auth(&admin_token)
        .json(&serde_json::json!({"tier": "paid"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let users = json(client.get(app.url("/api/v1/admin/users")).bearer_auth(&admin_token).send().await.unwrap()).await;
    assert_eq!(users.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_for_a_while_and_then_the_owner_gets_in() {
    let app = TestApp::spawn().await;
    app.services.accounts.create_user("ada@example.com", PASSWORD, Default::default()).await.unwrap();
    let mut statuses = Vec::new();
    for _ in 0..server::throttle::FREE_FAILURES {
        statuses.push(app.log_in("ada@example.com", "not the password!").await.status());
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
    // Locked: even the right password is turned away, with how long to wait.
    let locked = app.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((25..=30).contains(&wait), "{wait}");
    let error = json(locked).await;
    assert_eq!(error["code"], "throttled");
    assert!(error["message"].as_str().unwrap().contains("too many wrong passwords"), "{error}");
    // Another account is not affected.
    app.services.accounts.create_user("grace@example.com", PASSWORD, Default::default()).await.unwrap();
    assert!(app.log_in("grace@example.com", PASSWORD).await.status().is_success());
}

#[tokio::test]
async fn log_in_attempts_and_sign_ups_are_throttled_per_client_address() {
    let app = TestApp::spawn_with(|c| {
        c.log_ins_per_minute = 5;
        c.sign_ups_per_hour = 2;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(app.log_in(&format!("nobody{i}@example.com"), "whatever password").await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    let refused = app.log_in("nobody@example.com", "whatever password").await;
    assert_eq!(refused.headers()["retry-after"], "12");
    assert!(json(refused).await["message"].as_str().unwrap().contains("from your address"));

    assert!(app.sign_up("one@example.com", PASSWORD).await.status().is_success());
    assert!(app.sign_up("two@example.com", PASSWORD).await.status().is_success());
    let third = app.sign_up("three@example.com", PASSWORD).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(json(third).await["message"].as_str().unwrap().contains("accounts were created from your address"));
    assert_eq!(app.services.accounts.list_users().await.unwrap().len(), 2);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_throttled() {
    let app = TestApp::spawn_with(|c| {
        c.log_ins_per_minute = 2;
        c.trusted_proxies = 1;
    })
    .await;
    let attempt = |client: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/fn/log_in"))
                .header("origin", app.origin())
                .header("x-forwarded-for", client)
                .form(&[("email", "nobody@example.com"), ("password", "whatever password")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(attempt("203.0.113.1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("203.0.113.1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt("203.0.113.2").await, StatusCode::UNAUTHORIZED, "another client behind the proxy");
}

#[tokio::test]
async fn api_tokens_are_listed_revoked_and_expire() {
    let app = TestApp::spawn().await;
    let user = app.services.accounts.create_user("ada@example.com", PASSWORD, Default::default()).await.unwrap();
    let admin_token = app.services.accounts.create_token(&user.id, "admin").await.unwrap();
    let api = |method: reqwest::Method, path: &str, token: &str, body: Option<serde_json::Value>| {
        let mut request = app.anonymous().request(method, app.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let created = api(
        reqwest::Method::POST,
        "/api/v1/tokens",
        &admin_token,
        Some(serde_json::json!({
        "name": "ci", "expires_in_days": 30})),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json(created).await;
    let ci_token = created["token"].as_str().unwrap().to_owned();
    let expires = created["view"]["expires_at"].as_i64().unwrap() - created["view"]["created_at"].as_i64().unwrap();
    assert_eq!(expires, 30 * 86_400);

    // Used, then listed with when it was last used; never the token itself.
    assert_eq!(api(reqwest::Method::GET, "/api/v1/me", &ci_token, None).await.unwrap().status(), StatusCode::OK);
    let listed = json(api(reqwest::Method::GET, "/api/v1/tokens", &admin_token, None).await.unwrap()).await;
    let ci = listed.as_array().unwrap().iter().find(|t| t["name"] == "ci").unwrap().clone();
    assert!(ci["last_used_at"].is_i64(), "{ci}");
    assert_eq!(ci["expired"], false);
    assert!(!listed.to_string().contains(&ci_token[9..]));
    // The last-used time reaches the database in a batch, off the request path.
    app.services.accounts.flush_token_uses().await;
    let stored = sql::ints(&app.services.db, "select last_used_at from api_tokens where name = 'ci'", &[]).await[0];
    assert!(stored.is_some());

    // Revoked: refused at once, and no longer listed.
    let id = ci["id"].as_str().unwrap();
    let revoked = api(reqwest::Method::DELETE, &format!("/api/v1/tokens/{id}"), &admin_token, None).await.unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let refused = api(reqwest::Method::GET, "/api/v1/me", &ci_token, None).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let again = api(reqwest::Method::DELETE, &format!("/api/v1/tokens/{id}"), &admin_token, None).await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // Expired: refused with the reason.
    let short = json(
        api(
            reqwest::Method::POST,
            "/api/v1/tokens",
            &admin_token,
            Some(serde_json::json!({"name": "short", "expires_in_days": 1})),
        )
        .await
        .unwrap(),
    )
    .await;
    sql::exec(&app.services.db, "update api_tokens set expires_at = expires_at - 2 * 86400 where name = 'short'", &[])
        .await;
    let expired = api(reqwest::Method::GET, "/api/v1/me", short["token"].as_str().unwrap(), None).await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert!(json(expired).await["error"]["message"].as_str().unwrap().contains("expired 24 h ago"));
    let listed = json(api(reqwest::Method::GET, "/api/v1/tokens", &admin_token, None).await.unwrap()).await;
    assert_eq!(listed.as_array().unwrap().iter().find(|t| t["name"] == "short").unwrap()["expired"], true);

    // Bad input says what is wrong; another account cannot revoke ours.
    let bad = api(
        reqwest::Method::POST,
        "/api/v1/tokens",
        &admin_token,
        Some(serde_json::json!({"name": "x", "expires_in_days": 0})),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(bad).await["error"]["field"], "expires_in_days");
    let eve = app.services.accounts.create_user("eve@example.com", PASSWORD, Default::default()).await.unwrap();
    let eve_token = app.services.accounts.create_token(&eve.id, "eve").await.unwrap();
    let admin_id =
        listed.as_array().unwrap().iter().find(|t| t["name"] == "admin").unwrap()["id"].as_str().unwrap().to_owned();
    let foreign = api(reqwest::Method::DELETE, &format!("/api/v1/tokens/{admin_id}"), &eve_token, None).await.unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(api(reqwest::Method::GET, "/api/v1/me", &admin_token, None).await.unwrap().status(), StatusCode::OK);
}

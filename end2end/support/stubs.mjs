// Stand-ins for the outside services the browser tests need, on one
// loopback port: an OpenAI-compatible chat-completions API ("the LLM"), a
// small weather API ("the upstream") and an OAuth MCP client with a web
// callback ("the assistant"). Prints {"port": N} once listening.
import crypto from "node:crypto";
import http from "node:http";

const failedOnce = new Set();
let port = 0;

function send(res, status, body, type = "application/json") {
  res.writeHead(status, { "content-type": type });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

function proposal() {
  const base = `http://127.0.0.1:${port}`;
  const tool = (name, description, method, path, props, required = []) => ({
    name,
    description,
    input_schema: { type: "object", properties: props, required },
    action: { method, url: `${base}${path}` },
  });
  return {
    name: "Weather Desk",
    description: "Weather forecasts and alerts",
    tools: [
      tool("get_weather", "Current weather for a city", "GET", "/weather/{city}", { city: { type: "string" } }, ["city"]),
      tool("get_forecast", "Five-day forecast for a city", "GET", "/forecast/{city}", { city: { type: "string" } }, ["city"]),
      tool("list_alerts", "Active severe weather alerts", "GET", "/alerts", {}),
      tool("report_issue", "Report a wrong forecast", "POST", "/reports", { text: { type: "string" } }, ["text"]),
    ],
  };
}

// The assistant's sign-ins in progress (by state) and its last token.
const signIns = new Map();
let lastConnection = null;

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

async function postMcp(endpoint, token, method = "tools/list") {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(endpoint, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: {} }) });
}

// Like a remote MCP client: given only the server's URL, discover where to
// sign in (401 -> resource metadata -> authorization server), register,
// and send the browser there with PKCE.
async function startSignIn(mcp, res) {
  const challenge = (await postMcp(mcp)).headers.get("www-authenticate") ?? "";
  const metadataUrl = challenge.match(/resource_metadata="([^"]+)"/)?.[1];
  if (!metadataUrl) return send(res, 502, `no resource_metadata in the 401: ${challenge}`, "text/plain");
  const resource = await (await fetch(metadataUrl)).json();
  const issuer = resource.authorization_servers[0];
  const server = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
  const redirect = `http://127.0.0.1:${port}/oauth-client/callback`;
  const registered = await (
    await fetch(server.registration_endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_name: "Loopback test client", redirect_uris: [redirect] }),
    })
  ).json();
  const verifier = b64url(crypto.randomBytes(32));
  const state = b64url(crypto.randomBytes(16));
  signIns.set(state, { verifier, mcp, issuer, server, redirect, clientId: registered.client_id, resource: resource.resource });
  const target = new URL(server.authorization_endpoint);
  for (const [name, value] of Object.entries({
    response_type: "code",
    client_id: registered.client_id,
    redirect_uri: redirect,
    state,
    code_challenge: b64url(crypto.createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
    resource: resource.resource,
    scope: "mcp",
  })) target.searchParams.set(name, value);
  res.writeHead(302, { location: target.href });
  res.end();
}

async function finishSignIn(url, res) {
  const page = (text) => send(res, 200, `<!doctype html><title>assistant</title><h1 id="client-result">${text}</h1>`, "text/html");
  const signIn = signIns.get(url.searchParams.get("state"));
  if (!signIn) return page("unknown state");
  if (url.searchParams.get("error")) return page(`refused: ${url.searchParams.get("error")}`);
  if (url.searchParams.get("iss") !== signIn.issuer) return page(`wrong issuer: ${url.searchParams.get("iss")}`);
  const tokens = await (
    await fetch(signIn.server.token_endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: url.searchParams.get("code"),
        client_id: signIn.clientId,
        redirect_uri: signIn.redirect,
        code_verifier: signIn.verifier,
        resource: signIn.resource,
      }),
    })
  ).json();
  if (!tokens.access_token) return page(`no token: ${JSON.stringify(tokens)}`);
  lastConnection = { mcp: signIn.mcp, token: tokens.access_token };
  const listed = await (await postMcp(signIn.mcp, tokens.access_token)).json();
  page(`Connected: ${listed.result.tools.map((t) => t.name).join(", ")}`);
}

async function oauthClient(url, res) {
  try {
    if (url.pathname === "/oauth-client/start") return await startSignIn(url.searchParams.get("mcp"), res);
    if (url.pathname === "/oauth-client/callback") return await finishSignIn(url, res);
    if (url.pathname === "/oauth-client/again" && lastConnection) {
      const response = await postMcp(lastConnection.mcp, lastConnection.token);
      return send(res, 200, `<!doctype html><h1 id="client-result">HTTP ${response.status}</h1>`, "text/html");
    }
    send(res, 404, "no such page", "text/plain");
  } catch (error) {
    send(res, 500, `the test client failed: ${error.stack}`, "text/plain");
  }
}

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const url = new URL(req.url, "http://localhost");
    if (url.pathname.startsWith("/oauth-client/")) return oauthClient(url, res);
    if (req.method === "POST" && url.pathname === "/v1/chat/completions") {
      const request = JSON.parse(body || "{}");
      const prompt = (request.messages || []).map((m) => m.content).join("\n");
      // Each distinct prompt fails once (the whole prompt: the system prompt
      // alone is the same for every wizard).
      const key = prompt;
      if (prompt.includes("fail-first") && !failedOnce.has(key)) {
        failedOnce.add(key);
        return send(res, 500, "the model is overloaded (test stand-in)", "text/plain");
      }
      // Given a document's operations to choose from (listed in the user's
      // message), it chooses the first.
      const asked = (request.messages || []).filter((m) => m.role === "user").map((m) => m.content).join("\n");
      const listed = prompt.includes("You choose tools for an MCP server") && asked.match(/"operation": "([^"]+)"/);
      const answer = listed
        ? { name: "Inventory", description: "Items in stock", tools: [{ operation: listed[1] }] }
        : proposal();
      // A short pause, so the "processing" banner is visible.
      return setTimeout(() => {
        send(res, 200, {
          id: "chatcmpl-e2e",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify(answer) }, finish_reason: "stop" }],
        });
      }, 1200);
    }
    const weather = url.pathname.match(/^\/(weather|forecast)\/(.+)$/);
    if (weather) {
      const city = decodeURIComponent(weather[2]);
      return send(res, 200, { city, forecast: "sunny", temperature_c: 21, source: "stub-weather" });
    }
    if (url.pathname === "/alerts") return send(res, 200, { alerts: [] });
    // A page on another origin than AutoMCP's, for the browser-client test.
    if (url.pathname === "/page") return send(res, 200, "<!doctype html><title>another site</title><p>another site</p>", "text/html");
    send(res, 200, { method: req.method, path: url.pathname, body });
  });
});

server.listen(0, "127.0.0.1", () => {
  port = server.address().port;
  console.log(JSON.stringify({ port }));
});

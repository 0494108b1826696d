// The official TypeScript SDK's client with its OAuth provider, headless:
// connects to URL knowing nothing else, follows the SDK through discovery,
// registration and PKCE, and plays the user by following the authorization
// URL with COOKIE (a signed-in AutoMCP session) and allowing the client on
// the consent form. Then it lists the tools, calls TOOL, and prints one JSON
// line: {tools, result, registered, iss} or {error}.
//   node ts_oauth_client.mjs URL COOKIE TOOL
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const [url, cookie, tool] = process.argv.slice(2);
const redirectUrl = "http://127.0.0.1:7777/ts-callback";
let callback = null;

// The SDK's OAuthClientProvider, kept in memory.
const provider = {
  saved: {},
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return {
      client_name: "TypeScript SDK test client",
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  },
  clientInformation() { return this.saved.client; },
  saveClientInformation(client) { this.saved.client = client; },
  tokens() { return this.saved.tokens; },
  saveTokens(tokens) { this.saved.tokens = tokens; },
  saveCodeVerifier(verifier) { this.saved.verifier = verifier; },
  codeVerifier() { return this.saved.verifier; },
  // The user's part: the consent page (signed in), then Allow.
  async redirectToAuthorization(authorizationUrl) {
    const first = await fetch(authorizationUrl, { redirect: "manual", headers: { cookie } });
    const consent = first.headers.get("location");
    if (first.status !== 303 || !consent?.startsWith("/oauth/consent?")) {
      throw new Error(`authorization answered ${first.status} ${consent ?? (await first.text())}`);
    }
    const origin = new URL(authorizationUrl).origin;
    const query = consent.slice("/oauth/consent?".length);
    const decided = await fetch(`${origin}/oauth/authorize?${query}`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin, "content-type": "application/x-www-form-urlencoded" },
      body: "decision=allow",
    });
    callback = new URL(decided.headers.get("location") ?? "about:blank");
    if (!callback.href.startsWith(redirectUrl)) throw new Error(`consent answered ${decided.status} ${callback}`);
  },
};

try {
  const client = new Client({ name: "interop-ts-oauth", version: "1.0.0" });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
    throw new Error("connected without signing in");
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !callback) throw error;
  }
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await transport.finishAuth(callback.searchParams.get("code"));
  await client.connect(transport);
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: tool, arguments: {} });
  console.log(JSON.stringify({
    tools: tools.map((t) => t.name),
    result,
    registered: provider.saved.client?.client_id ?? null,
    iss: callback.searchParams.get("iss"),
  }));
  await client.close();
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.stack ?? error?.message ?? error) }));
  process.exitCode = 1;
}

import { expect, test } from "@playwright/test";
import { apiToken, deployServer, open, rpc, shot, signUp, watchForErrors } from "./helpers";

const STUB = process.env.STUB_URL!;

function decode(href: string, prefix: string) {
  return JSON.parse(decodeURIComponent(href.slice(prefix.length)));
}

test("the Connect panel survives a reload, makes a new token and offers install links", async ({ page, baseURL }, info) => {
  const errors = watchForErrors(page);
  await signUp(page, "connect");
  const api = await apiToken(page);
  const slug = `desk-${Date.now()}`;
  const server = await deployServer(baseURL!, api, slug);

  await open(page, `/servers/${server.id}`);
  await page.reload();
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();
  const panel = page.locator("#connect");
  await expect(panel.locator("#endpoint")).toHaveText(server.endpoint);
  await expect(panel.locator("#token-hidden")).toBeVisible();
  await expect(panel.locator("#config-cursor")).toContainText("<your token>");
  await expect(panel.locator("#config-windsurf")).toContainText('"serverUrl"');
  await expect(panel.locator("#hosted-assistants")).toContainText("claude.ai");

  const vscode = decode((await panel.locator("#install-vscode").getAttribute("href"))!, "vscode:mcp/install?");
  expect(vscode).toMatchObject({ name: slug, type: "http", url: server.endpoint });
  expect(vscode.headers.Authorization).toBe(`Bearer \${input:${slug}-token}`);
  expect(vscode.inputs[0].password).toBe(true);
  const cursorHref = (await panel.locator("#install-cursor").getAttribute("href"))!;
  expect(cursorHref).toContain(`name=${encodeURIComponent(slug).replace(/-/g, "%2D")}`);
  const cursor = JSON.parse(Buffer.from(decodeURIComponent(cursorHref.split("config=")[1]), "base64").toString());
  expect(cursor.url).toBe(server.endpoint);
  expect(cursor.headers.Authorization).toBe(`Bearer \${env:${(await page.locator("#token-env").textContent())!.trim()}}`);
  expect(cursorHref).not.toContain(server.token);
  await shot(page, info, "01-panel");

  // New token: asked first; the old token stops working at once.
  await page.click("#new-token");
  await expect(page.locator("#connect")).toContainText("Clients using the current token will stop working");
  await page.click("#new-token-confirm");
  const fresh = (await panel.locator("#token").textContent())!.trim();
  expect(fresh).toMatch(/^amcp_srv_/);
  expect(fresh).not.toBe(server.token);
  await expect(panel.locator("#config-claude-code")).toContainText(`Bearer ${fresh}`);
  const old = await fetch(server.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${server.token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  expect(old.status).toBe(401);
  const tools = await rpc(server.endpoint, fresh, "tools/list");
  expect(tools.tools.map((t: { name: string }) => t.name)).toEqual(["get_weather"]);
  await page.click("#test-connection");
  await expect(panel.locator("#test-result")).toContainText("1 tool(s): get_weather");
  await shot(page, info, "02-new-token");
  expect(errors).toEqual([]);
});

test("a page on another origin calls endpoints with fetch: token servers at once, public ones once allowed", async ({ page, baseURL }, info) => {
  const errors = watchForErrors(page);
  await signUp(page, "browser");
  const api = await apiToken(page);
  const guarded = await deployServer(baseURL!, api, `guarded-${Date.now()}`);
  const open_ = await deployServer(baseURL!, api, `open-${Date.now()}`, { client_auth: "public" });

  const call = (endpoint: string, token?: string) =>
    page.evaluate(
      async ({ endpoint, token }) => {
        const headers: Record<string, string> = {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2025-11-25",
        };
        if (token) headers.authorization = `Bearer ${token}`;
        try {
          const response = await fetch(endpoint, {
            method: "POST",
            headers,
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
          });
          return {
            status: response.status,
            challenge: response.headers.get("www-authenticate"),
            body: await response.json(),
          };
        } catch (error) {
          return { failed: String(error) };
        }
      },
      { endpoint, token },
    );

  await page.goto(`${STUB}/page`);
  await expect(page.locator("p")).toHaveText("another site");
  const refused = await call(guarded.endpoint);
  expect(refused.status).toBe(401);
  expect(refused.challenge).toMatch(/^Bearer/);
  const listed = await call(guarded.endpoint, guarded.token);
  expect(listed.status).toBe(200);
  expect(listed.body.result.tools[0].name).toBe("get_weather");
  expect((await call(open_.endpoint)).failed).toContain("Failed to fetch");

  // The owner allows this page's origin for the public server.
  await open(page, `/servers/${open_.id}`);
  await page.fill("#allowed-origins", new URL(STUB).origin);
  await page.click("#save-connection");
  await expect(page.locator("#connection-saved")).toBeVisible();
  await shot(page, info, "01-allowed");
  await page.goto(`${STUB}/page`);
  const allowed = await call(open_.endpoint);
  expect(allowed.status).toBe(200);
  expect(allowed.body.result.tools[0].name).toBe("get_weather");
  expect(errors.filter((e) => !e.includes("CORS") && !e.includes("Failed to load resource"))).toEqual([]);
});

import { expect, type Page, type TestInfo } from "@playwright/test";

const STUB = process.env.STUB_URL!;

/** Opens a page and waits until the wasm bundle has hydrated it. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();
}

/** A fresh address per run, so tests never collide with earlier data. */
export function uniqueEmail(label: string) {
  return `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Fails the test on any page error or console error. */
export function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // A form answered 4xx (e.g. a wrong password) is logged by the browser
    // as a failed resource; that is the behaviour under test, not a fault.
    if (m.type() === "error" && !m.text().includes("status of 4")) errors.push(`console: ${m.text()}`);
    // An island rendered on a page whose wasm bundle lacks it (app/src/bundles.rs).
    if (m.text().includes("Could not find WASM function")) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** A JSON-RPC request to an MCP endpoint, as an MCP client sends it. */
export async function rpc(endpoint: string, token: string, method: string, params: object = {}) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  expect(response.status).toBe(200);
  return (await response.json()).result;
}

export const PASSWORD = "correct horse battery staple";

export async function signUp(page: Page, label: string) {
  const email = uniqueEmail(label);
  await open(page, "/signup");
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.click("#submit");
  await expect(page).toHaveURL(/\/dashboard$/);
  return email;
}

export async function shot(page: Page, info: TestInfo, name: string) {
  await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
}

/** A personal API token, made on the tokens page. */
export async function apiToken(page: Page) {
  await open(page, "/tokens");
  await page.fill("#token-name", "e2e");
  await page.click("#token-create");
  return (await page.locator("#token-value").textContent())!.trim();
}

/** Creates and deploys a one-tool server through the API. */
export async function deployServer(baseURL: string, api: string, slug: string, extra: object = {}, name = "Connect desk") {
  const spec = {
    name,
    slug,
    tools: [
      {
        name: "get_weather",
        description: "Current weather for a city",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        action: { method: "GET", url: `${STUB}/weather/{city}` },
      },
    ],
  };
  const response = await fetch(`${baseURL}/api/v1/servers`, {
    method: "POST",
    headers: { authorization: `Bearer ${api}`, "content-type": "application/json" },
    body: JSON.stringify({ spec, deploy: true, ...extra }),
  });
  expect(response.status).toBe(201);
  const created = await response.json();
  return { id: created.server.id as string, endpoint: created.server.endpoint as string, token: created.token as string };
}

import { expect, test, type Page } from "@playwright/test";
import { open, rpc, shot, signUp, watchForErrors } from "./helpers";

// Real MCP servers started by .ci/e2e (`automcp run-spec` over the stub
// weather API): v1 offers get_weather, get_forecast, list_alerts, get_radar;
// v2 offers get_weather, get_forecast, get_uv_index.
const SOURCE_V1 = process.env.MCP_SOURCE_URL!;
const SOURCE_V2 = process.env.MCP_SOURCE_V2_URL!;

/** Registers a private MCP source on the sources page. */
async function registerSource(page: Page, name: string, url: string) {
  await open(page, "/sources");
  await page.fill("#source-name", name);
  await page.fill("#source-url", url);
  await page.click("#add-source");
  await expect(page.locator(`#sources [data-source="${name}"]`)).toBeVisible();
}

/** Opens the create form from the dashboard. */
async function openCreateForm(page: Page) {
  await open(page, "/dashboard");
  await page.click("#create-from-mcp");
  await expect(page).toHaveURL(/\/mcps\/new$/);
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();
}

async function expectCreateDisabled(page: Page) {
  const create = page.locator("#submit-mcp");
  await expect(create).toHaveText("Create MCP");
  await expect(create).toBeDisabled();
  await expect(create).toHaveAttribute("title", "Fetch tools from server first");
}

test("the full journey: select a source, fetch, tick, create, see it listed, call a tool", async ({ page }, info) => {
  const errors = watchForErrors(page);
  await signUp(page, "mcps");
  await registerSource(page, "Weather MCP", SOURCE_V1);
  await openCreateForm(page);

  await expect(page.locator("#tools-placeholder")).toHaveText("Select a server and fetch tools to see available tools");
  await expectCreateDisabled(page);
  await page.selectOption("#source", { label: "Weather MCP" });
  await page.fill("#mcp-name", "Weather picks");
  await expect(page.locator("#mcp-slug")).toHaveValue("weather-picks");
  await shot(page, info, "01-form");

  await page.click("#fetch-tools");
  const rows = page.locator("#tools-list li");
  await expect(rows).toHaveCount(4);
  await expect(page.locator("#submit-mcp")).toBeEnabled();
  await expect(page.locator("#selection-count")).toHaveText("0 of 3");
  const box = (tool: string) => page.locator(`#tools-list li[data-tool="${tool}"] input[type=checkbox]`);
  await box("get_weather").check();
  await box("get_forecast").check();
  await box("list_alerts").check();
  await expect(page.locator("#selection-count")).toHaveText("3 of 3");
  await expect(box("get_radar")).toBeDisabled();
  await expect(page.locator("#tier-hint")).toContainText("paid tier");
  await box("list_alerts").uncheck();
  await expect(box("get_radar")).toBeEnabled();
  await shot(page, info, "02-ticked");

  await page.click("#submit-mcp");
  // Shown once, in place of the form: the token is stored nowhere we could show it from again.
  const created = page.locator("#just-created");
  await expect(created).toContainText("Weather picks is created.");
  const endpoint = (await created.locator("#endpoint").textContent())!.trim();
  const token = (await created.locator("#token").textContent())!.trim();
  expect(endpoint).toMatch(/\/mcp\/weather-picks$/);
  expect(token).toMatch(/^amcp_srv_/);
  // The single-step create shows the client configurations, with the token.
  for (const id of ["claude-code", "cursor", "vscode", "windsurf", "gemini", "claude-desktop", "generic"]) {
    await expect(created.locator(`#config-${id}`)).toContainText(endpoint);
    await expect(created.locator(`#config-${id}`)).toContainText(token);
  }
  await expect(created.locator("#install-vscode")).toHaveAttribute("href", /^vscode:mcp\/install\?/);
  await shot(page, info, "03-created");
  await created.locator("#to-dashboard").click();
  await expect(page).toHaveURL(/\/dashboard$/);
  const listed = page.locator('#servers li[data-slug="weather-picks"]');
  await expect(listed).toContainText("2 tool(s)");
  await expect(listed).toContainText("from an MCP server");
  await expect(listed.locator("[data-status=active]")).toBeVisible();
  await shot(page, info, "04-listed");

  const tools = await rpc(endpoint, token, "tools/list");
  expect(tools.tools.map((t: { name: string }) => t.name)).toEqual(["get_weather", "get_forecast"]);
  const called = await rpc(endpoint, token, "tools/call", { name: "get_weather", arguments: { city: "Oslo" } });
  expect(called.isError).toBe(false);
  expect(JSON.stringify(called.content)).toContain("stub-weather");
  expect(errors).toEqual([]);
});

test("Create stays disabled until a fetch succeeds; a failed fetch shows a toast", async ({ page }, info) => {
  await signUp(page, "mcps-fail");
  // The stub API answers JSON, but it is not an MCP server.
  await registerSource(page, "Not MCP", `${process.env.STUB_URL}/not-mcp`);
  await openCreateForm(page);
  await expectCreateDisabled(page);

  await page.click("#fetch-tools");
  await expect(page.locator("#toast")).toBeVisible();
  await expect(page.locator("#toast-message")).toContainText("Could not fetch tools");
  await expect(page.locator("#toast-message")).toContainText("not an MCP endpoint");
  await expectCreateDisabled(page);
  await expect(page.locator("#tools-placeholder")).toBeVisible();
  await shot(page, info, "01-toast");
  await page.click("#toast [aria-label=Dismiss]");
  await expect(page.locator("#toast")).toHaveCount(0);
});

test("edit: Refresh Tools shows what changed at the source, and Save keeps the new list", async ({ page }, info) => {
  await signUp(page, "mcps-edit");
  await registerSource(page, "Weather MCP", SOURCE_V1);
  await openCreateForm(page);
  await page.fill("#mcp-name", "Changing weather");
  await page.click("#fetch-tools");
  await expect(page.locator("#tools-list li")).toHaveCount(4);
  await page.locator('#tools-list li[data-tool="list_alerts"] input').check();
  await page.click("#submit-mcp");
  await expect(page.locator("#just-created")).toBeVisible();
  await open(page, "/dashboard");

  // The source moves to a new version with another tool set.
  const status = await page.evaluate(async (url) => {
    const sources = await (await fetch("/api/v1/mcp-servers")).json();
    const response = await fetch(`/api/v1/mcp-servers/${sources[0].id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url }),
    });
    return response.status;
  }, SOURCE_V2);
  expect(status).toBe(200);

  await page.locator('#servers li[data-slug="changing-weather"] a', { hasText: "Edit" }).click();
  await expect(page).toHaveURL(/\/mcps\/[0-9a-f-]+\/edit$/);
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();
  await expect(page.locator("#fetch-tools")).toHaveText("Refresh Tools");
  await expect(page.locator("#tools-list li")).toHaveCount(4);
  await expect(page.locator('#tools-list li[data-tool="list_alerts"] input')).toBeChecked();
  await expect(page.locator("#submit-mcp")).toBeEnabled();

  await page.click("#fetch-tools");
  await expect(page.locator("#tools-diff")).toBeVisible();
  await expect(page.locator("#diff-added")).toContainText("get_uv_index");
  await expect(page.locator("#diff-removed")).toContainText("get_radar, list_alerts");
  await expect(page.locator("#tools-list li")).toHaveCount(3);
  await expect(page.locator('#tools-list li[data-tool="get_uv_index"] [data-badge=new]')).toBeVisible();
  await expect(page.locator("#selection-count")).toHaveText("0 of 3");
  await shot(page, info, "01-diff");

  await page.locator('#tools-list li[data-tool="get_uv_index"] input').check();
  await page.click("#submit-mcp");
  await expect(page).toHaveURL(/\/dashboard$/);
  const saved = await page.evaluate(async () => {
    const list = await (await fetch("/api/v1/mcps")).json();
    return { filter: list[0].tools_filter, cached: list[0].tools_cache.map((t: { name: string }) => t.name) };
  });
  expect(saved).toEqual({ filter: ["get_uv_index"], cached: ["get_weather", "get_forecast", "get_uv_index"] });
});

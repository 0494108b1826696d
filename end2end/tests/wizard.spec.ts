import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { open, rpc, shot, signUp, watchForErrors } from "./helpers";

/** Describe and start; returns once the wizard page is shown. */
async function describe(page: Page, text: string) {
  await open(page, "/wizard/new");
  await expect(page.locator("#start")).toBeDisabled();
  await page.fill("#description", text);
  await expect(page.locator("#start")).toBeEnabled();
  await page.click("#start");
  await expect(page).toHaveURL(/\/wizard\/[0-9a-f-]+$/);
}

/** From the proposed tools to a live server; returns endpoint and token. */
async function finish(page: Page, info: TestInfo) {
  await expect(page.locator("#candidates li")).toHaveCount(4);
  await shot(page, info, "03-actions");
  const boxes = page.locator("#candidates input[type=checkbox]");
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await expect(page.locator("#selection-count")).toHaveText("2 of 3");
  await boxes.nth(2).check();
  await expect(page.locator("#selection-count")).toHaveText("3 of 3");
  await expect(boxes.nth(3)).toBeDisabled();
  await expect(page.locator("#tier-hint")).toContainText("paid tier");
  await page.click("#continue-actions");

  await expect(page.locator("#auth-bearer")).toBeVisible();
  await shot(page, info, "04-auth");
  await page.check("#auth-bearer");
  await page.click("#continue-auth");

  await expect(page.locator("#activate")).toBeVisible();
  await expect(page.locator("#deploy-vps")).toContainText("Paid tier");
  await shot(page, info, "05-deploy");
  await page.click("#activate");

  await expect(page.locator("#endpoint")).toBeVisible();
  const endpoint = (await page.locator("#endpoint").textContent())!.trim();
  const token = (await page.locator("#token").textContent())!.trim();
  expect(endpoint).toMatch(/\/mcp\/weather-desk/);
  expect(token).toMatch(/^amcp_srv_/);
  await expect(page.locator("#client-configs")).toContainText("Claude Desktop");
  await expect(page.locator("#client-configs")).toContainText("VS Code");
  await expect(page.locator("#client-configs pre").first()).toContainText(token);
  await page.click("#test-connection");
  await expect(page.locator("#test-result")).toContainText("3 tool(s): get_weather, get_forecast, list_alerts");
  await shot(page, info, "06-complete");
  return { endpoint, token };
}

test("happy path: describe, pick three actions, deploy, and call a tool", async ({ page }, info) => {
  const errors = watchForErrors(page);
  await signUp(page, "wizard");
  await describe(page, "Tell me the weather for a city");
  await expect(page.locator("#processing-banner")).toBeVisible();
  await shot(page, info, "02-processing");
  await expect(page.locator("#processing-banner")).toHaveCount(0);
  const { endpoint, token } = await finish(page, info);

  const listed = await rpc(endpoint, token, "tools/list");
  expect(listed.tools.map((t: { name: string }) => t.name)).toEqual(["get_weather", "get_forecast", "list_alerts"]);
  const called = await rpc(endpoint, token, "tools/call", { name: "get_weather", arguments: { city: "Oslo" } });
  expect(called.isError).toBe(false);
  expect(called.structuredContent).toMatchObject({ city: "Oslo", source: "stub-weather" });
  expect(errors).toEqual([]);
});

test("error recovery: the failure banner shows the error and Retry recovers", async ({ page }, info) => {
  await signUp(page, "retry");
  await describe(page, "fail-first: weather for a city");
  await expect(page.locator("#failure-banner")).toBeVisible();
  await expect(page.locator("#failure-message")).toContainText("the LLM API answered 500");
  await expect(page.locator("#processing-banner")).toHaveCount(0);
  await shot(page, info, "02-failed");
  await page.click("#retry");
  await expect(page.locator("#failure-banner")).toHaveCount(0);
  await expect(page.locator("#candidates li")).toHaveCount(4);
  await shot(page, info, "03-recovered");
});

test("resume: an unfinished wizard continues from the same step", async ({ page, context }, info) => {
  await signUp(page, "resume");
  await describe(page, "Weather alerts for my trips");
  await expect(page.locator("#candidates li")).toHaveCount(4);
  const wizardUrl = page.url();
  await page.close();

  const again = await context.newPage();
  await open(again, "/dashboard");
  await expect(again.locator("#unfinished")).toContainText("Weather alerts for my trips");
  await expect(again.locator("#unfinished [data-step=actions]")).toBeVisible();
  await shot(again, info, "01-dashboard");
  await again.locator("#unfinished a", { hasText: "Continue" }).first().click();
  await expect(again).toHaveURL(wizardUrl);
  await expect(again.locator("#candidates li")).toHaveCount(4);
  await expect(again.locator("[aria-current=step]")).toHaveText("Actions");
  await shot(again, info, "02-resumed");
});

test("playground: call a tool from the server page and see the upstream's answer", async ({ page }, info) => {
  await signUp(page, "playground");
  await describe(page, "weather");
  await finish(page, info);
  await open(page, "/dashboard");
  await expect(page.locator("#servers li")).toHaveCount(1);
  await expect(page.locator("#servers [data-status=active]")).toBeVisible();
  await page.locator("#servers a", { hasText: "Open" }).click();
  await expect(page.locator("#server-name")).toHaveText("Weather Desk");
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();
  await page.selectOption("#playground-tool", { label: "get_weather" });
  await page.fill("#arg-city", "Bergen");
  await page.click("#playground-call");
  await expect(page.locator("#playground-result")).toContainText('"city":"Bergen"');
  await expect(page.locator("#playground-result")).toContainText("stub-weather");
  await expect(page.locator("#calls")).toContainText("get_weather");
  await shot(page, info, "07-playground");
});

test("discarding: a failed wizard from its page, another from the dashboard after a Cancel", async ({ page }, info) => {
  const errors = watchForErrors(page);
  await signUp(page, "discard");
  await describe(page, "fail-first: forecasts to discard");
  await expect(page.locator("#failure-banner")).toBeVisible();
  await page.locator("button", { hasText: "Discard" }).click();
  await expect(page.locator("body")).toContainText("Discard this wizard?");
  await shot(page, info, "01-confirm");
  await page.locator("button", { hasText: "Yes, discard" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.locator("#unfinished")).toHaveCount(0);

  await describe(page, "Tell me the weather for a city");
  await expect(page.locator("#candidates li")).toHaveCount(4);
  await open(page, "/dashboard");
  const item = page.locator("#unfinished li");
  await expect(item).toHaveCount(1);
  await item.locator("button", { hasText: "Discard" }).click();
  await item.locator("button", { hasText: "Cancel" }).click();
  await expect(item).toHaveCount(1);
  await item.locator("button", { hasText: "Discard" }).click();
  await item.locator("button", { hasText: "Yes, discard" }).click();
  await expect(page.locator("#unfinished")).toHaveCount(0);
  await shot(page, info, "02-gone");
  expect(errors).toEqual([]);
});

test("any operation of a large document can be found and added, with method and write marks", async ({ page }, info) => {
  const errors = watchForErrors(page);
  await signUp(page, "operations");
  const paths: Record<string, object> = {};
  for (let i = 0; i < 40; i++) {
    paths[`/items/${i}`] = { get: { operationId: `getItem${i}`, summary: `Get item ${i}`, responses: { "200": { description: "OK" } } } };
  }
  paths["/items/37"] = { ...paths["/items/37"], delete: { operationId: "deleteItem37", summary: "Delete item 37", responses: { "200": { description: "OK" } } } };
  const document = JSON.stringify({ openapi: "3.0.0", info: { title: "Inventory", version: "1" }, servers: [{ url: "http://127.0.0.1:9" }], paths });
  await open(page, "/wizard/new");
  await page.fill("#description", "get items");
  await page.locator("details:has(#openapi-document) > summary").click();
  await page.fill("#openapi-document", document);
  await page.click("#start");
  await expect(page.locator("#candidates li")).toHaveCount(20);
  await expect(page.locator("#candidates [data-method=GET]").first()).toBeVisible();
  await page.locator("#candidates input[type=checkbox]").first().check();
  await expect(page.locator("#selection-count")).toHaveText("1 of 3");

  await page.fill("#operation-query", "delete item");
  await page.click("#operation-search button[type=submit]");
  await expect(page.locator("#operation-count")).toHaveText("1 operation matches.");
  const found = page.locator("#operations li[data-operation=deleteItem37]");
  await expect(found.locator("[data-method=DELETE]")).toBeVisible();
  await expect(found.locator("[data-destructive]")).toHaveText("Changes or deletes data");
  await shot(page, info, "operation-search");
  await found.getByRole("button", { name: "Add deleteItem37" }).click();
  await expect(page.locator("#candidates li")).toHaveCount(21);
  const added = page.locator("#candidates li[data-candidate=deleteItem37]");
  await expect(added.locator("[data-destructive]")).toBeVisible();
  await expect(page.locator("#selection-count")).toHaveText("2 of 3");
  await expect(added.locator("input[type=checkbox]")).toBeChecked();
  expect(errors).toEqual([]);
});

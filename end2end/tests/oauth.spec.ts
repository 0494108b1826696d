import { expect, test } from "@playwright/test";
import { apiToken, deployServer, open, PASSWORD, shot, signUp, watchForErrors } from "./helpers";

const STUB = process.env.STUB_URL!;

test("an assistant connects through the real sign-in redirects, is listed, and is revoked", async ({ page, browser, baseURL }, info) => {
  const errors = watchForErrors(page);
  const email = await signUp(page, "oauth");
  const api = await apiToken(page);

  // A server whose clients sign in with OAuth, chosen on its page.
  const server = await deployServer(baseURL!, api, `signin-${Date.now()}`, {}, "Sign-in desk");
  await open(page, `/servers/${server.id}`);
  await page.check("#auth-oauth");
  await page.click("#change-auth");
  await page.click("#change-auth-confirm");
  await expect(page.locator("#oauth-connect-note")).toBeVisible();
  await expect(page.locator("#no-connected-clients")).toBeVisible();
  await expect(page.locator("#hosted-assistants")).toContainText("Add custom connector");

  // The assistant, in a browser that is not signed in, starts from the URL alone.
  const assistant = await browser.newContext();
  const tab = await assistant.newPage();
  const tabErrors = watchForErrors(tab);
  await tab.goto(`${STUB}/oauth-client/start?mcp=${encodeURIComponent(server.endpoint)}`);
  await expect(tab).toHaveURL(/\/oauth\/consent\?/);
  await expect(tab.locator('[data-hydrated="true"]')).toBeVisible();
  await expect(tab.locator("#consent-title")).toHaveText("Connect Loopback test client to Sign-in desk?");
  await expect(tab.locator("#consent-redirect")).toHaveText("127.0.0.1");
  await tab.fill("#email", email);
  await tab.fill("#password", PASSWORD);
  await tab.click("#submit");
  await expect(tab.locator("#consent-user")).toContainText(email);
  await shot(tab, info, "consent");
  await tab.click("#consent-allow");
  await expect(tab).toHaveURL(new RegExp(`^${STUB}/oauth-client/callback`));
  await expect(tab.locator("#client-result")).toHaveText("Connected: get_weather");

  // The owner sees it on the server page and revokes it.
  await page.reload();
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();
  const row = page.locator("#connected-clients li").filter({ hasText: "Loopback test client" });
  await expect(row).toContainText(email);
  await shot(page, info, "connected-clients");
  await row.locator("button", { hasText: "Revoke" }).click();
  await row.locator("button", { hasText: "Yes, revoke" }).click();
  await expect(page.locator("#no-connected-clients")).toBeVisible();
  await tab.goto(`${STUB}/oauth-client/again`);
  await expect(tab.locator("#client-result")).toHaveText("HTTP 401");

  expect(errors).toEqual([]);
  expect(tabErrors).toEqual([]);
  await assistant.close();
});

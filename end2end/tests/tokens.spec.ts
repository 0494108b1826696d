import { expect, test } from "@playwright/test";
import { open, shot, signUp, watchForErrors } from "./helpers";

test("API tokens: create one with an expiry, use it, see it listed, revoke it", async ({ page, baseURL }, info) => {
  const errors = watchForErrors(page);
  await signUp(page, "tokens");
  await page.click("#nav-tokens");
  await expect(page).toHaveURL(/\/tokens$/);
  await expect(page.locator("#tokens-empty")).toBeVisible();

  await expect(page.locator("#token-create")).toBeDisabled();
  await page.fill("#token-name", "laptop");
  await page.selectOption("#token-expiry", { label: "30 days" });
  await page.click("#token-create");
  await expect(page.locator("#token-created")).toContainText("it is not shown again");
  const token = (await page.locator("#token-value").textContent())!.trim();
  expect(token).toMatch(/^amcp_pat_/);
  const row = page.locator('li[data-token="laptop"]');
  await expect(row).toContainText("never used");
  await expect(row).toContainText("expires");
  await shot(page, info, "01-created");

  const me = await fetch(`${baseURL}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(me.status).toBe(200);
  await open(page, "/tokens");
  await expect(page.locator('li[data-token="laptop"]')).toContainText("last used");
  await expect(page.locator("#token-value")).toHaveCount(0);

  // Revoking asks first; Cancel keeps the token.
  await page.locator('li[data-token="laptop"] button', { hasText: "Revoke" }).click();
  await expect(page.locator('li[data-token="laptop"]')).toContainText("Programs using it stop working at once");
  await shot(page, info, "02-confirm");
  await page.locator('li[data-token="laptop"] button', { hasText: "Cancel" }).click();
  await page.locator('li[data-token="laptop"] button', { hasText: "Revoke" }).click();
  await page.locator('li[data-token="laptop"] button', { hasText: "Yes, revoke" }).click();
  await expect(page.locator('li[data-token="laptop"]')).toHaveCount(0);
  await expect(page.locator("#tokens-empty")).toBeVisible();

  const refused = await fetch(`${baseURL}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(refused.status).toBe(401);
  expect(errors).toEqual([]);
});

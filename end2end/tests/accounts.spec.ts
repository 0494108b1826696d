import { expect, test } from "@playwright/test";
import { open, uniqueEmail, watchForErrors } from "./helpers";

const PASSWORD = "correct horse battery staple";

test("sign up, see the dashboard, log out, log in again", async ({ page }) => {
  const errors = watchForErrors(page);
  const email = uniqueEmail("journey");

  await open(page, "/signup");
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.click("#submit");

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.locator("#dashboard-title")).toHaveText("Your MCP servers");
  await expect(page.locator("#dashboard-email")).toHaveText(email);
  await expect(page.locator("#servers-empty")).toBeVisible();
  await expect(page.locator("#create-wizard")).toBeVisible();

  // The session cookie is not readable by scripts.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "automcp_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");

  await page.click("#logout");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator("a[href='/signup']").first()).toBeVisible();

  // Signed out: the dashboard sends us to the log-in page.
  await open(page, "/dashboard");
  await expect(page).toHaveURL(/\/login$/);

  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.click("#submit");
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.locator("#dashboard-email")).toHaveText(email);

  expect(errors).toEqual([]);
});

test("a wrong password shows an error and keeps you on the log-in page", async ({ page }) => {
  const errors = watchForErrors(page);
  const email = uniqueEmail("wrongpw");

  await open(page, "/signup");
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.click("#submit");
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.click("#logout");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();

  await page.fill("#email", email);
  await page.fill("#password", "not the right password");
  await page.click("#submit");

  await expect(page.locator("#form-error")).toHaveText("wrong email or password");
  await expect(page).toHaveURL(/\/login$/);
  expect(errors).toEqual([]);
});

test("sign-up explains a weak password and a taken email", async ({ page }) => {
  const email = uniqueEmail("weak");
  await open(page, "/signup");
  await page.fill("#email", email);
  await page.fill("#password", "short");
  await page.click("#submit");
  await expect(page.locator("#form-error")).toContainText("at least 10 characters");

  await page.fill("#password", PASSWORD);
  await page.click("#submit");
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.click("#logout");
  await expect(page).toHaveURL(/\/login$/);

  await open(page, "/signup");
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.click("#submit");
  await expect(page.locator("#form-error")).toContainText("already exists");
});

test("an unknown page answers 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

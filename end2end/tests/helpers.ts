import { expect, type Page } from "@playwright/test";

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
  });
  return errors;
}

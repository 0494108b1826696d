import { expect, test, type Page } from "@playwright/test";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { open, rpc, shot, watchForErrors } from "./helpers";

// A real OpenSSH server on a loopback port with its own host key and
// authorized_keys: the "machine" of these tests.
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function startSshd(): Promise<{ port: number; dir: string; child: ChildProcess; fingerprint: string }> {
  const dir = mkdtempSync(join(tmpdir(), "automcp-sshd-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  writeFileSync(join(dir, "authorized_keys"), "");
  execFileSync("mkdir", ["-p", join(dir, "home")]);
  execFileSync("mkdir", ["-p", "/run/sshd"]);
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host_key")}`, `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`, "PasswordAuthentication no", "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no", `SetEnv HOME=${join(dir, "home")}`, "",
    ].join("\n"),
  );
  const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  const fingerprint = execFileSync("ssh-keygen", ["-lf", join(dir, "host_key.pub")]).toString().split(" ")[1];
  await new Promise((r) => setTimeout(r, 300));
  return { port, dir, child, fingerprint };
}

async function logInPaid(page: Page) {
  await open(page, "/login");
  await page.fill("#email", process.env.PAID_EMAIL!);
  await page.fill("#password", process.env.PAID_PASSWORD!);
  await page.click("#submit");
  await expect(page).toHaveURL(/\/dashboard$/);
}

test("own machine: add it, confirm its host key, deploy with visible steps, keep the URL, stop and remove", async ({ page }, info) => {
  test.setTimeout(180_000);
  const errors = watchForErrors(page);
  const sshd = await startSshd();
  try {
    await logInPaid(page);
    // A server hosted here, with a token.
    const response = await page.evaluate(async (stub) => {
      const body = {
        deploy: true,
        spec: {
          name: "Machine weather", slug: "machine-weather",
          tools: [{ name: "get_weather", description: "Weather for a city",
            input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
            action: { method: "GET", url: `${stub}/weather/{city}` } }],
        },
      };
      const r = await fetch("/api/v1/servers", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: r.status, body: await r.json() };
    }, process.env.STUB_URL!);
    expect(response.status).toBe(201);
    const serverId = response.body.server.id;
    const endpoint = response.body.server.endpoint;
    const token = response.body.token;

    // Add the machine; put its public key into authorized_keys.
    await open(page, "/machines");
    await page.fill("#machine-name", "test box");
    await page.fill("#machine-host", "127.0.0.1");
    await page.fill("#machine-port", String(sshd.port));
    await page.fill("#machine-user", userInfo().username);
    await page.click("#add-machine");
    const card = page.locator('#machines li[data-machine="test box"]');
    await expect(card).toBeVisible();
    const publicKey = (await card.locator("[data-public-key]").textContent())!.trim();
    expect(publicKey).toMatch(/^ssh-ed25519 /);
    writeFileSync(join(sshd.dir, "authorized_keys"), `${publicKey}\n`);

    await card.locator('[data-action="check"]').click();
    await expect(card.locator("[data-check]")).toContainText("Linux");
    await expect(card.locator(`[data-host-key="${sshd.fingerprint}"]`)).toBeVisible();
    await shot(page, info, "01-check");
    await card.locator('[data-action="trust"]').click();
    await expect(card.locator('[data-trusted="true"]')).toContainText(sshd.fingerprint);

    // Deploy from the server page: the steps appear as they happen.
    await open(page, `/servers/${serverId}/hosting`);
    await expect(page.locator("#hosting-where")).toHaveText("Runs here.");
    await expect(page.locator('[data-hosting-ready="true"]'), errors.join("\n")).toBeAttached();
    await page.click("#vps-deploy");
    const operation = page.locator("#operation");
    await expect(operation).toBeVisible();
    await expect(operation.locator('[data-step="upload"]')).toContainText("MiB", { timeout: 60_000 });
    await expect(operation).toHaveAttribute("data-status", "succeeded", { timeout: 120_000 });
    for (const step of ["connect", "upload", "install", "start", "health", "switch"]) {
      await expect(operation.locator(`[data-step="${step}"]`)).toHaveAttribute("data-status", "done");
    }
    await expect(page.locator("#hosting-where")).toContainText("Runs on test box (release 1");
    expect(existsSync(join(sshd.dir, "home/.automcp/servers/machine-weather/releases/1/env"))).toBe(true);
    await shot(page, info, "02-deployed");

    // The same URL and token reach the machine.
    const listed = await rpc(endpoint, token, "tools/list");
    expect(listed.tools.map((t: { name: string }) => t.name)).toEqual(["get_weather"]);
    const called = await rpc(endpoint, token, "tools/call", { name: "get_weather", arguments: { city: "Lima" } });
    expect(JSON.stringify(called.content)).toContain("stub-weather");

    await page.click("#vps-logs");
    await expect(page.locator("#vps-log")).toContainText("standalone server is listening");

    await page.click("#vps-stop");
    await expect(page.locator("#operation")).toHaveAttribute("data-kind", "stop");
    await expect(page.locator("#operation")).toHaveAttribute("data-status", "succeeded", { timeout: 60_000 });
    await expect(page.locator("#vps-start")).toBeVisible();
    await expect(page.locator('[data-hosting-ready="true"]')).toBeAttached();
    await page.click("#vps-remove");
    await expect(page.locator("#operation")).toHaveAttribute("data-kind", "remove");
    await expect(page.locator("#operation")).toHaveAttribute("data-status", "succeeded", { timeout: 60_000 });
    expect(existsSync(join(sshd.dir, "home/.automcp/servers/machine-weather"))).toBe(false);
    await expect(page.locator("#hosting-where")).toHaveText("Runs here.");
    await shot(page, info, "03-removed");
    expect(errors).toEqual([]);
  } finally {
    sshd.child.kill();
  }
});

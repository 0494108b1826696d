// Page weight and time to interactive, measured in Chromium and printed.
// Not a test of speed: it asserts only that each page hydrates. Figures are
// medians of RUNS cold visits (a fresh browser context each, so an empty
// cache), on loopback and on an emulated Slow 4G link, then a warm visit.
import { test, expect, type Page, type CDPSession } from "@playwright/test";
import { apiToken, deployServer, signUp } from "../tests/helpers";

const RUNS = Number(process.env.RUNS ?? 3);
// Lighthouse's "Slow 4G": 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up.
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8), uploadThroughput: (750e3 / 8) };

type Transfer = { url: string; status: number; encoded: number; decoded: number; cached: boolean };

/** Records every response of the page through the DevTools protocol. */
async function record(cdp: CDPSession): Promise<Map<string, Transfer>> {
  const transfers = new Map<string, Transfer>();
  await cdp.send("Network.enable");
  cdp.on("Network.responseReceived", (e) =>
    transfers.set(e.requestId, {
      url: e.response.url,
      status: e.response.status,
      encoded: 0,
      decoded: 0,
      cached: !!(e.response.fromDiskCache || e.response.fromMemoryCache),
    }),
  );
  cdp.on("Network.dataReceived", (e) => {
    const t = transfers.get(e.requestId);
    if (t) t.decoded += e.dataLength;
  });
  cdp.on("Network.loadingFinished", (e) => {
    const t = transfers.get(e.requestId);
    if (t) t.encoded = e.encodedDataLength;
  });
  return transfers;
}

/** Milliseconds from navigation start until the app says it is hydrated. */
async function timeToInteractive(page: Page): Promise<number> {
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible({ timeout: 120_000 });
  return page.evaluate(() => (window as any).__hydratedAt as number);
}

const recordHydration = () => {
  new MutationObserver((_, observer) => {
    if (document.querySelector('[data-hydrated="true"]')) {
      (window as any).__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
};

function kind(url: string) {
  const path = new URL(url).pathname;
  if (path.endsWith(".wasm")) return "wasm";
  if (path.endsWith(".js")) return "js";
  if (path.endsWith(".css")) return "css";
  if (path.startsWith("/api/")) return "server fn";
  if (path.endsWith(".svg")) return "icon";
  return "html";
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

test("page weight and time to interactive", async ({ browser, baseURL }) => {
  // A signed-in user with one deployed server, as the pages are used.
  const setup = await browser.newContext();
  const page = await setup.newPage();
  await signUp(page, "measure");
  const api = await apiToken(page);
  const server = await deployServer(baseURL!, api, `measure-${Date.now()}`);
  const state = await setup.storageState();
  await setup.close();

  const pages = { dashboard: "/dashboard", wizard: "/wizard/new", "server page": `/servers/${server.id}` };
  const lines: string[] = [];
  for (const [name, path] of Object.entries(pages)) {
    const figures: Record<string, number[]> = { loopback: [], "slow 4G": [] };
    let assets: Transfer[] = [];
    for (const link of ["loopback", "slow 4G"]) {
      for (let run = 0; run < RUNS; run++) {
        const context = await browser.newContext({ storageState: state });
        const tab = await context.newPage();
        const cdp = await context.newCDPSession(tab);
        const transfers = await record(cdp);
        if (link === "slow 4G") await cdp.send("Network.emulateNetworkConditions", SLOW_4G);
        await tab.addInitScript(recordHydration);
        await tab.goto(path);
        figures[link].push(await timeToInteractive(tab));
        await tab.waitForLoadState("networkidle");
        assets = [...transfers.values()];

        if (link === "loopback" && run === 0) {
          // The same page again in the same browser: what is sent the second time.
          transfers.clear();
          await tab.reload();
          await timeToInteractive(tab);
          await tab.waitForLoadState("networkidle");
          const again = [...transfers.values()];
          const network = again.filter((t) => !t.cached).reduce((sum, t) => sum + t.encoded, 0);
          const fromCache = again.filter((t) => t.cached).map((t) => kind(t.url));
          lines.push(`${name}: warm visit moves ${kb(network)} (from cache: ${fromCache.join(", ") || "nothing"})`);
        }
        await context.close();
      }
    }
    const encoded = assets.reduce((sum, t) => sum + t.encoded, 0);
    const decoded = assets.reduce((sum, t) => sum + t.decoded, 0);
    lines.push(`${name}: ${kb(encoded)} compressed, ${kb(decoded)} raw, in ${assets.length} responses`);
    for (const t of assets) lines.push(`    ${kind(t.url).padEnd(10)} ${kb(t.encoded).padStart(11)} ${kb(t.decoded).padStart(11)}  ${new URL(t.url).pathname}`);
    for (const [link, times] of Object.entries(figures)) {
      lines.push(`    interactive (${link}): median ${Math.round(median(times))} ms of ${times.map(Math.round).join(", ")}`);
    }
  }

  // Conditional requests for the bundle (what a revalidating browser or proxy sends).
  const html = await (await fetch(`${baseURL}/login`)).text();
  const wasm = html.match(/\/pkg\/[^"]+\.wasm/)![0];
  const first = await fetch(`${baseURL}${wasm}`, { headers: { "accept-encoding": "br" } });
  await first.arrayBuffer();
  const etag = first.headers.get("etag")!;
  const modified = first.headers.get("last-modified")!;
  const byTag = await fetch(`${baseURL}${wasm}`, { headers: { "accept-encoding": "br", "if-none-match": etag } });
  const byDate = await fetch(`${baseURL}${wasm}`, { headers: { "if-modified-since": modified } });
  lines.push(`bundle ${wasm}: cache-control "${first.headers.get("cache-control")}", content-encoding ${first.headers.get("content-encoding")}`);
  lines.push(`    If-None-Match -> ${byTag.status} (${(await byTag.arrayBuffer()).byteLength} B body); If-Modified-Since -> ${byDate.status}`);
  const login = await fetch(`${baseURL}/login`);
  lines.push(`pages: cache-control "${login.headers.get("cache-control")}"`);

  console.log(`\n== pages (Slow 4G = ${SLOW_4G.latency} ms RTT, ${(SLOW_4G.downloadThroughput * 8) / 1e6} Mbit/s down) ==\n${lines.join("\n")}`);
});

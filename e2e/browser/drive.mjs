// The driver of strait's browser test (e2e/browser_test.go): it starts
// Debian's Chromium headless with playwright-core, opens each page, waits
// for the page's window.straitResults, and watches the network through the
// DevTools protocol (the CORS preflights the browser sent, and the CORS
// error of each request the browser refused, the protocol of each
// response). It prints one JSON object:
//
//   {"version","pages":[{"name","results":[...],"preflights":[...],"responses":[...],
//                        "corsErrors":[...],"console":[...]}]}
//
//   node drive.mjs '{"chromium":"/usr/bin/chromium","timeoutMs":30000,
//                    "args":[...],"pages":[{"name":"allowed","url":"http://..."}]}'
import { chromium } from "playwright-core";

const cfg = JSON.parse(process.argv[2]);
const deadline = Date.now() + cfg.timeoutMs;
const left = () => Math.max(1000, deadline - Date.now());

// The flags a root, sandboxless, offline headless run needs here: without
// the background-networking ones Chromium keeps dialing Google's hosts.
const args = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  ...(cfg.args ?? []),
];

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  headless: true,
  chromiumSandbox: false,
  args,
  timeout: left(),
});
const out = { version: browser.version(), pages: [] };
try {
  for (const p of cfg.pages) out.pages.push(await runPage(p));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));

async function runPage({ name, url }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const res = { name, results: null, preflights: [], responses: [], corsErrors: [], console: [] };
  page.on("console", (m) => res.console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => res.console.push(`pageerror: ${e.message}`));

  // What the browser itself did on the network, as DevTools sees it.
  const cdp = await context.newCDPSession(page);
  const urls = new Map();
  cdp.on("Network.requestWillBeSent", (e) => {
    urls.set(e.requestId, { url: e.request.url, method: e.request.method });
    if (e.type === "Preflight" || e.request.method === "OPTIONS") {
      res.preflights.push({ url: e.request.url, method: e.request.method, origin: e.request.headers?.Origin ?? e.request.headers?.origin });
    }
  });
  cdp.on("Network.responseReceived", (e) => {
    res.responses.push({ ...urls.get(e.requestId), status: e.response.status, protocol: e.response.protocol });
  });
  cdp.on("Network.loadingFailed", (e) => {
    if (e.corsErrorStatus) {
      res.corsErrors.push({ ...urls.get(e.requestId), corsError: e.corsErrorStatus.corsError, failedParameter: e.corsErrorStatus.failedParameter });
    }
  });
  await cdp.send("Network.enable");

  try {
    await page.goto(url, { timeout: left() });
    const h = await page.waitForFunction(() => window.straitResults, null, { timeout: left(), polling: 50 });
    res.results = await h.jsonValue();
    await page.waitForTimeout(200); // the last DevTools events
  } catch (e) {
    // How far the page got, and the case that did not finish.
    const { partial, current } = await page
      .evaluate(() => ({ partial: window.straitPartial ?? [], current: window.straitCurrent }))
      .catch(() => ({ partial: [] }));
    res.results = [...partial, { name: "driver", ok: false, error: `${e?.message ?? e}; the page was running ${current}` }];
  }
  await context.close();
  return res;
}

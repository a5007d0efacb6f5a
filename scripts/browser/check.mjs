// Headless-Chromium check of the self-contained HTML report, driven by playwright-core (a
// pinned, well-kept driver; the browser itself is Debian's chromium). Usage and exit codes are
// documented in ../browser-check.sh, which installs the pinned packages and calls this file.
//
// At 1280 px (desktop) and 390 px (phone, mobile emulation) it checks that:
//   (a) the page loads and nothing is logged at level error: console errors, uncaught
//       exceptions, failed loads; any request that is not file:, data:, blob: or about: is an
//       error too (a self-contained page makes none) and is aborted before it leaves;
//   (b) the full-page screenshot is not blank (at least --min-ink of its pixels differ from
//       the most common colour);
//   (c) at least one <math> or <svg> element is rendered with a non-empty box;
//   and under --strict also that
//   (d) nothing is logged at level warning, and
//   (e) nothing overflows the viewport horizontally: the document is no wider than the
//       window, and every element wider than the window sits inside a box that scrolls it
//       (an equation or a wide table scrolling inside its own box is fine; the page is not).
// Screenshots: PNG_DIR/<name>-desktop-1280.png and PNG_DIR/<name>-phone-390.png.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";

const VIEWS = [
  { name: "desktop", width: 1280, height: 800, mobile: false },
  { name: "phone", width: 390, height: 844, mobile: true },
];
const MAX_HEIGHT = 16000;

function parseArgs(argv) {
  const opts = { contentCheck: true, strict: false, minInk: 0.002, timeout: 60, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--no-content-check") opts.contentCheck = false;
    else if (a === "--strict") opts.strict = true;
    else if (a === "--min-ink") opts.minInk = Number(argv[++i]);
    else if (a === "--timeout") opts.timeout = Number(argv[++i]);
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else opts.positional.push(a);
  }
  if (opts.positional.length !== 3) throw new Error("usage: check.mjs HTML PNG_DIR CHROMIUM [options]");
  return opts;
}

/** Share of pixels that differ from the most common colour. */
function inkFraction(buffer) {
  const png = PNG.sync.read(buffer);
  const counts = new Map();
  const n = png.width * png.height;
  for (let i = 0; i < n; i++) {
    const key = png.data.readUInt32BE(4 * i);
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  let dominant = 0;
  for (const c of counts.values()) dominant = Math.max(dominant, c);
  return n === 0 ? 0 : (n - dominant) / n;
}

async function checkView(browser, url, view, opts, pngDir, stem) {
  const failures = [];
  const warnings = [];
  const context = await browser.newContext({
    viewport: { width: view.width, height: view.height },
    deviceScaleFactor: 1,
    isMobile: view.mobile,
    hasTouch: view.mobile,
  });
  const page = await context.newPage();
  await page.route("**/*", (route) => {
    const u = route.request().url();
    if (/^(file|data|blob|about):/.test(u)) return route.continue();
    failures.push(`outside request refused: ${u}`);
    return route.abort();
  });
  page.on("console", (msg) => {
    const text = `console.${msg.type()}: ${msg.text()}`;
    if (msg.type() === "error" || msg.type() === "assert") failures.push(text);
    else if (msg.type() === "warning") warnings.push(text);
  });
  page.on("pageerror", (err) => failures.push(`uncaught exception: ${err.message}`));
  page.on("requestfailed", (req) => {
    if (!/^(file|data|blob|about):/.test(req.url())) return; // already reported as refused
    failures.push(`failed load: ${req.url()} (${req.failure()?.errorText})`);
  });
  try {
    await page.goto(url, { waitUntil: "load", timeout: opts.timeout * 1000 });
  } catch (e) {
    failures.push(`page did not load: ${e.message}`);
    await context.close();
    return { failures, warnings };
  }
  const facts = await page.evaluate(() => {
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    const content = [...document.querySelectorAll("math, svg")].filter(visible).length;
    const vw = document.documentElement.clientWidth;
    const docWidth = document.documentElement.scrollWidth;
    // Elements reaching past the window that no scrolling box contains.
    const scrolls = (el) => {
      const s = getComputedStyle(el);
      return ["auto", "scroll", "hidden", "clip"].includes(s.overflowX) && el !== document.documentElement && el !== document.body;
    };
    const escaping = [];
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= vw + 0.5) continue;
      let p = el.parentElement;
      let contained = false;
      while (p && p !== document.body) {
        if (scrolls(p)) { contained = true; break; }
        p = p.parentElement;
      }
      if (!contained) escaping.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} (right edge ${Math.round(r.right)} px)`);
      if (escaping.length >= 5) break;
    }
    return { content, vw, docWidth, escaping, height: document.documentElement.scrollHeight };
  });
  if (opts.contentCheck && facts.content === 0) failures.push("no visible <math> or <svg> element");
  const overflow = [];
  if (facts.docWidth > facts.vw) overflow.push(`document is ${facts.docWidth} px wide in a ${facts.vw} px window`);
  for (const e of facts.escaping) overflow.push(`overflows the window: ${e}`);
  for (const o of overflow) (opts.strict ? failures : warnings).push(`horizontal overflow: ${o}`);
  if (opts.strict) for (const w of warnings.filter((w) => w.startsWith("console."))) failures.push(w);

  const file = path.join(pngDir, `${stem}-${view.name}-${view.width}.png`);
  await page.setViewportSize({ width: view.width, height: Math.min(Math.max(facts.height, view.height), MAX_HEIGHT) });
  const shot = await page.screenshot({ path: file, fullPage: false });
  const ink = inkFraction(shot);
  if (ink < opts.minInk) failures.push(`screenshot looks blank (ink ${ink.toFixed(5)} < ${opts.minInk})`);
  console.log(`${view.name} ${view.width}px: screenshot ${file}, ink ${ink.toFixed(4)}, ${facts.content} math/svg elements`);
  await context.close();
  return { failures, warnings };
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`browser-check: ${e.message}`);
    return 2;
  }
  const [html, pngDir, executablePath] = opts.positional;
  if (!fs.existsSync(html)) {
    console.error(`browser-check: FAIL: ${html} does not exist`);
    return 2;
  }
  fs.mkdirSync(pngDir, { recursive: true });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps",
        "--disable-extensions", "--hide-scrollbars", "--mute-audio",
        ...(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []),
      ],
    });
  } catch (e) {
    console.error(`browser-check: could not start ${executablePath}: ${e.message}`);
    return 2;
  }
  const url = pathToFileURL(path.resolve(html)).href;
  const stem = path.basename(html, path.extname(html));
  let failed = false;
  try {
    for (const view of VIEWS) {
      const { failures, warnings } = await checkView(browser, url, view, opts, pngDir, stem);
      for (const w of warnings) console.log(`  warning (${view.name}): ${w}`);
      for (const f of failures) console.error(`  FAIL (${view.name}): ${f}`);
      failed ||= failures.length > 0;
    }
  } finally {
    await browser.close();
  }
  console.log(failed ? "browser check: FAILED" : `browser check: passed${opts.strict ? " (strict)" : ""}`);
  return failed ? 1 : 0;
}

process.exitCode = await main();

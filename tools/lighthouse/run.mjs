// Runs Lighthouse on one URL with Debian's Chromium, on Lighthouse's mobile
// profile (the default: a Moto G-class phone, simulated slow 4G, 4x CPU
// slowdown), and prints one JSON line: the category scores, the figures the
// card is held to, and every audit that lost points.
//
//   node run.mjs URL [--desktop]
//
// CHROME_PATH names the browser (chrome-launcher reads it); make lighthouse
// sets it to Debian's chromium.
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";

const url = process.argv[2];
if (!url) {
  console.error("usage: node run.mjs URL [--desktop]");
  process.exit(2);
}
const desktop = process.argv.includes("--desktop");

const chrome = await chromeLauncher.launch({
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const config = desktop
    ? (await import("lighthouse/core/config/desktop-config.js")).default
    : undefined;
  const result = await lighthouse(
    url,
    {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      onlyCategories: ["performance", "accessibility", "best-practices"],
    },
    config,
  );
  const lhr = result.lhr;
  const scores = {};
  for (const [id, c] of Object.entries(lhr.categories)) scores[id] = Math.round(c.score * 100);
  const failing = [];
  for (const c of Object.values(lhr.categories)) {
    for (const ref of c.auditRefs) {
      const a = lhr.audits[ref.id];
      if (ref.weight > 0 && a.score !== null && a.score < 1) {
        failing.push({ category: c.id, id: a.id, score: a.score, title: a.title, value: a.displayValue || "" });
      }
    }
  }
  const audit = (id) => lhr.audits[id] || {};
  console.log(
    JSON.stringify({
      url: lhr.finalDisplayedUrl,
      formFactor: lhr.configSettings.formFactor,
      scores,
      fcpMs: Math.round(audit("first-contentful-paint").numericValue || 0),
      lcpMs: Math.round(audit("largest-contentful-paint").numericValue || 0),
      tbtMs: Math.round(audit("total-blocking-time").numericValue || 0),
      cls: audit("cumulative-layout-shift").numericValue || 0,
      transferBytes: Math.round(audit("total-byte-weight").numericValue || 0),
      runtimeError: lhr.runtimeError ? lhr.runtimeError.message : undefined,
      runWarnings: lhr.runWarnings,
      failing,
      debug: process.env.LH_DEBUG
        ? {
            longTasks: (audit("long-tasks").details || {}).items,
            bootup: (audit("bootup-time").details || {}).items,
            work: (audit("mainthread-work-breakdown").details || {}).items,
            blocking: (audit("render-blocking-resources").details || {}).items,
            lcpElement: audit("largest-contentful-paint-element").details,
          }
        : undefined,
    }),
  );
} finally {
  await chrome.kill();
}

// Runs Lighthouse on one URL with Debian's Chromium, on Lighthouse's mobile
// profile (the default: a Moto G-class phone, simulated slow 4G, 4x CPU
// slowdown), and prints one JSON line: the category scores, the figures the
// card is held to, and every audit that lost points. With --runs N it runs N
// times and reports the run with the median performance score, as Lighthouse
// advises for variance: the simulated CPU times scale what this machine
// measured, so a busy machine inflates them; every run's performance score
// is reported beside it.
//
//   node run.mjs URL [--desktop] [--runs N]
//
// CHROME_PATH names the browser (chrome-launcher reads it); make lighthouse
// sets it to Debian's chromium.
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";

const url = process.argv[2];
if (!url) {
  console.error("usage: node run.mjs URL [--runs N]   (LH_DEBUG=1 adds long tasks and main-thread work to the answer)");
  process.exit(2);
}
const runsAt = process.argv.indexOf("--runs");
const runs = runsAt > 0 ? Math.max(1, Number(process.argv[runsAt + 1]) || 1) : 1;

const chrome = await chromeLauncher.launch({
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const lhrs = [];
  for (let i = 0; i < runs; i++) {
    const result = await lighthouse(
      url,
      {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: ["performance", "accessibility", "best-practices"],
      },
    );
    lhrs.push(result.lhr);
  }
  // The run with the median performance score, among the runs that
  // measured (a run Lighthouse could not finish has a runtimeError and no
  // score; it is shown as null).
  const perf = (r) => r.categories.performance.score;
  const valid = lhrs.filter((r) => !r.runtimeError && perf(r) !== null);
  const lhr = valid.length > 0 ? [...valid].sort((a, b) => perf(a) - perf(b))[Math.floor((valid.length - 1) / 2)] : lhrs[0];
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
      runs: lhrs.map((r) => (r.runtimeError || perf(r) === null ? null : Math.round(perf(r) * 100))),
      benchmarkIndex: lhr.environment.benchmarkIndex,
      runErrors: lhrs.filter((r) => r.runtimeError).map((r) => r.runtimeError.code + ": " + r.runtimeError.message),
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

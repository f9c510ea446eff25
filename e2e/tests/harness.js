// Starts the real `rollcall` binary on a fresh SQLite database with a few known people, and
// opens Chromium. Nothing is mocked.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const artifacts = join(here, "..", "artifacts");
mkdirSync(artifacts, { recursive: true });

const bin = process.env.ROLLCALL_BIN || join(here, "..", "..", "target", "debug", "rollcall");
export const ADMIN_PASSWORD = "correct-horse-battery-9";
export const TEACHER_PASSWORD = "teacher-secret-2024";

export function cli(databaseUrl, ...args) {
  return execFileSync(bin, args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, ROLLCALL_ORG: "northfield", ROLLCALL_LOG: "warn" },
    encoding: "utf8",
  });
}

function seed(databaseUrl) {
  cli(databaseUrl, "org", "create", "northfield", "--name", "Northfield School District");
  const add = (...args) => cli(databaseUrl, "user", "add", ...args);
  add("--username", "admin", "--email", "admin@northfield.example", "--given-name", "Dana",
    "--family-name", "Whitfield", "--role", "admin", "--password", ADMIN_PASSWORD);
  // Each test works on its own people, so tests pass in any order and alone.
  const teacher = (username, given, family) => add("--username", username, "--email",
    `${username}@northfield.example`, "--given-name", given, "--family-name", family, "--role", "teacher",
    "--password", TEACHER_PASSWORD, "--attribute", "department=Mathematics");
  teacher("ada.lovelace", "Ada", "Lovelace"); // searched for, never changed
  teacher("grace.hopper", "Grace", "Hopper"); // deactivated while signed in
  teacher("hedy.lamarr", "Hedy", "Lamarr"); // inactive, reactivated in the edit dialog
  teacher("mary.somerville", "Mary", "Somerville"); // inactive, her page and history shown
  teacher("emmy.noether", "Emmy", "Noether"); // a forged change to her is refused
  teacher("rosalind.franklin", "Rosalind", "Franklin"); // archived and restored from the ⋯ menu
  teacher("marie.curie", "Marie", "Curie"); // deactivated on her page: the switch, then Update
  add("--username", "zoe.orsted", "--given-name", "Zoë", "--family-name", "Ørsted", "--role", "student",
    "--attribute", "grade=4");
  for (const [given, family] of [["Bram", "Bulk"], ["Bea", "Bulk"], ["Bo", "Bulk"]]) {
    add("--username", `${given.toLowerCase()}.bulk`, "--email", `${given.toLowerCase()}@northfield.example`,
      "--given-name", given, "--family-name", family, "--role", "student");
  }
  for (let i = 0; i < 8; i++) {
    add("--username", `pupil${i}`, "--given-name", "Pat", "--family-name", `Pupil${i}`, "--role", "student");
  }
  // A username-only student who was deactivated: their password is gone.
  cli(databaseUrl, "user", "deactivate", "zoe.orsted", "--reason", "Moved away");
  cli(databaseUrl, "user", "deactivate", "hedy.lamarr", "--reason", "On leave");
  cli(databaseUrl, "user", "deactivate", "mary.somerville", "--reason", "Sabbatical");
}

/** A database of the test file's own: a fresh SQLite file, or, when ROLLCALL_E2E_DATABASE_URL
 *  names a PostgreSQL database, a new database beside it (each test file seeds its own org).
 *  Returns its URL and how to drop it. */
function ownDatabase(dir) {
  const given = process.env.ROLLCALL_E2E_DATABASE_URL;
  if (!given) return { url: `sqlite://${join(dir, "e2e.db")}`, drop: () => {} };
  const name = `${given.slice(given.lastIndexOf("/") + 1)}_${process.pid}_${Date.now() % 100000}`;
  execFileSync("psql", ["-q", given, "-c", `create database ${name}`]);
  const url = `${given.slice(0, given.lastIndexOf("/"))}/${name}`;
  const drop = () => {
    try {
      execFileSync("psql", ["-q", given, "-c", `drop database if exists ${name} with (force)`]);
    } catch (err) {
      console.error(`could not drop ${name}: ${err}`);
    }
  };
  return { url, drop };
}

/** Starts `rollcall serve` on a seeded database of its own; `args` are added to its command
 *  line (say, a drop root). */
export async function startServer(args = []) {
  const dir = mkdtempSync(join(tmpdir(), "rollcall-e2e-"));
  const database = ownDatabase(dir);
  const databaseUrl = database.url;
  seed(databaseUrl);
  const child = spawn(bin, ["serve", "--bind", "127.0.0.1:0", ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl, ROLLCALL_LOG: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const address = await new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${seen}`)), 30000);
    child.stderr.on("data", (chunk) => {
      seen += chunk.toString();
      // The whole address, up to the space after it: stderr may arrive cut mid-line, and a
      // cut address ("http://127") sent every test of a file to a page that does not exist.
      const match = seen.match(/listening on (http:\/\/[0-9.]+:[0-9]+)\s/);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code}):\n${seen}`)));
  });
  // What the server says after it starts (warnings and errors only) is shown when it stops.
  let said = "";
  child.stderr.on("data", (chunk) => { said += chunk.toString(); });
  const stop = () => {
    child.kill("SIGINT");
    if (said.trim()) console.error(`The server said:\n${said}`);
    child.once("exit", database.drop);
  };
  return { address, databaseUrl, stop };
}

/** Content-Security-Policy refusals seen on any page: each is a script or a style the page
 *  lost, so a test run that saw one fails (see the file's `after`). */
export const policyRefusals = [];

function watchPolicy(page) {
  // Names what was refused: the browser's own console line does not say which element.
  page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const what = event.target?.outerHTML?.slice(0, 120) ?? "";
      console.error(`Content Security Policy refused ${event.violatedDirective} at ${event.sourceFile}:${event.lineNumber}: ${what}`);
    });
  });
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) {
      policyRefusals.push(`${page.url()}: ${message.text()}`);
    }
  });
}

export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // Every page of every context is watched (`browser.newPage` goes through `newContext`).
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on("page", watchPolicy);
    return context;
  };
  return browser;
}

const axeSource = readFileSync(join(here, "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

/** Serious or critical accessibility violations on the page as it is now. */
export async function axeViolations(page, include) {
  // Evaluated rather than added as a <script>: the pages allow no inline script.
  await page.evaluate(axeSource);
  const results = await page.evaluate(async (context) => {
    // eslint-disable-next-line no-undef
    return axe.run(context || document, { resultTypes: ["violations"] });
  }, include);
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** Signs in as a person would: when the server says it is busy checking passwords (503, as it
 *  may on a loaded test machine: password checks take one core each), waits the few seconds it
 *  asks and tries again. Returns "" when let in, else the refusal: its status and the alert. */
export async function signIn(page, address, login, password) {
  for (let attempt = 1; ; attempt++) {
    await page.goto(`${address}/sign-in`);
    await page.getByLabel("Username or e-mail").fill(login);
    await page.getByLabel("Password").fill(password);
    const answer = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/sign-in"));
    await page.getByRole("button", { name: "Sign in" }).click();
    const response = await answer;
    const status = response.status();
    if (status >= 300 && status < 400) return "";
    if (status !== 503 || attempt === 5) {
      // Refused: a test expecting the refusal reads the page; one expecting to be let in
      // fails at once with the server's reason, not after a long wait for another address.
      await page.waitForLoadState("domcontentloaded");
      const said = await page.locator("[role=alert]").allInnerTexts().catch(() => []);
      return `${status} ${said.join(" ").trim()}`;
    }
    const wait = Number(response.headers()["retry-after"] || "2");
    await page.waitForTimeout(wait * 1000);
  }
}

/** Signs in and expects to be let in: a refusal fails the test at once, with its reason. */
export async function signInAccepted(page, address, login, password) {
  const refused = await signIn(page, address, login, password);
  assert.equal(refused, "", `${login} was refused: ${refused}`);
}

/** A control a person can click: scrolled to, inside the viewport, and the element under its
 *  centre (not clipped by a container or covered by another element). */
export async function expectReachable(page, locator) {
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  assert.ok(box, "it is laid out");
  const viewport = page.viewportSize();
  const edge = 1; // sub-pixel layout
  assert.ok(box.x >= -edge && box.y >= -edge && box.x + box.width <= viewport.width + edge
    && box.y + box.height <= viewport.height + edge, `inside the ${viewport.width}px viewport: ${JSON.stringify(box)}`);
  assert.ok(box.height >= 20, `tall enough to press: ${box.height}px`);
  const onTop = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return hit === el || el.contains(hit);
  });
  assert.ok(onTop, "nothing covers or clips it");
}

// The dashboard and the completion report, clicked through in Chromium against the real binary:
// four students are enrolled in a course with everyone else; three of them finish it or start it
// in the browser as learners, and one who finished is then deactivated. The admin sees figures
// of active people only (the inactive student's completion is not counted), follows the
// dashboard to the report, finds the inactive student in the Archived tab, is told when a date
// range is inverted, exports the Active tab as CSV, and reads a segment's figures on the
// dashboard before writing to it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ADMIN_PASSWORD, axeViolations, cli, expectReachable, launchBrowser, policyRefusals, screenshot,
  signInAccepted, startServer,
} from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
const LEARNER_PASSWORD = "learning-is-fun-77";

// The harness seeds 17 active people (the admin, five of its seven teachers, three Bulks and
// eight pupils) and 3 inactive ones (Zoë, Hedy and Mary); these four students are added here,
// and Quinn is made inactive after finishing the course. `--everyone` enrols all of them,
// inactive ones included; Mary is archived afterwards.
const SEEDED_ACTIVE = 17;
const SEEDED_INACTIVE = 3;
const ACTIVE = SEEDED_ACTIVE + 3;
const STUDENTS = {
  nia: { username: "nia.okafor", given: "Nia", family: "Okafor", department: "Science" }, // completes
  omar: { username: "omar.reyes", given: "Omar", family: "Reyes", department: "Science" }, // starts
  pia: { username: "pia.sandoval", given: "Pia", family: "Sandoval", department: "Maths" }, // completes
  quinn: { username: "quinn.tremaine", given: "Quinn", family: "Tremaine", department: "Science" }, // completes, then inactive
};

let server;
let browser;

/** Clicks a control as a person would: first checks it is shown, inside the viewport, and not
 *  covered or clipped. */
async function press(page, locator) {
  await expectReachable(page, locator);
  await locator.click();
}

/** A learner signs in, opens Fire safety from their courses, starts it and reads its lesson;
 *  with `finish`, marks it complete too. */
async function learn({ username }, finish) {
  const context = await browser.newContext({ viewport: DESKTOP });
  try {
    const page = await context.newPage();
    await signInAccepted(page, server.address, username, LEARNER_PASSWORD);
    await page.waitForURL("**/my/courses");
    await press(page, page.getByRole("link", { name: "Fire safety" }));
    await page.getByText("This course is free.").waitFor();
    await press(page, page.getByRole("button", { name: "Start the course" }));
    await page.getByText("The course is started.").waitFor();
    await press(page, page.getByRole("link", { name: "Begin the first lesson" }));
    await page.getByRole("heading", { name: "Exits" }).waitFor();
    await press(page, page.getByRole("button", { name: "Done: back to the course" }));
    await page.getByRole("heading", { name: "All lessons read" }).waitFor();
    if (finish) {
      await press(page, page.getByRole("button", { name: "Mark the course complete" }));
      await page.getByRole("heading", { name: /^Completed on / }).waitFor();
    }
  } finally {
    await context.close();
  }
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  for (const s of Object.values(STUDENTS)) {
    cli(server.databaseUrl, "user", "add", "--org", "northfield", "--username", s.username,
      "--email", `${s.username}@northfield.example`, "--given-name", s.given, "--family-name", s.family,
      "--role", "student", "--password", LEARNER_PASSWORD, "--attribute", `department=${s.department}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "rollcall-reports-"));
  const file = join(dir, "fire-safety.json");
  writeFileSync(file, JSON.stringify({
    title: "Fire safety",
    description: "For all.",
    credit_cost: 0,
    lessons: [{ title: "Exits", body: "Know them." }],
    completion: { kind: "mark_complete" },
  }));
  cli(server.databaseUrl, "course", "add", "--org", "northfield", file);
  const listed = cli(server.databaseUrl, "course", "list", "--org", "northfield");
  const line = listed.split("\n").find((l) => l.includes("Fire safety"));
  assert.ok(line, `the course is listed:\n${listed}`);
  const id = line.trim().split(/\s+/)[0];
  cli(server.databaseUrl, "course", "enrol", "--org", "northfield", id, "--everyone");

  await learn(STUDENTS.nia, true);
  await learn(STUDENTS.pia, true);
  await learn(STUDENTS.omar, false);
  // Quinn finishes, then goes: the completion stays in the records, out of the figures.
  await learn(STUDENTS.quinn, true);
  cli(server.databaseUrl, "user", "deactivate", "--org", "northfield", STUDENTS.quinn.username, "--reason", "away");
  // One of the seed's inactive teachers is archived after being enrolled: still in the Archived
  // tab, badged so, and left out by "Inactive people only".
  cli(server.databaseUrl, "user", "archive", "--org", "northfield", "mary.somerville", "--reason", "left");
});

after(async () => {
  await browser?.close();
  server?.stop();
  assert.deepEqual(policyRefusals, [], "no page lost a script or style to its security policy");
});

async function signedInAdmin(t, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  t.after(() => context.close());
  const admin = await context.newPage();
  await signInAccepted(admin, server.address, "admin", ADMIN_PASSWORD);
  await admin.waitForURL("**/users");
  return admin;
}

/** The headline tiles, as `{ "active people": "20", … }`. */
async function tiles(page) {
  const items = await page.locator("ul.tiles li").evaluateAll((lis) => lis.map((li) => {
    const figure = li.querySelector(".figure").textContent.trim();
    const label = li.textContent.replace(figure, "").trim();
    return [label, figure];
  }));
  return Object.fromEntries(items);
}

/** A figures table's row for a course, as its cells' text. */
async function courseRow(table, title) {
  const row = table.locator("tbody tr", { has: table.page().getByRole("rowheader", { name: title, exact: true }) });
  assert.equal(await row.count(), 1, `one row for ${title}`);
  return (await row.locator("th, td").allInnerTexts()).map((s) => s.trim());
}

test("the dashboard counts active people only, in its tiles, its course table and its chart", async (t) => {
  const admin = await signedInAdmin(t);

  // The Users page lists the active by default: the people the dashboard should count.
  const listed = await admin.locator("#match-count").innerText();
  assert.equal(listed, `${ACTIVE} users`, "the setup's active people, the admin among them");

  await press(admin, admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard", exact: true }));
  await admin.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
  assert.deepEqual(await tiles(admin), {
    "active people": String(ACTIVE),
    enrolments: String(ACTIVE), // everyone active is enrolled once
    started: "3", // Nia, Pia and Omar; not Quinn, now inactive
    completed: "2", // Nia and Pia; not Quinn
    "completion rate": `${Math.round((2 * 100) / ACTIVE)}%`,
    "credits consumed": "0",
    "credits left": "0",
  });

  const figures = admin.getByRole("table", { name: "Figures by course" });
  assert.deepEqual(await courseRow(figures, "Fire safety"),
    ["Fire safety", String(ACTIVE), "3", "2", "10%", "0"]);

  // The chart beside it: one bar, filled to the rate, labelled as the table says.
  const chart = admin.locator("svg.chart.bars").first();
  await chart.waitFor();
  assert.equal(await chart.locator("rect.fill").count(), 1, "one bar, for the one course with enrolments");
  assert.equal(await chart.locator("rect.fill").getAttribute("width"), "10%");
  assert.equal(await chart.locator("text.label").textContent(), "Fire safety");
  assert.equal(await chart.locator("text.value").textContent(), `10% (2 of ${ACTIVE})`);

  // This month's column and its line in the month table.
  const months = admin.getByRole("table", { name: "Figures by month" });
  const lastMonth = (await months.locator("tbody tr").last().locator("th, td").allInnerTexts()).map((s) => s.trim());
  assert.deepEqual(lastMonth.slice(1), [String(ACTIVE), "3", "2", "0"], `this month: ${lastMonth}`);

  // With no segment yet, the By segment card says how to make one.
  await admin.getByText("No segments yet.").waitFor();

  assert.deepEqual(await axeViolations(admin), []);
  await screenshot(admin, "reports-dashboard-desktop");
  await admin.setViewportSize(PHONE);
  const width = await admin.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scroll at phone width (${width}px)`);
  await screenshot(admin, "reports-dashboard-phone");
});

test("the completion report: active and archived tabs, an inverted range refused, the Active tab exported", async (t) => {
  const admin = await signedInAdmin(t);
  await press(admin, admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard", exact: true }));
  await press(admin, admin.getByRole("link", { name: "Completion report" }));
  await admin.getByRole("heading", { name: "Completion report", level: 1 }).waitFor();
  const tabs = admin.getByRole("navigation", { name: "Whose results" });
  assert.equal(await tabs.getByRole("link", { name: "Active" }).getAttribute("aria-current"), "page");

  const rows = admin.locator("table.report tbody tr");
  const rowOf = (s) => rows.filter({ hasText: s.username });
  assert.equal(await rows.count(), ACTIVE, "one row per active person's enrolment");
  assert.match(await rowOf(STUDENTS.nia).innerText(), /Nia Okafor[\s\S]*Fire safety[\s\S]*Completed/);
  assert.match(await rowOf(STUDENTS.pia).innerText(), /Pia Sandoval[\s\S]*Completed/);
  assert.match(await rowOf(STUDENTS.omar).innerText(), /Omar Reyes[\s\S]*In progress/);
  assert.equal(await rowOf(STUDENTS.quinn).count(), 0, "the inactive student is not in the Active tab");
  assert.equal(await rows.filter({ hasText: "Inactive" }).count(), 0, "no row in the Active tab is badged");
  assert.deepEqual(await axeViolations(admin), []);
  await screenshot(admin, "reports-active-desktop");

  // The Archived tab holds Quinn's completed enrolment, badged, with the seed's inactive people.
  await press(admin, tabs.getByRole("link", { name: "Archived" }));
  await admin.getByText("Results of inactive and archived people").waitFor();
  assert.equal(await tabs.getByRole("link", { name: "Archived" }).getAttribute("aria-current"), "page");
  assert.equal(await rows.count(), SEEDED_INACTIVE + 1, "the seed's three, Mary now archived, and Quinn");
  const quinn = rowOf(STUDENTS.quinn);
  assert.equal(await quinn.count(), 1);
  assert.equal(await quinn.locator(".badge.inactive").innerText(), "Inactive");
  assert.match(await quinn.innerText(), /Quinn Tremaine[\s\S]*Fire safety[\s\S]*Completed/);
  assert.equal(await rowOf(STUDENTS.nia).count(), 0, "no active person in the Archived tab");
  const mary = rows.filter({ hasText: "mary.somerville" });
  assert.equal(await mary.locator(".badge.archived").innerText(), "Archived");
  assert.deepEqual(await axeViolations(admin), []);

  await press(admin, admin.getByLabel("Inactive people only"));
  assert.ok(await admin.getByLabel("Inactive people only").isChecked(), "ticked");
  await press(admin, admin.getByRole("button", { name: "Apply filters" }));
  await admin.waitForURL(/inactive_only=on/);
  assert.ok(await admin.getByLabel("Inactive people only").isChecked(), "the switch stays on");
  assert.equal(await rowOf(STUDENTS.quinn).locator(".badge.inactive").innerText(), "Inactive");
  assert.equal(await rows.count(), SEEDED_INACTIVE, "Quinn, Zoë and Hedy; not Mary, archived");
  assert.equal(await mary.count(), 0, "the archived teacher is left out");
  assert.equal(await rows.filter({ hasText: "Archived" }).count(), 0);

  // A range that ends before it starts is refused, saying so; what was typed stays.
  await admin.getByLabel("From").fill("2026-03-31");
  await admin.getByLabel("To").fill("2026-03-01");
  await press(admin, admin.getByRole("button", { name: "Apply filters" }));
  const alert = admin.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /ends \(2026-03-01\) before it starts \(2026-03-31\)/);
  assert.equal(await rows.count(), 0, "no rows are shown under an error");
  assert.equal(await admin.getByLabel("From").inputValue(), "2026-03-31");
  assert.equal(await admin.getByLabel("To").inputValue(), "2026-03-01");
  await screenshot(admin, "reports-range-error-desktop");

  // The dates cleared, back to the Active tab (which does not ask the Archived tab's switch).
  await admin.getByLabel("From").fill("");
  await admin.getByLabel("To").fill("");
  await press(admin, admin.getByRole("button", { name: "Apply filters" }));
  await rowOf(STUDENTS.quinn).waitFor();
  await press(admin, tabs.getByRole("link", { name: "Active" }));
  await admin.getByText("Results of active people").waitFor();
  assert.equal(await rows.count(), ACTIVE);

  const downloading = admin.waitForEvent("download");
  await press(admin, admin.getByRole("link", { name: "Export CSV" }));
  const download = await downloading;
  assert.equal(download.suggestedFilename(), "completions-active.csv");
  const csv = readFileSync(await download.path(), "utf8");
  const lines = csv.split(/\r?\n/).filter((l) => l !== "");
  assert.ok(lines[0].startsWith("user_id,username,email,given_name,family_name,status,"), lines[0]);
  const body = lines.slice(1);
  assert.equal(body.length, ACTIVE, "one line per active enrolment");
  const status = lines[0].split(",").indexOf("status");
  for (const line of body) {
    assert.equal(line.split(",")[status], "active", line);
    assert.match(line, /,"Fire safety",/);
  }
  assert.ok(!csv.includes(STUDENTS.quinn.username), "the inactive student is not exported");
  for (const s of [STUDENTS.nia, STUDENTS.pia, STUDENTS.omar]) {
    assert.equal(body.filter((l) => l.includes(`,"${s.username}",`)).length, 1, `${s.username} once`);
  }

  await admin.setViewportSize(PHONE);
  const width = await admin.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scroll at phone width (${width}px)`);
  await screenshot(admin, "reports-active-phone");
});

test("a segment's figures on the dashboard count its active members, and a message to it leaves the inactive out", async (t) => {
  const admin = await signedInAdmin(t);
  await press(admin, admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Segments", exact: true }));
  await admin.getByRole("heading", { name: "Segments", level: 1 }).waitFor();
  await admin.getByLabel("Segment name").fill("Science department");
  await admin.getByLabel("Rule").fill("department = Science");
  const preview = admin.locator("#segment-preview");
  await preview.getByText("Nia Okafor").waitFor();
  assert.match(await preview.textContent(), /2\s+active and\s+1\s+inactive people match/);
  await press(admin, admin.getByRole("button", { name: "Save segment" }));
  await admin.getByText("Segment saved.").waitFor();
  const segmentPage = admin.url();

  await press(admin, admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard", exact: true }));
  await admin.getByLabel("Segment", { exact: true }).selectOption({ label: "Science department" });
  await press(admin, admin.getByRole("button", { name: "Show figures" }));
  await admin.getByRole("heading", { name: "Science department", level: 3 }).waitFor();
  const figures = admin.getByRole("table", { name: "Figures by course in Science department" });
  // Nia (completed) and Omar (started); Quinn, inactive, is left out.
  assert.deepEqual(await courseRow(figures, "Fire safety"), ["Fire safety", "2", "2", "1", "50%", "0"]);
  const chart = admin.getByRole("img", { name: "Completion rate by course in Science department" });
  assert.equal(await chart.locator("rect.fill").getAttribute("width"), "50%");
  assert.equal(await chart.locator("text.value").textContent(), "50% (1 of 2)");
  assert.equal(await admin.getByLabel("Segment", { exact: true }).locator("option:checked").innerText(),
    "Science department", "the chosen segment stays chosen");
  // The org's figures above are unchanged by the choice.
  assert.equal((await tiles(admin))["active people"], String(ACTIVE));
  assert.deepEqual(await axeViolations(admin), []);
  await screenshot(admin, "reports-dashboard-segment-desktop");

  // Written to from its page: the inactive member's message is kept unsent.
  await admin.goto(segmentPage);
  assert.match(await admin.locator("#reach").textContent(), /reaches\s+2\s+active people.*1 inactive/s);
  await admin.getByLabel("Subject").fill("Fire drill");
  await admin.getByLabel("Message").fill("Meet at the front gate.");
  await press(admin, admin.getByRole("button", { name: "Send to 2 people" }));
  await admin.getByText("Message queued for 2 people; 1 kept unsent").waitFor();
});

// At phone width the dashboard's figures tables may be wider than the screen: each scrolls
// sideways in a region a keyboard can reach.
test("at phone width the dashboard's scrolling figure tables can be reached by keyboard", async (t) => {
  const admin = await signedInAdmin(t, PHONE);
  await admin.goto(`${server.address}/dashboard`);
  await admin.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
  assert.deepEqual(await axeViolations(admin), []);
});

// Everyone written to from the Segments page: the page says, before sending, whom the message
// reaches and who is left out, and the outcome says how many were queued and kept unsent.
test("a message to everyone reaches the active people and says who was left out", async (t) => {
  const admin = await signedInAdmin(t);
  await admin.goto(`${server.address}/segments`);
  await press(admin, admin.getByRole("link", { name: "Write to everyone" }));
  await admin.getByRole("heading", { name: "Write to everyone", level: 1 }).waitFor();
  const reach = await admin.locator("#reach").textContent();
  const reached = Number(/reaches\s+(\d+)\s+active/.exec(reach)?.[1]);
  assert.ok(reached > 0, reach);
  assert.match(reach, /inactive \(the status rules keep e-mail from them\)/);
  // Nothing to say is refused, and nothing is sent.
  await admin.getByLabel("Subject").fill("Closing early");
  await admin.getByLabel("Message").fill("   ");
  await press(admin, admin.getByRole("button", { name: `Send to ${reached} people` }));
  await admin.getByRole("alert").waitFor();
  await admin.getByLabel("Subject").fill("Closing early");
  await admin.getByLabel("Message").fill("The school closes at noon on Friday.");
  await press(admin, admin.getByRole("button", { name: `Send to ${reached} people` }));
  const done = admin.getByRole("status");
  await done.waitFor();
  assert.match(await done.textContent(), new RegExp(`Message queued for ${reached} people; \\d+ kept unsent`));
  assert.deepEqual(await axeViolations(admin), []);
  await screenshot(admin, "reports-write-everyone-desktop");
});

// At 390 px, every control the dashboard, the report and a roster's page add, pressed as a person
// would: the dashboard's buttons, the report's tabs, a state picked and applied down to a one-row
// result, the pages, the export; a roster written to from its page. Runs last: it adds courses
// and a roster, which change the figures the tests above count.
test("at phone width the report pages, filters, exports, and a roster is written to", async (t) => {
  const admin = await signedInAdmin(t, PHONE);
  const dir = mkdtempSync(join(tmpdir(), "rollcall-reports-more-"));
  for (const title of ["Data protection", "First aid"]) {
    const file = join(dir, `${title}.json`);
    writeFileSync(file, JSON.stringify({
      title, description: "For all.", credit_cost: 0,
      lessons: [{ title: "One", body: "Read it." }], completion: { kind: "mark_complete" },
    }));
    cli(server.databaseUrl, "course", "add", "--org", "northfield", file);
    const listed = cli(server.databaseUrl, "course", "list", "--org", "northfield");
    const id = listed.split("\n").find((l) => l.includes(title)).trim().split(/\s+/)[0];
    cli(server.databaseUrl, "course", "enrol", "--org", "northfield", id, "--everyone");
  }

  await admin.goto(`${server.address}/dashboard`);
  await press(admin, admin.getByRole("link", { name: "Archived results" }));
  const tabs = admin.getByRole("navigation", { name: "Whose results" });
  assert.equal(await tabs.getByRole("link", { name: "Archived" }).getAttribute("aria-current"), "page");
  await press(admin, tabs.getByRole("link", { name: "Active" }));
  const rows = admin.locator("table.report tbody tr");
  assert.equal(await rows.count(), 50, "a full first page of the 60 active enrolments");
  await press(admin, admin.getByRole("link", { name: "Next page" }));
  await admin.waitForURL(/after=/);
  assert.equal(await rows.count(), 10, "the rest on the second page");
  assert.equal(await admin.getByRole("link", { name: "Next page" }).count(), 0, "no page after the last");
  await press(admin, admin.getByRole("link", { name: "First page" }));
  assert.equal(await rows.count(), 50);

  // Down to one row: the one enrolment in progress, in Fire safety.
  await admin.getByLabel("State").selectOption("in_progress");
  await admin.getByLabel("Course").selectOption({ label: "Fire safety" });
  await press(admin, admin.getByRole("button", { name: "Apply filters" }));
  await admin.waitForURL(/progress=in_progress/);
  assert.equal(await rows.count(), 1);
  assert.match(await rows.last().innerText(), new RegExp(`${STUDENTS.omar.given}[\\s\\S]*In progress`));
  await screenshot(admin, "reports-one-row-phone");
  const [download] = await Promise.all([
    admin.waitForEvent("download"),
    press(admin, admin.getByRole("link", { name: "Export CSV" })),
  ]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.equal(csv.length, 2, "the header and the one row the filters show");
  assert.ok(csv[1].includes(`"${STUDENTS.omar.username}"`), csv[1]);

  // A roster from a OneRoster package, written to from its page.
  cli(server.databaseUrl, "source", "add", "--org", "northfield", "--format", "oneroster", "district");
  cli(server.databaseUrl, "import", "--org", "northfield", "--source", "district",
    join(here, "..", "..", "docs", "formats", "oneroster-1.1-sample"));
  await admin.goto(`${server.address}/rosters`);
  await press(admin, admin.locator("main a[href^='/rosters/']").first());
  const form = admin.locator("#write");
  const reach = await form.locator("#reach").textContent();
  const reached = Number(/reaches\s+(\d+)\s+active/.exec(reach)?.[1]);
  assert.ok(reached > 0, reach);
  await form.getByLabel("Subject").fill("Trip on Friday");
  await form.getByLabel("Message").fill("Bring a packed lunch.");
  const send = form.getByRole("button", { name: new RegExp(`^Send to ${reached} (person|people)$`) });
  await press(admin, send);
  const done = admin.getByRole("status");
  await done.waitFor();
  assert.match(await done.textContent(), new RegExp(`Message queued for ${reached} (person|people)`));
  assert.deepEqual(await axeViolations(admin), []);
  await screenshot(admin, "roster-written-phone");
});

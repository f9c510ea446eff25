// Provisioning in the console, clicked through in Chromium against the real binary: a roster
// file uploaded, previewed and applied; a mass removal held, one person kept, the rest
// approved; an import undone. Its own server and database (see harness.js).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ADMIN_PASSWORD, TEACHER_PASSWORD, axeViolations, cli, expectReachable, launchBrowser, policyRefusals,
  screenshot, signInAccepted, startServer,
} from "./harness.js";

let server;
let browser;
const files = mkdtempSync(join(tmpdir(), "rollcall-rosters-"));
// Where the server's orgs may name their sources' drop folders, scanned every second.
const dropRoot = mkdtempSync(join(tmpdir(), "rollcall-drop-"));
const here = dirname(fileURLToPath(import.meta.url));

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };

before(async () => {
  server = await startServer(["--drop-root", dropRoot, "--drop-interval", "1"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.stop();
  assert.deepEqual(policyRefusals, [], "no page lost a script or style to its security policy");
});

/** A roster file of `rows` ([external id, username, given, family, role]) on disk. */
function roster(name, rows) {
  const path = join(files, name);
  const lines = rows.map((row) => row.join(","));
  writeFileSync(path, `external_id,username,given_name,family_name,role\n${lines.join("\n")}\n`);
  return path;
}

/** The documented OneRoster 1.1 sample package (docs/formats), zipped, with a courses.csv
 * (listed in its manifest) that Rollcall does not read. */
function zipSample() {
  const folder = join(here, "..", "..", "docs", "formats", "oneroster-1.1-sample");
  const script = "import sys, zipfile, os, io\nb = io.BytesIO()\nwith zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:\n"
    + "    for n in sorted(os.listdir(sys.argv[1])):\n"
    + "        text = open(os.path.join(sys.argv[1], n), encoding='utf-8').read()\n"
    + "        z.writestr(n, text.replace('file.courses,absent', 'file.courses,bulk'))\n"
    + "    z.writestr('courses.csv', 'sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId\\ncourse-1,,,,Maths,M,,school-hs\\n')\n"
    + "sys.stdout.buffer.write(b.getvalue())\n";
  return execFileSync("python3", ["-c", script, folder]);
}

/** A person's status as the command line shows it. */
function statusOf(login) {
  const shown = cli(server.databaseUrl, "user", "show", login);
  return shown.split("\n")[0].match(/ (active|inactive|archived) /)?.[1];
}

async function signedInAdmin(t, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  t.after(() => context.close());
  const page = await context.newPage();
  await signInAccepted(page, server.address, "admin", ADMIN_PASSWORD);
  await page.waitForURL("**/users");
  return page;
}

/** Opens the Sources page from the menu and the upload page of `source`. */
async function openImport(page, source) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sources" }).click();
  await page.getByRole("heading", { name: "Sources", level: 1 }).waitFor();
  await page.getByRole("row", { name: new RegExp(`^${source}\\b`) }).getByRole("link", { name: "Import a file" }).click();
  await page.getByRole("heading", { name: `Import into ${source}` }).waitFor();
}

/** Chooses `file` and presses Preview; waits for the preview under the form. */
async function preview(page, file) {
  await page.getByLabel("Roster file (CSV, UTF-8)").setInputFiles(file);
  await page.getByRole("button", { name: "Preview" }).click();
  await page.locator("#preview section h2").waitFor();
}

describe("provisioning in the console", { concurrency: 1 }, () => {
  test("a file is previewed, then applied: missing students archived, a prevent-archiving person kept", async (t) => {
    cli(server.databaseUrl, "source", "add", "sis");
    const page = await signedInAdmin(t);
    await openImport(page, "sis");
    const first = roster("first.csv", [
      ["S1", "ali.sis", "Ali", "Sis", "student"],
      ["S2", "ben.sis", "Ben", "Sis", "student"],
      ["S3", "cat.sis", "Cat", "Sis", "student"],
      ["P0", "pupil0", "Pat", "Pupil0", "student"], // added by hand: linked, prevent-archiving kept
    ]);
    await preview(page, first);
    await page.getByRole("heading", { name: "Preview: nothing has changed yet" }).waitFor();
    const counts = await page.locator("#preview ul.counts").innerText();
    assert.match(counts, /3\s+created/);
    assert.match(counts, /1\s+linked/);
    assert.equal(statusOf("pupil0"), "active");
    assert.throws(() => statusOf("ali.sis"), "a preview creates nobody");
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, "import-preview-desktop");
    await page.getByRole("button", { name: "Apply this import" }).click();
    await page.waitForURL("**/runs/*");
    await page.getByRole("heading", { name: /first\.csv\s+Applied/ }).waitFor();
    assert.equal(statusOf("ali.sis"), "active");
    // The report names whom it created, and links to them.
    const ali = page.locator("#items tbody tr", { hasText: "S1" });
    assert.equal(await ali.locator("td").nth(2).innerText(), "Ali Sis");
    assert.ok(/\/users\/[0-9a-f-]{36}$/.test(await ali.getByRole("link", { name: "S1" }).getAttribute("href")));
    // On a phone, the link of the last person it created is reachable and opens their page.
    await page.setViewportSize(PHONE);
    await screenshot(page, "run-report-created-phone");
    const cat = page.locator("#items tbody tr", { hasText: "S3" }).getByRole("link", { name: "S3" });
    await expectReachable(page, cat);
    await cat.click();
    await page.getByRole("heading", { name: "Cat Sis" }).waitFor();
    await page.goBack();
    await page.setViewportSize(DESKTOP);

    // The next file leaves Ben, Cat and Pat out.
    await openImport(page, "sis");
    await preview(page, roster("second.csv", [["S1", "ali.sis", "Ali", "Sis", "student"]]));
    await page.getByLabel("Show").selectOption("archived");
    const shown = page.locator("#items tbody tr:not([hidden])");
    assert.equal(await shown.count(), 2, "the filter shows the two archived only");
    await page.getByLabel("Show").selectOption("kept");
    await page.locator("#items tbody tr:not([hidden])", { hasText: "prevent archiving is set" }).waitFor();
    await page.getByRole("button", { name: "Apply this import" }).click();
    await page.getByRole("heading", { name: /second\.csv\s+Applied/ }).waitFor();
    assert.equal(statusOf("ben.sis"), "archived");
    assert.equal(statusOf("cat.sis"), "archived");
    assert.equal(statusOf("pupil0"), "active", "prevent archiving keeps the person added by hand");
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, "run-report-desktop");

    // Pat's page says who manages them now, from which import, and that they are protected.
    await page.getByLabel("Show").selectOption("kept");
    await page.getByRole("link", { name: "P0" }).click();
    await page.getByRole("heading", { name: "Pat Pupil0" }).waitFor();
    const facts = await page.locator("dl.facts").innerText();
    assert.match(facts, /Source\s+sis/);
    assert.match(facts, /External id\s+P0/);
    assert.match(facts, /Last import\s+sis, \d{4}-\d\d-\d\d/);
    assert.ok(await page.getByLabel("Prevent from archiving").isChecked());
    await page.getByRole("link", { name: /^sis, / }).click();
    await page.getByRole("heading", { name: /first\.csv\s+Applied/ }).waitFor();
  });

  test("a bad file is refused with every problem by line and column, and nothing changes", async (t) => {
    const page = await signedInAdmin(t);
    await openImport(page, "sis");
    await preview(page, roster("bad.csv", [["S9", "dan.sis", "Dan", "Sis", "wizard"], ["S10", "eve.sis", "", "Sis", "student"]]));
    await page.getByRole("heading", { name: "This file cannot be imported" }).waitFor();
    const problems = page.locator("table.problems tbody tr");
    assert.equal(await problems.count(), 2);
    assert.match(await problems.nth(0).innerText(), /2\s+role\s+wizard/);
    assert.equal(await page.getByRole("button", { name: "Apply this import" }).count(), 0);
    await screenshot(page, "import-refused-desktop");
  });

  test("a mass removal is held; one person kept, the rest approved; then the import is undone", async (t) => {
    const page = await signedInAdmin(t);
    // A new source through the form, and a safeguard that holds more than 10% and 2 people.
    await page.goto(`${server.address}/sources`);
    await page.getByLabel("Name").fill("hr");
    // Each role has its own choice; staff no longer listed are deactivated, not kept.
    await page.getByLabel("Staff", { exact: true }).selectOption("deactivate");
    await page.getByRole("button", { name: "Add source" }).click();
    await page.getByText("Source added.").waitFor();
    const hrRow = page.locator("table.sources tbody tr", { has: page.locator("strong", { hasText: /^hr$/ }) });
    await hrRow.getByText("students archived, teachers kept, staff deactivated, admins kept").waitFor();
    await page.getByLabel("… and at least this many people").fill("2");
    await page.getByRole("button", { name: "Save safeguard" }).click();
    await page.getByText("Safeguard saved.").waitFor();
    const staff = [1, 2, 3, 4, 5, 6].map((i) => [`H${i}`, `hr${i}`, "Sam", `Staff${i}`, "student"]);
    cli(server.databaseUrl, "import", "--source", "hr", roster("hr-all.csv", staff));

    await openImport(page, "hr");
    await preview(page, roster("hr-short.csv", staff.slice(0, 2)));
    await page.getByRole("button", { name: "Apply this import" }).click();
    await page.getByRole("heading", { name: "Awaiting your approval" }).waitFor();
    assert.equal(statusOf("hr6"), "active", "nothing applied while held");
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, "run-held-desktop");
    await page.setViewportSize(PHONE);
    await screenshot(page, "run-held-phone");
    // The approval list names each person beside their external id.
    const row = page.locator("table.removals tbody tr", { hasText: "H6" });
    const name = (await row.locator("td").nth(2).innerText()).trim();
    assert.ok(name.length > 0, "H6's name is shown");
    const keep = page.getByRole("checkbox", { name: `Keep H6 (${name}) as they are` });
    await expectReachable(page, keep);
    await keep.check();
    const approve = page.getByRole("button", { name: "Approve and apply" });
    await expectReachable(page, approve);
    await approve.click();
    await page.getByRole("heading", { name: /hr-short\.csv\s+Applied/ }).waitFor();
    assert.equal(statusOf("hr5"), "archived");
    assert.equal(statusOf("hr6"), "active", "kept by the admin");

    const undoLink = page.getByRole("link", { name: "Undo this import…" });
    await expectReachable(page, undoLink);
    await undoLink.click();
    await page.getByRole("heading", { name: "Undo this import?" }).waitFor();
    await screenshot(page, "undo-confirm-phone");
    const undo = page.getByRole("button", { name: "Undo the import" });
    await expectReachable(page, undo);
    await undo.click();
    await page.getByRole("heading", { name: "Import undone" }).waitFor();
    await page.getByText("3 people are back").waitFor();
    assert.equal(statusOf("hr5"), "active");
    await page.getByRole("link", { name: "Back to the import" }).click();
    await page.getByRole("heading", { name: /hr-short\.csv\s+Undone/ }).waitFor();
  });

  test("a OneRoster package is uploaded as a zip: its parent skipped and counted, its people created or linked", async (t) => {
    const page = await signedInAdmin(t);
    await page.goto(`${server.address}/sources`);
    await page.getByLabel("Name").fill("oneroster");
    await page.getByLabel("It sends").selectOption("oneroster");
    await page.getByRole("button", { name: "Add source" }).click();
    await page.getByText("Source added.").waitFor();
    // The documented 1.1 sample package, zipped as the command line zips a folder.
    const zip = join(files, "sample-1.1.zip");
    writeFileSync(zip, zipSample());
    await openImport(page, "oneroster");
    await page.getByLabel("OneRoster package (zip)").setInputFiles(zip);
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByRole("heading", { name: "Preview: nothing has changed yet" }).waitFor();
    const counts = await page.locator("#preview ul.counts").innerText();
    // Ada, Zoë and Grace were added by hand (see harness.js): matched by username, linked.
    assert.match(counts, /2\s+created/);
    assert.match(counts, /3\s+linked/);
    assert.doesNotMatch(counts, /reactivated/, "Zoë, deactivated by an admin, stays inactive");
    assert.match(counts, /1\s+skipped/);
    // What the package would do to classes is in the preview too, before anything is applied.
    assert.match(await page.locator("#preview p.class-changes").innerText(), /In its classes: 1 class made, \d+ members added\./);
    assert.match(await page.locator("#preview table.class-lines").innerText(), /Mathematics 10\s+Grace Hopper\s+joined as teacher/);
    await page.getByLabel("Show").selectOption("skipped");
    await page.locator("#items tbody tr:not([hidden])", { hasText: "Rollcall does not manage parents and guardians" }).waitFor();
    await screenshot(page, "oneroster-preview-desktop");
    // At 390 px the preview's class list reads whole, and its last member opens their page.
    const phonePreview = await signedInAdmin(t, PHONE);
    await openImport(phonePreview, "oneroster");
    await phonePreview.getByLabel("OneRoster package (zip)").setInputFiles(zip);
    await phonePreview.getByRole("button", { name: "Preview" }).click();
    const lastMember = phonePreview.locator("#preview table.class-lines tbody tr").last().getByRole("link");
    await expectReachable(phonePreview, lastMember);
    assert.equal(await lastMember.innerText(), "Grace Hopper");
    await screenshot(phonePreview, "oneroster-preview-classes-phone");
    await lastMember.click();
    await phonePreview.getByRole("heading", { name: "Grace Hopper" }).waitFor();
    await page.getByRole("button", { name: "Apply this import" }).click();
    await page.getByRole("heading", { name: /sample-1\.1\.zip\s+Applied/ }).waitFor();
    assert.equal(statusOf("max.planck"), "inactive", "enabledUser=false");
    assert.equal(statusOf("grace.hopper"), "active");
    // The run's page says what it did to classes, beside the people it changed, and what of
    // the package it did not read.
    assert.match(await page.locator("p.class-changes").innerText(), /In its classes: 1 class made, \d+ members added\./);
    assert.match(await page.locator("p.run-note").first().innerText(), /^courses\.csv: not read/);
    assert.match(await page.locator("p.run-note", { hasText: "orgs.csv" }).innerText(),
      /^orgs\.csv: of the schools and districts this source names, 3 added/);
    await screenshot(page, "oneroster-run-desktop");
    // Change by change: the class made, and who joined it as what.
    const classLines = await page.locator("table.class-lines").innerText();
    assert.match(classLines, /Mathematics 10\s+class made/);
    assert.match(classLines, /Mathematics 10\s+Grace Hopper\s+joined as teacher/);
    assert.match(classLines, /Mathematics 10\s+Ada Lovelace\s+joined as student/);
    // At 390 px the list reads whole, and a member's name opens their page.
    const phone = await signedInAdmin(t, PHONE);
    await phone.goto(`${page.url()}#classes`);
    const grace = phone.locator("table.class-lines").getByRole("link", { name: "Grace Hopper" });
    await expectReachable(phone, grace);
    assert.deepEqual(await axeViolations(phone), []);
    await screenshot(phone, "oneroster-run-classes-phone");
    await grace.click();
    await phone.getByRole("heading", { name: "Grace Hopper" }).waitFor();
    // Before an undo, the confirmation says what the run did to classes too (then Cancel).
    await page.getByRole("link", { name: "Undo this import…" }).click();
    await page.getByRole("heading", { name: "Undo this import?" }).waitFor();
    assert.match(await page.locator("main").innerText(), /In its classes: 1 class made, \d+ members added\./);
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.getByRole("heading", { name: /sample-1\.1\.zip\s+Applied/ }).waitFor();

    // Its class is a roster: Grace, who teaches it, signs in and sees it under My rosters.
    const context = await browser.newContext({ viewport: PHONE });
    t.after(() => context.close());
    const teacher = await context.newPage();
    await signInAccepted(teacher, server.address, "grace.hopper", TEACHER_PASSWORD);
    await teacher.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rosters" }).click();
    await teacher.getByRole("heading", { name: "My rosters" }).waitFor();
    await teacher.getByRole("link", { name: "Mathematics 10" }).click();
    await teacher.getByRole("heading", { name: "Mathematics 10" }).waitFor();
    const members = await teacher.locator("table.members tbody").innerText();
    assert.match(members, /Grace Hopper/);
    assert.match(members, /Ada Lovelace/);
    assert.doesNotMatch(members, /Max Planck/, "last year's enrolment has ended");
    assert.deepEqual(await axeViolations(teacher), []);
    await screenshot(teacher, "roster-teacher-phone");
  });

  test("at 390 px a source is paused and resumed, and a held run is rejected", async (t) => {
    const page = await signedInAdmin(t, PHONE);
    await page.goto(`${server.address}/sources`);
    const row = page.getByRole("row", { name: /^sis\b/ });
    const pause = row.getByRole("button", { name: "Pause" });
    await expectReachable(page, pause);
    await pause.click();
    await page.getByText("Source paused").waitFor();
    assert.equal(await row.getByRole("link", { name: "Import a file" }).count(), 0, "a paused source takes no file");
    const resume = row.getByRole("button", { name: "Resume" });
    await expectReachable(page, resume);
    await resume.click();
    await page.getByText("Source resumed.").waitFor();
    await expectReachable(page, row.getByRole("link", { name: "Import a file" }));

    // One of hr's six people in a file: a mass removal, held; rejected, nothing changes.
    assert.throws(() => cli(server.databaseUrl, "import", "--source", "hr",
      roster("hr-one.csv", [["H1", "hr1", "Sam", "Staff1", "student"]])), /held for approval/);
    await page.getByRole("link", { name: "Import history" }).click();
    await page.getByRole("heading", { name: "Import history" }).waitFor();
    const held = page.getByRole("row", { name: /hr-one\.csv\s+Awaiting approval/ }).getByRole("link");
    await expectReachable(page, held);
    await held.click();
    await page.getByRole("heading", { name: "Awaiting your approval" }).waitFor();
    const reject = page.getByRole("button", { name: "Reject: apply nothing" });
    await expectReachable(page, reject);
    await reject.click();
    await page.getByRole("heading", { name: /hr-one\.csv\s+Rejected/ }).waitFor();
    await page.getByText("Rejected by Dana Whitfield at").waitFor();
    assert.equal(statusOf("hr6"), "active");
    await screenshot(page, "run-rejected-phone");
  });

  test("a drop folder is named on the Sources page; a file delivered there is imported, then it is no longer watched", async (t) => {
    cli(server.databaseUrl, "source", "add", "nightly");
    const page = await signedInAdmin(t);
    await page.goto(`${server.address}/sources`);
    const row = () => page.getByRole("row", { name: /^nightly\b/ });
    await row().getByText("Watch a drop folder").click();
    const folder = row().getByLabel("Folder for nightly's files");
    await expectReachable(page, folder);
    // A path that climbs out of the org's own folder is refused, and nothing is watched.
    await folder.fill("../elsewhere");
    await row().getByRole("button", { name: "Watch this folder" }).click();
    await page.getByText("must be a folder name under your organisation's drop folder").waitFor();
    await page.goto(`${server.address}/sources`);
    assert.equal(await row().getByText("are imported as they arrive").count(), 0);

    await row().getByText("Watch a drop folder").click();
    await row().getByLabel("Folder for nightly's files").fill("sis/nightly");
    await row().getByRole("button", { name: "Watch this folder" }).click();
    await page.getByText("Drop folder saved").waitFor();
    const watched = join(dropRoot, "northfield", "sis", "nightly");
    await row().getByText(watched).waitFor();
    await screenshot(page, "sources-drop-folder-desktop");

    // The file arrives (as SFTP would deliver it); the server imports it and moves it aside.
    mkdirSync(watched, { recursive: true });
    writeFileSync(join(watched, "tonight.csv"),
      "external_id,username,given_name,family_name,role\nN1,nia.night,Nia,Night,student\n");
    const processed = join(watched, "processed");
    for (let i = 0; i < 100 && !(existsSync(processed) && readdirSync(processed).length); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.match(readdirSync(processed).join(" "), /-applied-tonight\.csv/);
    assert.equal(statusOf("nia.night"), "active");
    await page.getByRole("link", { name: "Import history" }).click();
    await page.getByRole("row", { name: /tonight\.csv\s+Applied/ }).waitFor();

    await page.goto(`${server.address}/sources`);
    await row().getByText("Change drop folder").click();
    assert.equal(await row().getByLabel("Folder for nightly's files").inputValue(), "sis/nightly");
    await row().getByRole("button", { name: "Stop watching" }).click();
    await page.getByText("no longer watched").waitFor();
    assert.equal(await row().getByText("are imported as they arrive").count(), 0);
  });

  test("the Sources page and the history read well at 390 px", async (t) => {
    const page = await signedInAdmin(t, PHONE);
    await page.goto(`${server.address}/sources`);
    await page.getByRole("heading", { name: "Sources", level: 1 }).waitFor();
    // sis is the table's last row: its drop folder is named, changed and dropped with a thumb.
    const sis = () => page.getByRole("row", { name: /^sis\b/ });
    const drop = sis().getByText("Watch a drop folder");
    await expectReachable(page, drop);
    await drop.click();
    const folder = sis().getByLabel("Folder for sis's files");
    await expectReachable(page, folder);
    await folder.fill("sis");
    const watch = sis().getByRole("button", { name: "Watch this folder" });
    await expectReachable(page, watch);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, "sources-phone");
    await watch.click();
    await page.getByText("Drop folder saved").waitFor();
    const change = sis().getByText("Change drop folder");
    await expectReachable(page, change);
    await change.click();
    const stop = sis().getByRole("button", { name: "Stop watching" });
    await expectReachable(page, stop);
    await screenshot(page, "sources-drop-folder-phone");
    await stop.click();
    await page.getByText("no longer watched").waitFor();
    assert.equal(await sis().getByText("are imported as they arrive").count(), 0);
    await page.getByRole("link", { name: "Import history" }).click();
    await page.getByRole("heading", { name: "Import history" }).waitFor();
    await screenshot(page, "runs-phone");
    await page.setViewportSize(DESKTOP);
    await screenshot(page, "runs-desktop");
  });
});

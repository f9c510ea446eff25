// Segments in the console, clicked through in Chromium against the real binary: an admin writes
// a rule and watches the count and preview follow it (an unknown field refused with its place),
// saves the segment, sees its members with the inactive one marked and the archived one left
// out, changes its rule, and deletes it after confirming.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN_PASSWORD, axeViolations, cli, expectReachable, launchBrowser, policyRefusals, screenshot,
  signInAccepted, startServer,
} from "./harness.js";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const add = (username, given, family, location) => cli(server.databaseUrl, "user", "add",
    "--username", username, "--email", `${username}@northfield.example`, "--given-name", given,
    "--family-name", family, "--role", "student", "--attribute", `location=${location}`,
    "--attribute", "year=7");
  add("ines.harbour", "Ines", "Abara", "Harbour");
  add("jon.harbour", "Jon", "Baptiste", "Harbour");
  add("kai.harbour", "Kai", "Castell", "Harbour Point");
  add("lea.hill", "Lea", "Dunmore", "Hill");
  add("max.harbour", "Max", "Esterhazy", "Harbour");
  cli(server.databaseUrl, "user", "deactivate", "--org", "northfield", "jon.harbour", "--reason", "away");
  cli(server.databaseUrl, "user", "deactivate", "--org", "northfield", "max.harbour", "--reason", "left");
  cli(server.databaseUrl, "user", "archive", "--org", "northfield", "max.harbour", "--reason", "left");
});

after(async () => {
  await browser?.close();
  server?.stop();
  assert.deepEqual(policyRefusals, [], "no page lost a script or style to its security policy");
});

async function press(page, locator) {
  await expectReachable(page, locator);
  await locator.click();
}

test("an admin builds a segment with a live count, saves, changes and deletes it", async (t) => {
  const context = await browser.newContext({ viewport: DESKTOP });
  t.after(() => context.close());
  const admin = await context.newPage();
  await signInAccepted(admin, server.address, "admin", ADMIN_PASSWORD);

  await admin.goto(`${server.address}/users`);
  await press(admin, admin.getByRole("link", { name: "Segments", exact: true }));
  await admin.getByRole("heading", { name: "Segments", level: 1 }).waitFor();
  const preview = admin.locator("#segment-preview");

  // A field no one has is refused, saying where.
  await admin.getByLabel("Rule").fill("shoe_size = 9");
  await preview.getByText("'shoe_size' is not a field").waitFor();
  assert.match(await preview.textContent(), /at character 1/);

  // The count follows the rule as it is typed: the archived student is never counted.
  await admin.getByLabel("Rule").fill("location = harbour");
  await preview.getByText("match").waitFor();
  assert.match(await preview.textContent(), /1\s+active and\s+1\s+inactive people match/);
  await admin.getByLabel("Rule").fill("location prefix harbour and year = 7");
  await preview.getByText("Kai Castell").waitFor();
  const text = await preview.textContent();
  assert.match(text, /2\s+active and\s+1\s+inactive people match/);
  assert.doesNotMatch(text, /Esterhazy/, "the archived student is left out");
  assert.deepEqual(await axeViolations(admin), []);
  await screenshot(admin, "segments-builder-desktop");

  await admin.getByLabel("Segment name").fill("Harbour campus");
  await press(admin, admin.getByRole("button", { name: "Save segment" }));
  await admin.getByRole("heading", { name: /Harbour campus/ }).waitFor();
  await admin.getByText("Segment saved.").waitFor();
  const rows = admin.locator("table tbody tr");
  assert.equal(await rows.count(), 3);
  assert.match(await rows.nth(1).textContent(), /Jon Baptiste\s*Inactive/);
  assert.deepEqual(await axeViolations(admin), []);
  await screenshot(admin, "segment-desktop");

  // A message reaches the two active members; the inactive one's is kept unsent.
  assert.match(await admin.locator("#reach").textContent(), /reaches\s+2\s+active people.*1 inactive/s);
  await admin.getByLabel("Subject").fill("Harbour trip");
  await admin.getByLabel("Message").fill("The boat leaves at nine.");
  await press(admin, admin.getByRole("button", { name: "Send to 2 people" }));
  await admin.getByText("Message queued for 2 people; 1 kept unsent").waitFor();
  await admin.goto(`${server.address}/outbox`);
  assert.equal(await admin.getByText("Harbour trip").count(), 3, "every member's message is in the outbox");
  await admin.goBack();

  // The same name twice is refused; a changed rule is saved.
  await admin.goto(`${server.address}/segments`);
  await admin.getByLabel("Segment name").fill("HARBOUR campus");
  await admin.getByLabel("Rule").fill("year = 7");
  await press(admin, admin.getByRole("button", { name: "Save segment" }));
  await admin.getByRole("alert").getByText("already has a segment of that name").waitFor();
  await press(admin, admin.getByRole("link", { name: "Harbour campus" }));
  await admin.getByLabel("Rule").fill("location = hill");
  await preview.getByText("Lea Dunmore").waitFor();
  await press(admin, admin.getByRole("button", { name: "Save changes" }));
  await admin.getByText("Segment changed.").waitFor();
  assert.equal(await admin.locator("table tbody tr").count(), 1);

  // Deleting asks first.
  await press(admin, admin.getByText("Delete this segment…"));
  await press(admin, admin.getByLabel(/Delete the segment Harbour campus/));
  await press(admin, admin.getByRole("button", { name: "Delete Harbour campus" }));
  await admin.getByText("Segment deleted.").waitFor();
  await admin.getByText("No segments yet.").waitFor();
});

test("on a phone, a segment is built, opened, written to, followed to a member and deleted", async (t) => {
  const context = await browser.newContext({ viewport: PHONE });
  t.after(() => context.close());
  const admin = await context.newPage();
  await signInAccepted(admin, server.address, "admin", ADMIN_PASSWORD);
  await admin.goto(`${server.address}/segments`);
  await admin.getByLabel("Segment name").fill("Year 7");
  await admin.getByLabel("Rule").fill("year = 7");
  await admin.locator("#segment-preview").getByText("Ines Abara").waitFor();
  const width = await admin.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scroll (${width}px)`);
  await screenshot(admin, "segments-builder-phone");
  await press(admin, admin.getByRole("button", { name: "Save segment" }));
  await admin.getByText("Segment saved.").waitFor();

  // Opened from the list, where it is the one row.
  await admin.goto(`${server.address}/segments`);
  assert.equal(await admin.locator("table.segments tbody tr").count(), 1);
  await press(admin, admin.getByRole("link", { name: "Year 7" }));
  await admin.getByRole("heading", { name: /Year 7/ }).waitFor();
  assert.ok(await admin.evaluate(() => document.documentElement.scrollWidth) <= PHONE.width);
  await screenshot(admin, "segment-phone");

  // Its last member's name leads to their page.
  const members = admin.locator("table.segments tbody tr");
  assert.equal(await members.count(), 4);
  await press(admin, members.last().getByRole("link"));
  await admin.getByRole("heading", { name: /Lea Dunmore/ }).waitFor();
  await admin.goBack();

  await admin.getByLabel("Subject").fill("Sports day");
  await admin.getByLabel("Message").fill("Bring trainers on Thursday.");
  await press(admin, admin.getByRole("button", { name: "Send to 3 people" }));
  await admin.getByText("Message queued for 3 people; 1 kept unsent").waitFor();

  await press(admin, admin.getByText("Delete this segment…"));
  await press(admin, admin.getByLabel(/Delete the segment Year 7/));
  await press(admin, admin.getByRole("button", { name: "Delete Year 7" }));
  await admin.getByText("Segment deleted.").waitFor();
});

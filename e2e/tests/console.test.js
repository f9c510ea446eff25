// The console, clicked through in Chromium against the real binary. One server for the file;
// each test signs in on its own page and works on its own people (see harness.js), so the tests
// pass in any order, and one alone (`node --test --test-name-pattern=...`).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN_PASSWORD, TEACHER_PASSWORD, axeViolations, expectReachable, launchBrowser, policyRefusals,
  screenshot, signIn, signInAccepted, startServer,
} from "./harness.js";

let server;
let browser;

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.stop();
  assert.deepEqual(policyRefusals, [], "no page lost a script or style to its security policy");
});

/** A page of its own, signed in as the admin, on the Users screen. Closed by `t.after`. */
async function signedInAdmin(t, options = {}) {
  const context = await browser.newContext({ viewport: DESKTOP, ...options });
  t.after(() => context.close());
  const page = await context.newPage();
  await signInAccepted(page, server.address, "admin", ADMIN_PASSWORD);
  await page.waitForURL("**/users");
  return page;
}

async function rowOf(page, name) {
  return page.locator("table.users tbody tr", { hasText: name });
}


/** Waits until htmx has swapped and settled what it asked for. (`waitForLoadState` would not
 *  do: once a page has loaded, it answers at once, whatever is still in flight.) */
async function settled(page) {
  await page.waitForFunction(() => !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling"));
}

async function search(page, words) {
  // The answer to these words, not to an earlier keystroke or filter.
  const results = page.waitForResponse((r) => r.request().method() === "GET"
    && r.url().includes("/users?") && new URL(r.url()).searchParams.get("q") === words);
  await page.getByLabel("Search").fill(words);
  await (await results).finished();
  await settled(page);
}

async function filter(page, status) {
  // A change made just before (a status, the ⋯ menu) has the list read itself again: that
  // refresh, still in flight, could land after this filter's answer and replace it.
  await settled(page);
  const results = page.waitForResponse((r) => r.url().includes(`status=${status}`));
  await page.getByLabel("Status").selectOption(status);
  await (await results).finished();
  await settled(page);
}

// Two at a time: the tests share nothing but the server, and running them out of order keeps
// it that way.
describe("the console", { concurrency: 2 }, () => {
  test("the sign-in page is accessible and refuses a wrong password without saying why", async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    await page.goto(`${server.address}/sign-in`);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, "sign-in-desktop");
    await page.setViewportSize(PHONE);
    await screenshot(page, "sign-in-phone");
    await signIn(page, server.address, "admin", "not the password");
    await page.getByText("do not match").waitFor();
    await signIn(page, server.address, "nobody-here", "not the password");
    await page.getByText("do not match").waitFor();
    await page.close();
  });

  test("an admin signs in and lands on the Users screen", async (t) => {
    const admin = await signedInAdmin(t);
    await admin.getByRole("heading", { name: "Users" }).waitFor();
    assert.match(await admin.locator("#match-count").innerText(), /\d+ users/);
    assert.deepEqual(await axeViolations(admin), []);
    await screenshot(admin, "users-desktop");
    await admin.setViewportSize(PHONE);
    await screenshot(admin, "users-phone");
    // On a phone the selection count and both bulk actions share one line, each fully shown.
    const bar = admin.locator("#bulk");
    const parts = [bar.locator("#selected-count"), bar.getByRole("button", { name: "Deactivate selected" }),
      bar.getByRole("button", { name: "Reactivate selected" })];
    const boxes = await Promise.all(parts.map((part) => part.boundingBox()));
    for (const box of boxes) {
      assert.ok(Math.abs(box.y + box.height / 2 - (boxes[1].y + boxes[1].height / 2)) < 4, "one line");
      assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, "inside the screen");
    }
    for (const button of parts.slice(1)) await expectReachable(admin, button);
    await admin.setViewportSize(DESKTOP);
  });

  test("search finds people as you type, ignoring case and accents", async (t) => {
    const admin = await signedInAdmin(t);
    // Each keystroke's answer is the results alone, not the page with its form again.
    const answer = admin.waitForResponse((r) => r.url().includes("/users?") && r.url().includes("q=ADA"));
    await search(admin, "ADA love");
    const fragment = await (await answer).text();
    assert.ok(!fragment.includes('id="q"'), "no search form in the answer");
    assert.ok(fragment.length < 20000, `a small answer: ${fragment.length} bytes`);
    const rows = admin.locator("table.users tbody tr");
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /Lovelace, Ada/);
    await filter(admin, "all");
    await search(admin, "zoe ORSTED");
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /Ørsted, Zoë/);
  });

  test("deactivating from the status column ends the user's session and sign-in at once", async (t) => {
    const admin = await signedInAdmin(t);
    // Grace is signed in elsewhere.
    const graceContext = await browser.newContext({ viewport: DESKTOP });
    const grace = await graceContext.newPage();
    await signInAccepted(grace, server.address, "grace.hopper", TEACHER_PASSWORD);
    await grace.waitForURL("**/my/courses");
    await grace.getByRole("heading", { name: "My courses" }).waitFor();

    await search(admin, "hopper");
    const row = await rowOf(admin, "Hopper, Grace");
    await row.getByRole("link", { name: "Active. Deactivate Grace Hopper" }).click();
    const dialog = admin.locator("dialog#dialog");
    await dialog.getByRole("heading", { name: "Deactivate Grace Hopper?" }).waitFor();
    await dialog.getByLabel(/Reason/).fill("Left mid-term");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await admin.locator("#flash").getByText("Grace Hopper is now inactive.").waitFor();
    await (await rowOf(admin, "Hopper, Grace")).waitFor({ state: "detached" });

    await filter(admin, "inactive");
    await (await rowOf(admin, "Hopper, Grace")).waitFor();
    assert.equal((await admin.locator("#flash").innerText()).trim(), "", "the message went with the next search");

    // Her open session is refused at the very next request, and so is a new sign-in.
    await grace.reload();
    await grace.waitForURL("**/sign-in?expired=1");
    await signIn(grace, server.address, "grace.hopper", TEACHER_PASSWORD);
    await grace.getByText("This account is not active").waitFor();
    await graceContext.close();
  });

  test("the edit dialog reactivates a user with the Active toggle and Update", async (t) => {
    const admin = await signedInAdmin(t);
    await filter(admin, "inactive");
    await search(admin, "lamarr");
    const row = await rowOf(admin, "Lamarr, Hedy");
    await row.getByRole("link", { name: "Edit Hedy Lamarr" }).click();
    const dialog = admin.locator("dialog#dialog");
    await dialog.getByRole("heading", { name: "Edit Hedy Lamarr" }).waitFor();
    assert.deepEqual(await axeViolations(admin), []);
    await screenshot(admin, "edit-dialog-desktop");
    await admin.setViewportSize(PHONE);
    await screenshot(admin, "edit-dialog-phone");
    for (const control of [dialog.getByRole("switch", { name: "Active" }),
      dialog.getByLabel(/Reason for a status change/), dialog.getByRole("button", { name: "Update" })]) {
      await expectReachable(admin, control);
    }
    await admin.setViewportSize(DESKTOP);
    await dialog.getByRole("switch", { name: "Active" }).check();
    await dialog.getByLabel(/Reason for a status change/).fill("Back from leave");
    await dialog.getByRole("button", { name: "Update" }).click();
    await admin.locator("#flash").getByText("Hedy Lamarr is now active.").waitFor();
    await (await rowOf(admin, "Lamarr, Hedy")).waitFor({ state: "detached" });
    await admin.locator("#match-count").getByText("0 users").waitFor();
    await admin.getByText("No users match").waitFor();
    // Still searching for her: under Active she is found.
    await filter(admin, "active");
    await (await rowOf(admin, "Lamarr, Hedy")).getByRole("link", { name: "Lamarr, Hedy" }).click();
    await admin.getByRole("cell", { name: "Back from leave" }).waitFor();

    const hedy = await browser.newPage({ viewport: DESKTOP });
    await signInAccepted(hedy, server.address, "hedy.lamarr", TEACHER_PASSWORD);
    await hedy.waitForURL("**/my/courses");
    await hedy.close();
  });

  test("reactivating a username-only user gives a temporary password they must change", async (t) => {
    const admin = await signedInAdmin(t);
    await filter(admin, "inactive");
    await search(admin, "zoe");
    const row = await rowOf(admin, "Ørsted, Zoë");
    await row.getByRole("link", { name: "Inactive. Reactivate Zoë Ørsted" }).click();
    const dialog = admin.locator("dialog#dialog");
    await dialog.getByText("Temporary password").first().waitFor();
    await dialog.getByRole("button", { name: "Confirm" }).click();
    const secret = await dialog.locator("#temporary-password").innerText();
    assert.match(secret, /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    // Behind the dialog the list has read itself again: Zoë left the Inactive filter.
    await (await rowOf(admin, "Ørsted, Zoë")).waitFor({ state: "detached" });
    await dialog.getByRole("button", { name: "Done" }).click();
    await admin.locator("#match-count").getByText("0 users").waitFor();
    await admin.getByText("No users match").waitFor();
    assert.equal(await admin.getByRole("button", { name: "Deactivate selected" }).count(), 0, "no bulk bar over nothing");

    const zoe = await browser.newPage({ viewport: PHONE });
    await signInAccepted(zoe, server.address, "zoe.orsted", secret);
    await zoe.waitForURL("**/account");
    await zoe.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await zoe.goto(`${server.address}/users`);
    await zoe.waitForURL("**/account");
    await zoe.getByLabel("Current password").fill(secret);
    await zoe.getByLabel("New password", { exact: true }).fill("short");
    await zoe.getByLabel("New password, again").fill("short");
    await zoe.getByRole("button", { name: "Change password" }).click();
    await zoe.getByText("New password is too short: use at least 10 characters.").waitFor();
    await zoe.getByLabel("Current password").fill(secret);
    await zoe.getByLabel("New password", { exact: true }).fill("my own river stone");
    await zoe.getByLabel("New password, again").fill("my own river stone");
    await zoe.getByRole("button", { name: "Change password" }).click();
    // Home, a learner's courses, says the password is set.
    await zoe.getByRole("heading", { name: "My courses" }).waitFor();
    await zoe.locator("#flash").getByText("Your new password is set.", { exact: false }).waitFor();
    await zoe.getByRole("link", { name: "Zoë Ørsted" }).click();
    await zoe.getByRole("heading", { name: "Your account" }).waitFor();
    // The role reads as the Users list writes it.
    assert.equal(await zoe.locator("dl.facts dd").nth(2).innerText(), "Student");
    await screenshot(zoe, "account-phone");
    await zoe.close();
  });

  test("three users are deactivated together after confirming the count", async (t) => {
    const admin = await signedInAdmin(t);
    await search(admin, "bulk");
    for (const name of ["Bulk, Bea", "Bulk, Bo", "Bulk, Bram"]) {
      await (await rowOf(admin, name)).getByRole("checkbox").check();
    }
    await admin.getByRole("button", { name: "Deactivate selected" }).click();
    const dialog = admin.locator("dialog#dialog");
    await dialog.getByRole("heading", { name: "Deactivate 3 users?" }).waitFor();
    await screenshot(admin, "bulk-confirm-desktop");
    await dialog.getByRole("button", { name: "Deactivate 3 users" }).click();
    await admin.getByText("3 users now inactive.").waitFor();
    await admin.getByRole("link", { name: "Back to users" }).click();
    await admin.waitForURL(/q=bulk/);
    assert.equal(await admin.locator("table.users tbody tr").count(), 0, "they left the Active list");
    await filter(admin, "inactive");
    assert.equal(await admin.locator("table.users tbody tr").count(), 3, "and are under Inactive");
  });

  test("selected users are written to, and the preview says who is left out and why", async (t) => {
    const admin = await signedInAdmin(t);
    await filter(admin, "all");
    // Ada has an address, Pat has none, Mary is inactive.
    for (const name of ["Lovelace, Ada", "Pupil0, Pat", "Somerville, Mary"]) {
      await (await rowOf(admin, name)).getByRole("checkbox").check();
    }
    await admin.getByRole("button", { name: "Write to selected" }).click();
    const dialog = admin.locator("dialog#dialog");
    await dialog.getByRole("heading", { name: "Write to 3 selected users" }).waitFor();
    const reach = await dialog.locator("#reach").innerText();
    assert.match(reach, /It reaches 1 active person\./);
    assert.match(reach, /1 inactive/);
    assert.match(reach, /1 without an e-mail address/);
    assert.deepEqual(await axeViolations(admin), []);
    await screenshot(admin, "write-selected-desktop");
    // At phone width the button and the dialog's controls can be reached and pressed too.
    await dialog.getByRole("link", { name: "Cancel" }).click();
    await admin.setViewportSize(PHONE);
    const write = admin.locator("#bulk").getByRole("button", { name: "Write" });
    await expectReachable(admin, write);
    await write.click();
    await dialog.getByRole("heading", { name: "Write to 3 selected users" }).waitFor();
    await expectReachable(admin, dialog.getByRole("button", { name: "Send to 1 person" }));
    await screenshot(admin, "write-selected-phone");
    await dialog.getByLabel("Subject").fill("Trip on Friday");
    await dialog.getByLabel("Message").fill("Bring a packed lunch.");
    await dialog.getByRole("button", { name: "Send to 1 person" }).click();
    await admin.getByText("1 message queued for delivery.").waitFor();
    await admin.getByText(/2 kept unsent in the outbox/).waitFor();
    await admin.goto(`${server.address}/outbox`);
    assert.ok(await admin.getByRole("cell", { name: "ada.lovelace@northfield.example" }).count() >= 1);
  });

  test("a user's page shows details, the status switch and the history", async (t) => {
    const admin = await signedInAdmin(t);
    await filter(admin, "all");
    await search(admin, "somerville");
    await (await rowOf(admin, "Somerville, Mary")).getByRole("link", { name: "Somerville, Mary" }).click();
    await admin.getByRole("heading", { name: "Mary Somerville" }).waitFor();
    await admin.getByRole("cell", { name: "Sabbatical" }).waitFor();
    assert.deepEqual(await axeViolations(admin), []);
    await screenshot(admin, "user-page-desktop");
    await admin.setViewportSize(PHONE);
    await screenshot(admin, "user-page-phone");
    await admin.setViewportSize(DESKTOP);
  });

  test("on a user's page the switch and Update change the status with the details, and say so", async (t) => {
    const admin = await signedInAdmin(t, { viewport: PHONE });
    await search(admin, "curie");
    await (await rowOf(admin, "Curie, Marie")).getByRole("link", { name: "Curie, Marie" }).click();
    await admin.getByRole("heading", { name: "Marie Curie" }).waitFor();
    const prevent = admin.getByRole("checkbox", { name: "Prevent from archiving" });
    await expectReachable(admin, prevent);
    assert.equal(await admin.getByRole("switch", { name: "Prevent from archiving" }).count(), 0, "a checkbox, as its hint says");
    const active = admin.getByRole("switch", { name: "Active" });
    await expectReachable(admin, active);
    await active.uncheck();
    const reason = admin.getByLabel(/Reason for a status change/);
    await expectReachable(admin, reason);
    await reason.fill("Parental leave");
    await admin.getByLabel("Given name").fill("Maria");
    const update = admin.getByRole("button", { name: "Update" });
    await expectReachable(admin, update);
    await update.click();
    await admin.getByText("Saved. Maria Curie is now inactive.").waitFor();
    assert.equal(await admin.getByRole("switch", { name: "Active" }).isChecked(), false);
    await admin.getByRole("heading", { name: "Maria Curie" }).waitFor();
    const why = admin.getByRole("cell", { name: "Parental leave" });
    await why.waitFor();
    const line = await admin.locator("table.history tbody tr", { hasText: "Parental leave" }).innerText();
    assert.match(line, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/, "to the second");
    await screenshot(admin, "user-page-after-update-phone");
    assert.deepEqual(await axeViolations(admin), []);
  });

  test("an admin adds a user and gives them temporary passwords, each shown once", async (t) => {
    const admin = await signedInAdmin(t, { viewport: PHONE });
    const add = admin.getByRole("link", { name: "Add user" });
    await expectReachable(admin, add);
    await add.click();
    await admin.getByRole("heading", { name: "Add a user" }).waitFor();
    assert.equal(await admin.getByRole("checkbox", { name: "Prevent from archiving" }).isChecked(), true,
      "as for anyone added by hand");
    await admin.getByLabel("Given name").fill("Katherine");
    await admin.getByLabel("Family name").fill("Johnson");
    await admin.getByLabel("Username").fill("katherine.johnson");
    await admin.getByLabel("Role").selectOption("teacher");
    await admin.getByLabel(/Temporary password/).fill("short");
    await admin.getByRole("button", { name: "Add user" }).click();
    await admin.getByRole("alert").getByText(/too short/).waitFor();
    await admin.getByLabel(/Temporary password/).fill("");
    await screenshot(admin, "add-user-phone");
    const submit = admin.getByRole("button", { name: "Add user" });
    await expectReachable(admin, submit);
    await submit.click();
    await admin.getByRole("heading", { name: "Katherine Johnson" }).waitFor();
    await admin.getByText("Katherine Johnson was added.", { exact: false }).waitFor();
    const first = await admin.locator("#temporary-password").innerText();
    assert.match(first, /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);

    const katherine = await browser.newPage({ viewport: PHONE });
    await signInAccepted(katherine, server.address, "katherine.johnson", first);
    await katherine.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await katherine.close();

    const reset = admin.getByRole("button", { name: "Set a temporary password" });
    await expectReachable(admin, reset);
    await reset.click();
    await admin.getByText(/has a new temporary password/).waitFor();
    const second = await admin.locator("#temporary-password").innerText();
    assert.notEqual(second, first);
    await screenshot(admin, "user-page-new-password-phone");
    assert.deepEqual(await axeViolations(admin), []);
  });

  test("a change without the CSRF token is refused and changes nothing", async (t) => {
    const admin = await signedInAdmin(t);
    await search(admin, "noether");
    await (await rowOf(admin, "Noether, Emmy")).getByRole("link", { name: "Noether, Emmy" }).click();
    await admin.getByRole("heading", { name: "Emmy Noether" }).waitFor();
    const id = admin.url().split("/users/")[1];
    const response = await admin.request.post(`${server.address}/users/${id}/status`, {
      form: { to: "inactive", version: "1" },
    });
    assert.equal(response.status(), 403);
    await admin.reload();
    assert.equal(await admin.getByRole("switch", { name: "Active" }).isChecked(), true);
  });

  test("a list refresh still in flight gives way to a filter picked after it", async (t) => {
    const admin = await signedInAdmin(t);
    // On a slow network: the refresh that follows a change is on its way when the filter is
    // picked, and would land first, so the filter's answer would have nowhere to go.
    let refreshed;
    const refreshDone = new Promise((resolve) => { refreshed = resolve; });
    const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    await admin.route((url) => url.pathname === "/users", async (route) => {
      if (route.request().headers()["x-rollcall-refresh"]) {
        await wait(300);
        // Cancelled by the page meanwhile (as it should be), the request cannot go on.
        await route.continue().catch(() => {});
        refreshed();
      } else {
        if (new URL(route.request().url()).searchParams.get("status") === "inactive") await wait(1200);
        await route.continue().catch(() => {});
      }
    });
    await search(admin, "pupil3");
    await (await rowOf(admin, "Pupil3, Pat")).getByRole("link", { name: "Active. Deactivate Pat Pupil3" }).click();
    const dialog = admin.locator("dialog#dialog");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await admin.locator("#flash").getByText("Pat Pupil3 is now inactive.").waitFor();

    // The Inactive filter is picked while the Active list's refresh is still on its way.
    const answer = admin.waitForResponse((r) => r.url().includes("status=inactive"));
    await admin.getByLabel("Status").selectOption("inactive");
    await (await answer).finished();
    await refreshDone;
    await settled(admin);
    await (await rowOf(admin, "Pupil3, Pat")).waitFor();
    assert.equal(await admin.getByLabel("Status").inputValue(), "inactive");
    assert.equal(await admin.locator("table.users tbody tr").count(), 1, "the Inactive list, not the old Active one");
  });

  test("without JavaScript, deactivating goes through a confirmation page", async (t) => {
    const page = await signedInAdmin(t, { javaScriptEnabled: false });
    await page.getByLabel("Search").fill("pupil0");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=pupil0/);
    await page.getByRole("link", { name: "Active. Deactivate Pat Pupil0" }).click();
    await page.getByRole("heading", { name: "Deactivate Pat Pupil0?" }).waitFor();
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByText("Pat Pupil0 is now inactive.").waitFor();
    await page.getByRole("link", { name: "Back to users" }).click();
    assert.equal(await page.locator("table.users tbody tr").count(), 0);
  });

  test("the ⋯ menu archives and restores a person, on the last row of a one-row result, at 390 px", async (t) => {
    const admin = await signedInAdmin(t, { viewport: PHONE });
    await search(admin, "franklin");
    assert.equal(await admin.locator("table.users tbody tr").count(), 1);
    const menuButton = admin.getByLabel("More actions for Rosalind Franklin");
    await menuButton.click();
    const archive = admin.getByRole("link", { name: "Archive", exact: true });
    await archive.waitFor();
    await expectReachable(admin, archive);
    await screenshot(admin, "row-menu-phone");
    await admin.keyboard.press("Escape");
    await archive.waitFor({ state: "hidden" });
    await menuButton.click();
    await archive.click();
    const dialog = admin.locator("dialog#dialog");
    await dialog.getByRole("heading", { name: /Archive Rosalind Franklin/ }).waitFor();
    await dialog.getByText("leave search and rosters").waitFor();
    await screenshot(admin, "archive-confirm-phone");
    await dialog.getByLabel(/Reason/).fill("Left the school");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await admin.locator("#flash").getByText("Rosalind Franklin is now archived.").waitFor();
    await (await rowOf(admin, "Franklin, Rosalind")).waitFor({ state: "detached" });

    await filter(admin, "archived");
    await admin.getByLabel("More actions for Rosalind Franklin").click();
    const restore = admin.getByRole("link", { name: "Restore", exact: true });
    await expectReachable(admin, restore);
    await restore.click();
    await dialog.getByRole("heading", { name: /Restore Rosalind Franklin/ }).waitFor();
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await admin.locator("#flash").getByText("Rosalind Franklin is now active.").waitFor();
    await (await rowOf(admin, "Franklin, Rosalind")).waitFor({ state: "detached" });
    await screenshot(admin, "after-restore-phone");
  });

  test("the Status rules page says what each status means, at 1280 and 390 px", async (t) => {
    const admin = await signedInAdmin(t);
    await admin.getByRole("link", { name: "Status rules" }).click();
    await admin.getByRole("heading", { name: "What each status means" }).waitFor();
    await admin.getByRole("rowheader", { name: /^Restore/ }).waitFor();
    assert.deepEqual(await axeViolations(admin), []);
    await screenshot(admin, "status-rules-desktop");
    await admin.setViewportSize(PHONE);
    await screenshot(admin, "status-rules-phone");
  });
});

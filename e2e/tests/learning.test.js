// Learning, clicked through in Chromium against the real binary: an admin writes a course, tops
// up credits and enrols a learner; the learner starts it (one credit), reads, fails then passes
// the quiz and downloads the certificate, which anyone can verify, even after the learner is
// deactivated. An everyone-course made while someone is inactive sends them nothing, and their
// reactivation opens it at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN_PASSWORD, axeViolations, cli, expectReachable, launchBrowser, policyRefusals, screenshot,
  signInAccepted, startServer,
} from "./harness.js";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
const LEARNER_PASSWORD = "learning-is-fun-77";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const add = (username, given, family) => cli(server.databaseUrl, "user", "add", "--username", username,
    "--email", `${username}@northfield.example`, "--given-name", given, "--family-name", family,
    "--role", "student", "--password", LEARNER_PASSWORD);
  add("lena.learner", "Léna", "Lefèvre");
  add("ivan.idle", "Ivan", "Idle");
  cli(server.databaseUrl, "user", "deactivate", "ivan.idle", "--reason", "Away this term");
});

after(async () => {
  await browser?.close();
  server?.stop();
  assert.deepEqual(policyRefusals, [], "no page lost a script or style to its security policy");
});

async function signedIn(t, login, password, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  t.after(() => context.close());
  const page = await context.newPage();
  await signInAccepted(page, server.address, login, password);
  return page;
}

/** Clicks a control as a person would: first checks it is shown, inside the viewport, and not
 *  covered or clipped. */
async function press(page, locator) {
  await expectReachable(page, locator);
  await locator.click();
}

/** Writes a course through the console's form; returns its page's address. */
async function writeCourse(admin, { title, cost, lesson, quiz }) {
  await admin.goto(`${server.address}/courses`);
  await admin.getByRole("link", { name: "New course" }).click();
  await admin.locator("#course-title").fill(title);
  await admin.getByLabel("Description").fill(`All about ${title.toLowerCase()}.`);
  await admin.getByLabel("Credits a learner's first start uses").fill(String(cost));
  await admin.locator("#lesson-title-1").fill(lesson.title);
  await admin.locator("#lesson-body-1").fill(lesson.body);
  if (quiz) {
    await admin.getByLabel("A short quiz").check();
    await admin.getByLabel("Pass mark for the quiz, in percent").fill("100");
    await admin.locator("#question-1").fill(quiz.prompt);
    await admin.locator("#options-1").fill(quiz.options.join("\n"));
    await admin.locator("#answer-1").fill(String(quiz.right));
  }
  await press(admin, admin.getByRole("button", { name: "Save course" }));
  await admin.getByRole("heading", { name: title }).waitFor();
  return admin.url();
}

test("a learner starts a course for one credit, passes its quiz and gets a certificate anyone can verify", async (t) => {
  const admin = await signedIn(t, "admin", ADMIN_PASSWORD);
  await admin.waitForURL("**/users");

  // A course form with a mistake says what is wrong, and keeps what was typed.
  await admin.goto(`${server.address}/courses/new`);
  await admin.locator("#course-title").fill("Nothing inside");
  await admin.getByRole("button", { name: "Save course" }).click();
  await admin.getByText("Lessons must hold at least one lesson.").waitFor();
  assert.equal(await admin.locator("#course-title").inputValue(), "Nothing inside");

  const course = await writeCourse(admin, {
    title: "Ladder safety",
    cost: 1,
    lesson: {
      title: "Before you climb",
      body: "Check the **feet** of the ladder.\n\n<script>window.hacked = true</script>\n\n| Step | Check |\n|---|---|\n| 1 | Feet |",
    },
    quiz: { prompt: "What do you check first?", options: ["The top", "The feet"], right: 2 },
  });
  await admin.goto(`${server.address}/credits`);
  await admin.getByLabel("Credits to add").fill("5");
  await admin.getByLabel("Reason").fill("Spring term");
  await admin.getByRole("button", { name: "Add credits" }).click();
  await admin.getByText("5 credits were added.").waitFor();

  // The picker at phone width: the one row a search finds, its tick box and the button.
  await admin.setViewportSize(PHONE);
  await admin.goto(`${course}/enrol`);
  await admin.getByLabel("Search").fill("lena");
  await press(admin, admin.getByRole("button", { name: "Search" }));
  assert.equal(await admin.locator("table.users tbody tr").count(), 1);
  await expectReachable(admin, admin.getByLabel("Enrol Léna Lefèvre"));
  await admin.getByLabel("Enrol Léna Lefèvre").check();
  await press(admin, admin.getByRole("button", { name: "Enrol the people ticked" }));
  await admin.getByText("1 person is enrolled.").waitFor();
  await admin.setViewportSize(DESKTOP);

  // Léna goes through the course on a phone.
  const lena = await signedIn(t, "lena.learner", LEARNER_PASSWORD, PHONE);
  await lena.waitForURL("**/my/courses");
  await press(lena, lena.getByRole("link", { name: "Ladder safety" }));
  await lena.getByText("Starting this course uses 1 of your organisation's credits, once.").waitFor();
  await press(lena, lena.getByRole("button", { name: "Start the course" }));
  await lena.getByText("The course is started.").waitFor();
  await lena.setViewportSize(DESKTOP);
  await screenshot(lena, "learner-course-desktop");
  assert.deepEqual(await axeViolations(lena), []);
  await lena.setViewportSize(PHONE);
  await press(lena, lena.getByRole("link", { name: "Begin the first lesson" }));
  await lena.getByRole("heading", { name: "Before you climb" }).waitFor();
  // The author's HTML is shown as text, never run.
  await lena.getByText("<script>window.hacked = true</script>").waitFor();
  assert.equal(await lena.evaluate(() => window.hacked), undefined);
  assert.equal(await lena.locator("article strong").innerText(), "feet");
  await screenshot(lena, "learner-lesson-phone");
  await press(lena, lena.getByRole("button", { name: "Done: back to the course" }));

  await screenshot(lena, "learner-quiz-phone");
  await expectReachable(lena, lena.getByLabel("The top"));
  await lena.getByLabel("The top").check();
  await press(lena, lena.getByRole("button", { name: "Submit answers" }));
  await lena.getByText("Not passed this time").waitFor();
  await expectReachable(lena, lena.getByLabel("The feet"));
  await lena.getByLabel("The feet").check();
  await press(lena, lena.getByRole("button", { name: "Submit answers" }));
  await lena.getByText("the course is complete").waitFor();
  const code = await lena.locator(".certificate-card strong").innerText();
  assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  await screenshot(lena, "learner-course-phone");
  const certificateLink = lena.getByRole("link", { name: "Download the certificate (PDF)" });
  await expectReachable(lena, certificateLink);
  const [download] = await Promise.all([lena.waitForEvent("download"), certificateLink.click()]);
  assert.match(download.suggestedFilename(), /^certificate-[0-9A-Z]{16}\.pdf$/);
  const pdf = await (await download.createReadStream()).toArray();
  assert.equal(Buffer.concat(pdf).subarray(0, 5).toString(), "%PDF-");

  // One credit was used, once.
  await admin.goto(`${server.address}/credits`);
  assert.equal(await admin.locator(".balance .big").innerText(), "4");

  // Anyone verifies the code; a forged one verifies nothing.
  const visitor = await browser.newPage({ viewport: DESKTOP });
  t.after(() => visitor.close());
  await visitor.goto(`${server.address}/verify/northfield`);
  await visitor.getByLabel("Verification code").fill(code.toLowerCase());
  await visitor.getByRole("button", { name: "Verify" }).click();
  await visitor.getByText("This certificate is genuine.").waitFor();
  await visitor.getByText("Léna Lefèvre completed Ladder safety").waitFor();
  await visitor.goto(`${server.address}/verify/northfield?code=0000-0000-0000-0000`);
  await visitor.getByText("No certificate of this organisation has the code").waitFor();

  // Deactivated, Léna opens nothing; her record and certificate stay for admins and verifiers.
  cli(server.databaseUrl, "user", "deactivate", "lena.learner", "--reason", "Left");
  await lena.goto(`${server.address}/my/courses`);
  await lena.waitForURL("**/sign-in?expired=1");
  await visitor.goto(`${server.address}/verify/northfield/${code}`);
  await visitor.getByText("This certificate is genuine.").waitFor();
  await admin.goto(`${server.address}/users?status=inactive&q=lena`);
  await admin.getByRole("link", { name: "Lefèvre, Léna" }).click();
  const training = admin.getByRole("table", { name: "Training history of Léna Lefèvre" });
  await training.getByText("Completed, 100%").waitFor();
  await screenshot(admin, "admin-training-desktop");
  await admin.setViewportSize(PHONE);
  await screenshot(admin, "admin-training-phone");
  await admin.setViewportSize(DESKTOP);
  const [onBehalf] = await Promise.all([
    admin.waitForEvent("download"),
    training.getByRole("link", { name: "Download (PDF)" }).click(),
  ]);
  assert.match(onBehalf.suggestedFilename(), /^certificate-/);
});

test("an everyone-course sends nothing to the inactive, and reactivation opens it at once", async (t) => {
  const admin = await signedIn(t, "admin", ADMIN_PASSWORD);
  await admin.waitForURL("**/users");
  const course = await writeCourse(admin, {
    title: "Data protection",
    cost: 0,
    lesson: { title: "Personal data", body: "Keep it **safe**." },
  });
  await admin.setViewportSize(PHONE);
  await press(admin, admin.getByRole("link", { name: "Enrol everyone" }));
  await admin.getByRole("heading", { name: "Enrol everyone in Data protection?" }).waitFor();
  await press(admin, admin.getByRole("button", { name: "Enrol everyone" }));
  await admin.getByText(/people are enrolled\./).waitFor();
  assert.equal(admin.url().split("?")[0], course);

  await admin.goto(`${server.address}/outbox?state=suppressed`);
  const ivan = admin.locator("table.users tbody tr", { hasText: "ivan.idle@northfield.example" });
  await ivan.getByText("inactive people receive no e-mail").waitFor();
  await admin.goto(`${server.address}/outbox?state=queued`);
  assert.equal(await admin.locator("table.users tbody tr", { hasText: "ivan.idle@" }).count(), 0);
  await screenshot(admin, "outbox-phone");

  // An admin's message to him while he is inactive is kept unsent too.
  await admin.goto(`${server.address}/users?status=inactive&q=ivan`);
  await admin.getByRole("link", { name: "Idle, Ivan" }).click();
  await admin.getByLabel("Subject").fill("Welcome back soon");
  await admin.getByLabel("Message", { exact: true }).fill("The new term starts on Monday.");
  await press(admin, admin.getByRole("button", { name: "Send the message" }));
  await admin.getByText("Your message is kept in the outbox unsent: the recipient is inactive").waitFor();

  cli(server.databaseUrl, "user", "reactivate", "ivan.idle");
  const back = await signedIn(t, "ivan.idle", LEARNER_PASSWORD);
  await back.waitForURL("**/my/courses");
  await back.getByRole("link", { name: "Data protection" }).click();
  await back.getByText("This course is free.").waitFor();
  await back.getByRole("button", { name: "Start the course" }).click();
  await back.getByText("The course is started.").waitFor();
  // Still no late notice or message for him: the enrolment notice and the message, both kept.
  await admin.goto(`${server.address}/outbox`);
  const his = admin.locator("table.users tbody tr", { hasText: "ivan.idle@" });
  assert.equal(await his.count(), 2);
  assert.equal(await his.filter({ hasText: "Suppressed" }).count(), 2);
});

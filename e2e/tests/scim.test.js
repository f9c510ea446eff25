// SCIM in the console, clicked through in Chromium against the real binary: an admin connects
// an identity provider and copies its token; the provider creates someone and deactivates them
// over SCIM; the connection's page shows the requests and the person, inactive; a second token
// is made and the first revoked, after which it is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN_PASSWORD, axeViolations, expectReachable, launchBrowser, policyRefusals, screenshot,
  signInAccepted, startServer,
} from "./harness.js";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
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

/** A SCIM request as an identity provider sends it. */
async function scim(token, method, path, body) {
  const response = await fetch(`${server.address}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

test("an admin connects an identity provider, watches its requests and rotates its token", async (t) => {
  const context = await browser.newContext({ viewport: DESKTOP });
  t.after(() => context.close());
  const admin = await context.newPage();
  await signInAccepted(admin, server.address, "admin", ADMIN_PASSWORD);

  await admin.goto(`${server.address}/sources`);
  await admin.getByLabel("Identity provider").fill("okta");
  await admin.getByLabel("Read each person's role from").selectOption("userType");
  await press(admin, admin.getByRole("button", { name: "Connect" }));
  await admin.getByRole("heading", { name: /okta/ }).waitFor();
  const token = (await admin.locator("#new-token").textContent()).trim();
  assert.match(token, /^sc_[0-9a-f]{32}_[0-9a-f]{48}$/);
  assert.equal(await admin.locator("#scim-base").textContent(), `${server.address}/scim/v2`);
  await screenshot(admin, "scim-connection-token-desktop");

  // The identity provider at work: a person made, then disabled (Entra's string boolean).
  const made = await scim(token, "POST", "/Users", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: "grace.hopper@northfield.example",
    name: { givenName: "Grace", familyName: "Hopper" },
    emails: [{ value: "grace.hopper@northfield.example", type: "work", primary: true }],
    userType: "teacher",
    active: true,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const off = await scim(token, "PATCH", `/Users/${made.body.id}`, {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    Operations: [{ op: "Replace", path: "active", value: "False" }],
  });
  assert.equal(off.status, 200);

  // The page: requests with their outcome, the person counted as inactive.
  await admin.goto(`${server.address}/scim-connections/okta`);
  const requests = admin.getByRole("table", { name: /Last requests/ });
  await requests.getByText("POST /Users").waitFor();
  await requests.getByText(`PATCH /Users/${made.body.id}`).waitFor();
  assert.match(await requests.locator("tbody tr").first().textContent(), /200 OK/);
  assert.equal(await admin.locator("#new-token").count(), 0, "a token is shown only once");
  await press(admin, admin.getByRole("link", { name: "1 inactive" }));
  await admin.getByRole("link", { name: /Hopper/ }).first().waitFor();
  await admin.goBack();

  // A second token; the first revoked after its confirmation, then refused.
  await admin.getByLabel("New token's name").fill("rotation");
  await press(admin, admin.getByRole("button", { name: "Make a token" }));
  const second = (await admin.locator("#new-token").textContent()).trim();
  assert.notEqual(second, token);
  await admin.goto(`${server.address}/scim-connections/okta`);
  const first = admin.getByRole("row").filter({ hasText: "default" });
  await press(admin, first.getByText("Revoke…"));
  await press(admin, admin.getByRole("button", { name: "Revoke default" }));
  await admin.getByText("Token revoked").waitFor();
  assert.equal((await scim(token, "GET", "/Users")).status, 401);
  assert.equal((await scim(second, "GET", "/Users")).status, 200);
  assert.deepEqual(await axeViolations(admin), []);
  await screenshot(admin, "scim-connection-desktop");

  // At phone width every control can still be reached.
  await admin.setViewportSize(PHONE);
  await expectReachable(admin, admin.getByRole("button", { name: "Make a token" }));
  await screenshot(admin, "scim-connection-phone");
  await admin.goto(`${server.address}/sources`);
  await expectReachable(admin, admin.getByRole("link", { name: "Manage connection" }));
  await expectReachable(admin, admin.getByRole("button", { name: "Connect" }));
  await screenshot(admin, "sources-phone");
});

// End to end in Debian's Chromium: sign in, make an overdue case through the API, work it in the console,
// and look at every screen (axe: no serious or critical violation; no console errors on the dashboards).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { api, consoleDir, startSuite, until } from "./suite.mjs";

const OUT = join(consoleDir, "test-results");
const AXE = readFileSync(join(consoleDir, "node_modules/axe-core/axe.min.js"), "utf8");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
let suite, browser, page, call;
const errors = [];
const stamp = Date.now().toString(36);
const customer = { name: `E2E Trading ${stamp}`, kind: "commercial", region: "East China", segment: "general" };
let customerId, caseId;

async function shot(name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

async function axe(screen) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${screen}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`),
    [],
  );
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  suite = await startSuite();
  const token = await fetch(`${suite.base}/auth/dev-token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ scopes: ["admin"], subject: "e2e-setup" }),
  }).then((r) => r.json());
  call = api(suite.base, token.access_token);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: "en-US" });
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(String(error)));
});

after(async () => {
  await browser?.close();
  await suite?.stop();
});

test("an overdue invoice becomes a case in the queue", async () => {
  const created = await call("POST", "/api/customers/v1/customers", customer);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  customerId = created.body.id;
  // The registry announces the customer over Kafka; collections and survey learn it a few seconds later.
  await until("collections to know the customer", async () => (await call("GET", `/api/collections/v1/customers/${customerId}`)).status === 200);
  await until("survey to know the customer", async () => (await call("GET", `/api/survey/v1/customers/${customerId}`)).status === 200);
  const invoice = await call("POST", "/api/collections/v1/invoices", {
    customer_id: customerId, number: `E2E-${stamp}`, issue_date: day(-45), due_date: day(-15), currency: "CNY", amount: "8800.50",
  });
  assert.equal(invoice.status, 201, JSON.stringify(invoice.body));
  const sweep = await call("POST", "/api/collections/v1/sweeps", { as_of: day(0) });
  assert.equal(sweep.status, 200, JSON.stringify(sweep.body));
  const cases = await call("GET", `/api/collections/v1/cases?customer_id=${customerId}`);
  assert.equal(cases.body.items.length, 1);
  caseId = cases.body.items[0].id;
  assert.equal(cases.body.items[0].stage, "letter");
  // A SERVQUAL campaign with one answer, so the radar has something to draw.
  const campaign = await call("POST", "/api/survey/v1/campaigns", { name: `Q-${stamp}`, customer_ids: [customerId] });
  assert.equal(campaign.status, 201, JSON.stringify(campaign.body));
  const answer = await call("POST", "/api/survey/v1/responses", {
    campaign_id: campaign.body.id, customer_id: customerId,
    expectations: Array(22).fill(6), perceptions: Array.from({ length: 22 }, (_, i) => 3 + (i % 4)),
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
});

test("sign in (development sign-in) loads fast and lands on the work queue", async () => {
  const started = Date.now();
  await page.goto(`${suite.base}/`);
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  const firstLoad = await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd);
  console.log(`first load: ${Math.round(firstLoad)} ms (navigation loadEventEnd), ${Date.now() - started} ms until the sign-in form`);
  assert.ok(firstLoad < 1000, `first load took ${firstLoad} ms`);
  await shot("01-sign-in");
  await axe("sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("queue").waitFor();
});

test("finds the case in the queue and opens it", async () => {
  // The API searches by customer name (case-insensitive) and sorts; the row carries days overdue and next action.
  await page.getByLabel("Search customer").fill(customer.name.toUpperCase());
  await page.getByLabel("Sort by").selectOption("amount:desc");
  const link = page.getByRole("link", { name: customer.name });
  await link.waitFor({ timeout: 30_000 });
  await until("only the searched customer in the queue", async () => (await page.getByRole("link", { name: customer.name }).count()) === (await page.locator("[data-testid=queue] .grid-body [role=row]").count()), 30);
  const row = page.locator("[data-testid=queue] .grid-body [role=row]").first();
  assert.match(await row.innerText(), /\b15\b/); // due 15 days ago
  assert.match(await row.innerText(), new RegExp(`Visit · ${new Intl.DateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" }).format(Date.parse(day(15)))}`));
  await shot("02-work-queue");
  await axe("work queue");
  await link.click();
  await page.getByTestId("timeline").waitFor();
  assert.match(await page.getByTestId("timeline").innerText(), /letter: days_overdue >= 1/);
  await shot("03-case");
  await axe("case");
});

test("a refused promise shows the API's problem inline; a good one changes the timeline", async () => {
  const form = page.getByTestId("form-promise");
  await form.getByLabel("Promised on").fill(day(-3));
  await form.getByRole("button", { name: "Record" }).click();
  const alert = form.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /past/);
  await shot("04-case-refused");
  await form.getByLabel("Promised on").fill(day(10));
  await form.getByRole("button", { name: "Record" }).click();
  await until("the timeline to show the promise", async () => /Promise recorded/.test(await page.getByTestId("timeline").innerText()), 30);
  const shown = await page.getByTestId("promise").innerText();
  assert.notEqual(shown, "—");
  await shot("05-case-promise");
  // Hold and release through the same kind of form; each shows up in the timeline.
  const action = page.getByTestId("form-action");
  await action.getByLabel("Action").selectOption("hold");
  await action.getByLabel("Reason").fill("negotiating a settlement");
  await action.getByRole("button", { name: "Record" }).click();
  await until("the hold in the timeline", async () => /Put on hold/.test(await page.getByTestId("timeline").innerText()), 30);
  await page.getByTestId("form-action").getByLabel("Action").selectOption("release");
  await page.getByTestId("form-action").getByLabel("Reason").fill("settlement agreed");
  await page.getByTestId("form-action").getByRole("button", { name: "Record" }).click();
  await until("the release in the timeline", async () => /Released/.test(await page.getByTestId("timeline").innerText()), 30);
  assert.equal((await call("GET", `/api/collections/v1/cases/${caseId}`)).body.status, "open");
});

test("the customer 360 shows the case with its promise", async () => {
  await page.getByRole("link", { name: "Customer 360 →" }).click();
  await page.getByTestId("customer-cases").waitFor();
  const promised = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" }).format(Date.parse(day(10)));
  await until("the promise in the customer's cases", async () => (await page.getByTestId("customer-cases").innerText()).includes(promised), 30);
  assert.match(await page.locator("#registry").locator("..").innerText(), new RegExp(customer.name));
  await page.getByTestId("hold").waitFor();
  await shot("06-customer-360");
  await axe("customer 360");
});

async function dashboardsDrawn() {
  for (const id of ["chart-aging", "chart-funnel", "chart-dso", "chart-cost", "chart-radar", "chart-gap-trend", "chart-pyramid"]) {
    await page.locator(`[data-testid=${id}] svg.recharts-surface`).first().waitFor({ timeout: 30_000 });
  }
  await page.getByTestId("value-matrix").waitFor();
  await until("aging bars", async () => (await page.locator("[data-testid=chart-aging] .recharts-bar-rectangle").count()) > 0, 30);
  await until("funnel bars", async () => (await page.locator("[data-testid=chart-funnel] .recharts-bar-rectangle").count()) > 0, 30);
  await until("radar polygons", async () => (await page.locator("[data-testid=chart-radar] .recharts-radar-polygon").count()) === 2, 30);
}

test("every dashboard renders with data and no console errors", async () => {
  errors.length = 0;
  await page.getByRole("link", { name: "Dashboards" }).click();
  await dashboardsDrawn();
  assert.match(await page.getByTestId("dso-portfolio").innerText(), /CN¥/);
  await shot("07-dashboards");
  await axe("dashboards");
  assert.deepEqual(errors, []);
});

test("policy: simulate a draft, then the terms calculator", async () => {
  await page.getByRole("link", { name: "Policy" }).click();
  await page.getByTestId("policy-table").waitFor();
  await page.getByLabel("Letter Min. days overdue").fill("1");
  await page.getByLabel("Visit Min. days overdue").fill("10");
  await page.getByRole("button", { name: "Simulate draft" }).click();
  const moves = page.getByText(/cases would move/);
  await moves.waitFor();
  assert.match(await moves.innerText(), /^[1-9]\d* cases would move/);
  await shot("08-policy-simulation");
  await axe("policy");
  // Save with If-Match (version n -> n+1), then put the old threshold back the same way.
  const before = await call("GET", "/api/collections/v1/policies/current");
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByText(`Saved as version ${before.body.version + 1}.`).waitFor();
  assert.equal((await call("GET", "/api/collections/v1/policies/current")).body.stages[1].min_days_overdue, 10);
  await page.getByLabel("Visit Min. days overdue").fill(String(before.body.stages[1].min_days_overdue));
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByText(`Saved as version ${before.body.version + 2}.`).waitFor();
  await page.getByRole("link", { name: "Terms calculator" }).click();
  await page.getByRole("button", { name: "Quote" }).click();
  await page.getByTestId("quote").waitFor();
  assert.match(await page.getByTestId("quote").innerText(), /CN¥9,800\.00/);
  await shot("09-terms");
  await axe("terms");
});

test("in Chinese: the queue and the case speak zh-CN", async () => {
  await page.getByLabel("Language").selectOption("zh-CN");
  await page.getByRole("link", { name: "工作队列" }).click();
  await page.getByTestId("queue").waitFor();
  await page.getByLabel("搜索客户").fill(customer.name);
  await page.getByRole("link", { name: customer.name }).click();
  await page.getByRole("heading", { name: "记录付款承诺" }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "zh-CN");
  await shot("10-case-zh");
  await page.getByRole("link", { name: "仪表盘" }).click();
  await dashboardsDrawn();
  await shot("11-dashboards-zh");
  await axe("dashboards zh");
});

test("the JavaScript stays under 300 KB gzipped", () => {
  const assets = join(consoleDir, "dist/assets");
  let total = 0;
  for (const name of readdirSync(assets).filter((n) => n.endsWith(".js"))) {
    total += gzipSync(readFileSync(join(assets, name))).length;
    assert.ok(statSync(join(assets, name)).size > 0);
  }
  console.log(`JavaScript: ${(total / 1024).toFixed(1)} KB gzipped in total`);
  assert.ok(total < 300 * 1024, `${total} bytes`);
});

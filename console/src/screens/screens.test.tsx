import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeAll, describe, expect, it } from "vitest";
import { problem, renderAt, signIn, stubFetch } from "../test/render";
import { CasePage } from "./CasePage";
import { CustomerPage } from "./CustomerPage";
import { PolicyPage } from "./PolicyPage";
import { QueuePage } from "./QueuePage";
import { TermsPage } from "./TermsPage";

const ALL = ["customers:read", "credit:read", "collections:read", "collections:write", "survey:read", "admin"];
const CASE = {
  id: "c0ffee00-0000-0000-0000-000000000001",
  invoice_id: "1a000000-0000-0000-0000-000000000001",
  customer_id: "cu000000-0000-0000-0000-000000000001",
  customer_name: "Acme Trading",
  days_overdue: 12,
  next_action: { stage: "visit", due_on: "2026-07-31", min_amount: "0.00", rule: "visit: days_overdue >= 30", waiting_for: null },
  stage: "letter",
  status: "open",
  segment: "general",
  route: "court",
  commission: null,
  due_date: "2026-07-01",
  currency: "CNY",
  outstanding: "12345.67",
  disputed_amount: "0.00",
  promise_to_pay: null,
  write_off_review: false,
  resolution: null,
  opened_at: "2026-07-02T00:00:00Z",
  closed_at: null,
  version: 1,
};
const DETAIL = {
  ...CASE,
  history: [
    {
      event: "stage_entered",
      from: null,
      to: "letter",
      at: "2026-07-02T00:00:00Z",
      as_of: "2026-07-02",
      rule: "letter: days_overdue >= 1 (policy v1; segment general)",
      reason: "1 days overdue since due date 2026-07-01",
      policy_version: 1,
      actor: "sweep",
    },
  ],
  actions: [{ id: "a1", stage: "letter", kind: "letter", status: "sent", cost: "5.00", details: {}, created_at: "2026-07-02T00:00:00Z" }],
};
const POLICY = {
  version: 3,
  stages: [
    { stage: "letter", min_days_overdue: 1, min_amount: "0.00", action: "Send a reminder letter", cost: "5.00" },
    { stage: "visit", min_days_overdue: 30, min_amount: "0.00", action: "Schedule a visit", cost: "200.00" },
  ],
  penalty_interest_annual_rate: "0.1825",
};

describe("work queue", () => {
  beforeAll(() => {
    // happy-dom lays nothing out; give the virtualised list's scroller a size so it renders rows.
    Object.defineProperty(HTMLElement.prototype, "offsetHeight", { configurable: true, get: () => 600 });
    Object.defineProperty(HTMLElement.prototype, "offsetWidth", { configurable: true, get: () => 1200 });
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1200 });
  });
  it("shows loading, then the cases with money and next action", async () => {
    signIn(ALL);
    const calls = stubFetch((_method, path, url) => {
      if (path !== "/api/collections/v1/cases") return undefined;
      const all = [CASE, { ...CASE, id: "c2", segment: "high_risk", outstanding: "9.5", next_action: { ...CASE.next_action, waiting_for: "dispute" } }];
      const segment = url.searchParams.get("segment");
      return { status: 200, body: { items: all.filter((c) => !segment || c.segment === segment), next_cursor: null } };
    });
    renderAt("/", "/", <QueuePage />);
    expect(screen.getByRole("status")).toHaveTextContent("Loading");
    const table = await screen.findByTestId("queue");
    await waitFor(() => expect(within(table).getAllByText("Acme Trading")).toHaveLength(2));
    expect(within(table).getByText("CN¥12,345.67")).toBeTruthy();
    expect(within(table).getAllByText("Visit · Jul 31, 2026")).toHaveLength(2);
    expect(within(table).getByText("(disputed)")).toBeTruthy();
    expect(within(table).getAllByText("12")).toHaveLength(2);
    fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "high_risk" } });
    await waitFor(() => expect(within(screen.getByTestId("queue")).getAllByRole("row")).toHaveLength(2)); // header + one case
    expect(within(screen.getByTestId("queue")).getByText("CN¥9.50")).toBeTruthy();
    const last = calls.filter((c) => c.path === "/api/collections/v1/cases").at(-1)!;
    expect(Object.fromEntries(last.url.searchParams)).toEqual({
      status: "open", segment: "high_risk", sort: "days_overdue", order: "desc", limit: "200",
    });
  });

  it("sorts, filters by days and searches on the server; the search asks once it settles", async () => {
    signIn(ALL);
    const calls = stubFetch((_m, path) => (path === "/api/collections/v1/cases" ? { status: 200, body: { items: [CASE], next_cursor: null } } : undefined));
    renderAt("/", "/", <QueuePage />);
    await screen.findByTestId("queue");
    fireEvent.change(screen.getByLabelText("Sort by"), { target: { value: "amount:asc" } });
    fireEvent.change(screen.getByLabelText("Min. days overdue"), { target: { value: "30" } });
    for (const typed of ["A", "Ac", "Acme"]) fireEvent.change(screen.getByLabelText("Search customer"), { target: { value: typed } });
    await waitFor(() => {
      const last = calls.filter((c) => c.path === "/api/collections/v1/cases").at(-1)!;
      expect(last.url.searchParams.get("q")).toBe("Acme");
    });
    const asked = calls.filter((c) => c.path === "/api/collections/v1/cases").map((c) => Object.fromEntries(c.url.searchParams));
    expect(asked.filter((q) => q.q !== undefined)).toHaveLength(1); // not one request per keystroke
    expect(asked.at(-1)).toEqual({ status: "open", sort: "amount", order: "asc", min_days_overdue: "30", q: "Acme", limit: "200" });
  });

  it("keeps 10,000 cases smooth: only the visible rows are in the DOM", async () => {
    signIn(ALL);
    const many = Array.from({ length: 10_000 }, (_, i) => ({ ...CASE, id: `case-${i}`, outstanding: `${i}.00` }));
    stubFetch((_m, path) => (path === "/api/collections/v1/cases" ? { status: 200, body: { items: many, next_cursor: null } } : undefined));
    renderAt("/", "/", <QueuePage />);
    const table = await screen.findByTestId("queue");
    expect(table).toHaveAttribute("aria-rowcount", "10001");
    expect(screen.getByText("10000 cases loaded", { exact: false })).toBeTruthy();
    const rendered = within(table).getAllByRole("row").length;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
  });

  it("follows the cursor to the next page", async () => {
    signIn(ALL);
    const calls = stubFetch((_m, path, url) => {
      if (path !== "/api/collections/v1/cases") return undefined;
      const second = url.searchParams.get("cursor") === "page-2";
      return { status: 200, body: { items: [{ ...CASE, id: second ? "p2" : "p1" }], next_cursor: second ? null : "page-2" } };
    });
    renderAt("/", "/", <QueuePage />);
    await waitFor(() => expect(screen.getByText("2 cases loaded", { exact: false })).toBeTruthy());
    expect(calls.filter((c) => c.path === "/api/collections/v1/cases")).toHaveLength(2);
    expect(screen.getByText("All loaded", { exact: false })).toBeTruthy();
  });

  it("says so when there is nothing", async () => {
    signIn(ALL);
    stubFetch((_m, path) => (path === "/api/collections/v1/cases" ? { status: 200, body: { items: [], next_cursor: null } } : undefined));
    renderAt("/", "/", <QueuePage />);
    expect(await screen.findByText("Nothing here yet.")).toBeTruthy();
  });

  it("shows the API's problem with a retry", async () => {
    signIn(ALL);
    stubFetch((_m, path) => (path === "/api/collections/v1/cases" ? problem(503, "Service unavailable", "database down") : undefined));
    renderAt("/", "/", <QueuePage />);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Service unavailable");
    expect(alert).toHaveTextContent("database down");
    expect(within(alert).getByRole("button", { name: "Retry" })).toBeTruthy();
  });

  it("shows a refusal for a 403 and nothing at all without the scope", async () => {
    signIn(["collections:read"]);
    stubFetch((_m, path) => (path === "/api/collections/v1/cases" ? problem(403, "Insufficient scope", "needs collections:read") : undefined));
    renderAt("/", "/", <QueuePage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Your sign-in does not allow this.");
  });

  it("asks for the scope instead of calling the API", async () => {
    signIn(["credit:read"]);
    const calls = stubFetch(() => undefined);
    renderAt("/", "/", <QueuePage />);
    expect(screen.getByText("Needs the scope collections:read.")).toBeTruthy();
    expect(calls.filter((c) => c.path.startsWith("/api/collections/v1/cases"))).toHaveLength(0);
  });
});

describe("case page", () => {
  it("shows the timeline with rule and reason, and the promise refused inline", async () => {
    signIn(ALL);
    const calls = stubFetch((method, path) => {
      if (method === "GET" && path === `/api/collections/v1/cases/${CASE.id}`) return { status: 200, body: DETAIL };
      if (method === "POST" && path === `/api/collections/v1/cases/${CASE.id}/promises`)
        return problem(422, "Business rule violated", "a promise to pay cannot be dated in the past", [
          { field: "body.promised_on", message: "2026-01-01 is before 2026-07-03" },
        ]);
      return undefined;
    });
    renderAt(`/cases/${CASE.id}`, "/cases/:caseId", <CasePage />);
    const timeline = await screen.findByTestId("timeline");
    expect(timeline).toHaveTextContent("letter: days_overdue >= 1");
    expect(timeline).toHaveTextContent("1 days overdue since due date 2026-07-01");
    const form = screen.getByTestId("form-promise");
    fireEvent.change(within(form).getByLabelText("Promised on"), { target: { value: "2026-01-01" } });
    await act(async () => fireEvent.submit(form));
    const alert = await within(form).findByRole("alert");
    expect(alert).toHaveTextContent("a promise to pay cannot be dated in the past");
    expect(alert).toHaveTextContent("body.promised_on");
    const post = calls.find((c) => c.method === "POST")!;
    expect(JSON.parse(post.body)).toEqual({ promised_on: "2026-01-01", amount: null });
  });

  it("records a promise and shows the case again", async () => {
    signIn(ALL);
    let promised: string | null = null;
    stubFetch((method, path, _url, body) => {
      if (method === "GET" && path === `/api/collections/v1/cases/${CASE.id}`) return { status: 200, body: { ...DETAIL, promise_to_pay: promised } };
      if (method === "POST" && path.endsWith("/promises")) {
        promised = (JSON.parse(body) as { promised_on: string }).promised_on;
        return { status: 201, body: { ...DETAIL, promise_to_pay: promised } };
      }
      return undefined;
    });
    renderAt(`/cases/${CASE.id}`, "/cases/:caseId", <CasePage />);
    const form = await screen.findByTestId("form-promise");
    fireEvent.change(within(form).getByLabelText("Promised on"), { target: { value: "2026-12-10" } });
    await act(async () => fireEvent.submit(form));
    await waitFor(() => expect(screen.getByTestId("promise")).toHaveTextContent("Dec 10, 2026"));
  });

  it("offers no forms to a read-only sign-in", async () => {
    signIn(["collections:read"]);
    stubFetch((_m, path) => (path === `/api/collections/v1/cases/${CASE.id}` ? { status: 200, body: DETAIL } : undefined));
    renderAt(`/cases/${CASE.id}`, "/cases/:caseId", <CasePage />);
    await screen.findByTestId("timeline");
    expect(screen.queryByTestId("form-promise")).toBeNull();
    expect(screen.getByText("Needs the scope collections:write.")).toBeTruthy();
  });

  it("shows a missing case as the API's 404", async () => {
    signIn(ALL);
    stubFetch(() => problem(404, "Resource not found", "no case"));
    renderAt(`/cases/${CASE.id}`, "/cases/:caseId", <CasePage />, "zh-CN");
    expect(await screen.findByRole("alert")).toHaveTextContent("Resource not found");
    expect(screen.getByRole("button", { name: "重试" })).toBeTruthy();
  });
});

describe("customer 360", () => {
  it("shows each section, with a refusal where the API refuses", async () => {
    signIn(ALL);
    stubFetch((_m, path) => {
      const id = CASE.customer_id;
      if (path === `/api/customers/v1/customers/${id}/overview`)
        return { status: 200, body: { id, name: "Acme Trading", kind: "commercial", segment: "general", lifecycle: "active", overdue_amount: "12345.67", receivables_currency: "CNY", oldest_overdue_days: 142, collection_stage: "agency", open_complaints: 0, alerts: [], credit_hold: true, credit_hold_reasons: [] } };
      if (path === `/api/credit/v1/profiles/${id}`) return problem(403, "Insufficient scope", "needs credit:read");
      if (path === `/api/customers/v1/customers/${id}/contracts`) return { status: 200, body: { items: [], next_cursor: null } };
      if (path === "/api/collections/v1/cases") return { status: 200, body: { items: [CASE], next_cursor: null } };
      if (path === "/api/collections/v1/invoices") return { status: 200, body: { items: [], next_cursor: null } };
      if (path === "/api/customers/v1/complaints") return { status: 200, body: { items: [], next_cursor: null } };
      if (path === "/api/survey/v1/scores/trend") return { status: 200, body: { order_by: "created_at", points: [] } };
      return undefined;
    });
    renderAt(`/customers/${CASE.customer_id}`, "/customers/:customerId", <CustomerPage />, "zh-CN");
    expect(await screen.findByText("客户档案: Acme Trading")).toBeTruthy();
    expect(screen.getByText("142 天")).toBeTruthy();
    expect(await screen.findByText("您的登录权限不允许此操作。")).toBeTruthy();
    expect(await screen.findByTestId("customer-cases")).toHaveTextContent("¥12,345.67");
  });
});

describe("policy", () => {
  it("simulates a draft and shows how many cases would move", async () => {
    signIn(ALL);
    const calls = stubFetch((method, path) => {
      if (path === "/api/collections/v1/policies/current" && method === "GET") return { status: 200, body: POLICY, headers: { ETag: '"3"' } };
      if (path === "/api/collections/v1/policies/simulate")
        return { status: 200, body: { as_of: "2026-12-31", moves: [{ case_id: CASE.id, invoice_id: null, from_stage: "letter", to_stage: "visit", stages_passed: ["visit"], write_off_review: false, reason: "31 days" }] } };
      if (path === "/api/collections/v1/policies/current" && method === "PUT") return problem(412, "Precondition failed", "the policy changed: version 4 is current");
      return undefined;
    });
    renderAt("/policy", "/policy", <PolicyPage />);
    const days = await screen.findByLabelText("Visit Min. days overdue");
    fireEvent.change(days, { target: { value: "20" } });
    expect(screen.getByText("· Unsaved changes")).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Simulate draft" })));
    expect(await screen.findByText("1 cases would move")).toBeTruthy();
    const sent = JSON.parse(calls.find((c) => c.path.endsWith("/simulate"))!.body) as { policy: typeof POLICY };
    expect(sent.policy.stages[1]!.min_days_overdue).toBe(20);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Save policy" })));
    expect(await screen.findByRole("alert")).toHaveTextContent("the policy changed: version 4 is current");
  });

  it("is read-only without the admin scope", async () => {
    signIn(["collections:read", "collections:write"]);
    stubFetch((_m, path) => (path === "/api/collections/v1/policies/current" ? { status: 200, body: POLICY } : undefined));
    renderAt("/policy", "/policy", <PolicyPage />);
    expect(await screen.findByLabelText("Visit Min. days overdue")).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Save policy" })).toBeNull();
  });
});

describe("terms calculator", () => {
  it("quotes and shows the API's refusal inline", async () => {
    signIn(ALL);
    let call = 0;
    stubFetch((_m, path) => {
      if (path !== "/api/credit/v1/terms/quote") return undefined;
      call += 1;
      if (call === 2) return problem(422, "Request validation failed", "terms: unreadable", [{ field: "body.terms", message: "unreadable" }]);
      return {
        status: 200,
        body: { terms: "2/10, n/30", net_days: 30, amount: "10000.00", issue_date: "2026-11-01", payment_date: "2026-11-08", discount_percent: "2", discount_amount: "200.00", amount_due: "9800.00", net_due_date: "2026-12-01", discount_due_dates: ["2026-11-11"], is_late: false, days_late: 0, tiers: [] },
      };
    });
    renderAt("/terms", "/terms", <TermsPage />);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Quote" })));
    expect(await screen.findByTestId("quote")).toHaveTextContent("CN¥9,800.00");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Quote" })));
    expect(await screen.findByRole("alert")).toHaveTextContent("terms: unreadable");
  });
});

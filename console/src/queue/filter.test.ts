import { describe, expect, it } from "vitest";
import { compareDecimal } from "../format/money";
import { applyFilter, DEFAULT_FILTER, type CaseRow } from "./filter";

function row(id: string, over: Partial<CaseRow>): CaseRow {
  return {
    id,
    invoice_id: `inv-${id}`,
    customer_id: `cust-${id}`,
    stage: "letter",
    status: "open",
    segment: "general",
    route: "court",
    commission: null,
    due_date: "2026-10-01",
    currency: "CNY",
    outstanding: "100.00",
    disputed_amount: "0.00",
    promise_to_pay: null,
    write_off_review: false,
    resolution: null,
    opened_at: "2026-10-02T00:00:00Z",
    closed_at: null,
    version: 1,
    ...over,
  };
}

const rows = [
  row("a", { due_date: "2026-11-01", outstanding: "9.99", segment: "key_account", stage: "letter" }),
  row("b", { due_date: "2026-07-01", outstanding: "12345.67", segment: "general", stage: "agency" }),
  row("c", { due_date: "2026-09-15", outstanding: "100.00", segment: "high_risk", stage: "visit" }),
];
const today = "2026-11-29";

describe("work queue filter", () => {
  it.each([
    [{}, ["b", "c", "a"]],
    [{ descending: false }, ["a", "c", "b"]],
    [{ sort: "amount" as const }, ["b", "c", "a"]],
    [{ sort: "stage" as const, descending: false }, ["a", "c", "b"]],
    [{ segment: "high_risk" }, ["c"]],
    [{ minDays: 60 }, ["b", "c"]],
    [{ minDays: 100 }, ["b"]],
    [{ text: "INV-A" }, ["a"]],
    [{ text: "acme" }, ["b"]],
    [{ segment: "key_account", minDays: 60 }, []],
  ])("%o keeps %o", (change, expected) => {
    const names = new Map([["cust-b", "Acme Trading"]]);
    expect(applyFilter(rows, { ...DEFAULT_FILTER, ...change }, today, names).map((r) => r.id)).toEqual(expected);
  });

  it("sorts 10,000 cases quickly and without losing any", () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      row(String(i).padStart(5, "0"), { outstanding: `${i % 977}.${String(i % 100).padStart(2, "0")}` }),
    );
    const started = performance.now();
    const sorted = applyFilter(many, { ...DEFAULT_FILTER, sort: "amount" }, today);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sorted).toHaveLength(10_000);
    for (let i = 1; i < sorted.length; i++) {
      expect(compareDecimal(sorted[i - 1]!.outstanding, sorted[i]!.outstanding)).toBeGreaterThanOrEqual(0);
    }
  });
});

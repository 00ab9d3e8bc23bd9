import { describe, expect, it } from "vitest";
import { DEFAULT_FILTER, toQuery } from "./filter";

describe("work queue query", () => {
  it.each([
    [{}, { status: "open", sort: "days_overdue", order: "desc", limit: 200 }],
    [{ descending: false, sort: "amount" as const }, { status: "open", sort: "amount", order: "asc", limit: 200 }],
    [
      { status: "on_hold" as const, stage: "visit" as const, segment: "high_risk" as const },
      { status: "on_hold", stage: "visit", segment: "high_risk", sort: "days_overdue", order: "desc", limit: 200 },
    ],
    [{ minDays: 60 }, { status: "open", min_days_overdue: 60, sort: "days_overdue", order: "desc", limit: 200 }],
    [{ minDays: 0 }, { status: "open", sort: "days_overdue", order: "desc", limit: 200 }],
    [{ text: "  Acme  " }, { status: "open", q: "Acme", sort: "days_overdue", order: "desc", limit: 200 }],
    [{ text: "   " }, { status: "open", sort: "days_overdue", order: "desc", limit: 200 }],
  ])("%o asks the API for %o", (change, expected) => {
    expect(toQuery({ ...DEFAULT_FILTER, ...change }, 200)).toEqual(expected);
  });

  it("passes the cursor of the previous page", () => {
    expect(toQuery(DEFAULT_FILTER, 50, "abc")).toMatchObject({ cursor: "abc", limit: 50 });
  });
});

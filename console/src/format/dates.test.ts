import { describe, expect, it } from "vitest";
import { addDays, daysOverdue, formatDay, formatPercent } from "./dates";

describe("dates", () => {
  it("formats a calendar day per locale without shifting it", () => {
    expect(formatDay("2026-07-01", "en")).toBe("Jul 1, 2026");
    expect(formatDay("2026-07-01", "zh-CN")).toBe("2026年7月1日");
    expect(formatDay(null, "en")).toBe("—");
  });

  it.each([
    ["2026-07-01", "2026-07-01", 0],
    ["2026-07-01", "2026-11-20", 142],
    ["2026-12-01", "2026-11-29", -2],
  ])("days overdue from %s to %s is %i", (due, today, days) => {
    expect(daysOverdue(due, today)).toBe(days);
  });

  it("adds days across months", () => {
    expect(addDays("2026-01-31", 1)).toBe("2026-02-01");
  });

  it("formats percentages from ratios and from percents", () => {
    expect(formatPercent("0.1825", "en", 2)).toBe("18.25%");
    expect(formatPercent("36.7347", "zh-CN", 1, true)).toBe("36.7%");
  });
});

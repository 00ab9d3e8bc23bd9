import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { problem, renderAt, signIn, stubFetch } from "../test/render";
import Dashboards, { lastMonths } from "./Dashboards";

describe("dashboards", () => {
  it("months for the trends end today and start on the first", () => {
    expect(lastMonths("2026-03-15", 3)).toEqual([
      ["2026-01-01", "2026-01-31"],
      ["2026-02-01", "2026-02-28"],
      ["2026-03-01", "2026-03-15"],
    ]);
  });

  it("shows each chart's own state: data, error, refusal, missing scope", async () => {
    signIn(["collections:read", "survey:read"]);
    stubFetch((_m, path) => {
      if (path === "/api/collections/v1/reports/aging")
        return { status: 200, body: { as_of: "2026-11-29", overall: { current: "0", "1-30": "8800.50", total: "8800.50" }, customers: {} } };
      if (path === "/api/collections/v1/reports/performance") return problem(503, "Service unavailable", "performance is down");
      if (path === "/api/collections/v1/reports/stage-funnel")
        return {
          status: 200,
          body: {
            start: "2026-10-01",
            end: "2026-11-29",
            interval: "month",
            periods: [
              { start: "2026-10-01", end: "2026-10-31", open_cases: { letter: 2, visit: 1, agency: 0, arbitration: 0, litigation: 0 }, total: 3 },
              { start: "2026-11-01", end: "2026-11-29", open_cases: { letter: 1, visit: 0, agency: 1, arbitration: 0, litigation: 0 }, total: 2 },
            ],
          },
        };
      if (path === "/api/survey/v1/campaigns") return problem(403, "Insufficient scope", "needs survey:read");
      if (path === "/api/survey/v1/scores/trend") return { status: 200, body: { order_by: "created_at", points: [] } };
      return undefined;
    });
    renderAt("/dashboards", "/dashboards", <Dashboards />);
    expect(await screen.findByTestId("chart-aging")).toBeTruthy();
    await waitFor(() => expect(screen.getAllByText("performance is down")).toHaveLength(2)); // DSO, cost
    expect(await screen.findByTestId("chart-funnel")).toBeTruthy(); // its own endpoint answered
    expect(await screen.findByText("Your sign-in does not allow this.")).toBeTruthy();
    expect(screen.getByText("Needs the scope credit:read.")).toBeTruthy();
    expect(screen.getByText("Needs the scope customers:read.")).toBeTruthy();
    expect(screen.getByText("Nothing here yet.")).toBeTruthy(); // no gap trend yet
  });
});

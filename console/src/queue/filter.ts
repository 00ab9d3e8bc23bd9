// Filters and sort of the work queue, as the query of GET /v1/cases: the API filters, sorts and pages
// (keyset cursor per sort), so the queue never filters over whatever pages happen to be loaded.
import type { Collections } from "../api/client";
import type { operations } from "../api/collections";

export type CaseRow = Collections["schemas"]["CaseRead"];
export type CaseQuery = NonNullable<operations["list_cases"]["parameters"]["query"]>;
export type SortKey = NonNullable<CaseQuery["sort"]>;
export type Status = NonNullable<CaseQuery["status"]>;
export type Stage = NonNullable<CaseQuery["stage"]>;
export type Segment = NonNullable<CaseQuery["segment"]>;

export interface QueueFilter {
  status: Status;
  stage: Stage | ""; // "" = any
  segment: Segment | "";
  minDays: number;
  text: string;
  sort: SortKey;
  descending: boolean;
}

export const DEFAULT_FILTER: QueueFilter = {
  status: "open",
  stage: "",
  segment: "",
  minDays: 0,
  text: "",
  sort: "days_overdue",
  descending: true,
};
export const STAGE_ORDER = ["letter", "visit", "agency", "arbitration", "litigation"] as const;
export const SORT_KEYS: readonly SortKey[] = ["days_overdue", "amount", "opened_at"];
export const SEGMENTS: readonly Segment[] = ["key_account", "general", "high_risk"];
export const STATUSES: readonly Status[] = ["open", "on_hold", "resolved", "written_off"];

/** The query of one page of the queue for `filter` (unset filters are left out, a blank search too). */
export function toQuery(filter: QueueFilter, limit: number, cursor?: string): CaseQuery {
  const text = filter.text.trim();
  return {
    status: filter.status,
    ...(filter.stage ? { stage: filter.stage } : {}),
    ...(filter.segment ? { segment: filter.segment } : {}),
    ...(filter.minDays > 0 ? { min_days_overdue: Math.floor(filter.minDays) } : {}),
    ...(text ? { q: text } : {}),
    sort: filter.sort,
    order: filter.descending ? "desc" : "asc",
    limit,
    ...(cursor ? { cursor } : {}),
  };
}

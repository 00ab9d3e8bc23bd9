// Filters and sort of the work queue over the loaded cases (the API filters by stage, status and customer;
// segment, days overdue and free text are applied here).
import type { Collections } from "../api/client";
import { compareDecimal } from "../format/money";
import { daysOverdue } from "../format/dates";

export type CaseRow = Collections["schemas"]["CaseRead"];
export type SortKey = "days" | "amount" | "stage" | "opened";

export interface QueueFilter {
  segment: string; // "" = any
  minDays: number;
  text: string;
  sort: SortKey;
  descending: boolean;
}

export const DEFAULT_FILTER: QueueFilter = { segment: "", minDays: 0, text: "", sort: "days", descending: true };
export const STAGE_ORDER = ["letter", "visit", "agency", "arbitration", "litigation"] as const;

function stageRank(stage: string | null | undefined): number {
  return stage ? STAGE_ORDER.indexOf(stage as (typeof STAGE_ORDER)[number]) : -1;
}

export function applyFilter(
  rows: readonly CaseRow[],
  filter: QueueFilter,
  today: string,
  names: ReadonlyMap<string, string> = new Map(),
): CaseRow[] {
  const text = filter.text.trim().toLowerCase();
  const kept = rows.filter((row) => {
    if (filter.segment && row.segment !== filter.segment) return false;
    if (filter.minDays > 0 && daysOverdue(row.due_date, today) < filter.minDays) return false;
    if (text) {
      const haystack = `${names.get(row.customer_id) ?? ""} ${row.customer_id} ${row.invoice_id} ${row.id}`.toLowerCase();
      if (!haystack.includes(text)) return false;
    }
    return true;
  });
  const direction = filter.descending ? -1 : 1;
  const compare: Record<SortKey, (a: CaseRow, b: CaseRow) => number> = {
    // Older due date = more days overdue.
    days: (a, b) => (a.due_date < b.due_date ? 1 : a.due_date > b.due_date ? -1 : 0),
    amount: (a, b) => compareDecimal(a.outstanding, b.outstanding),
    stage: (a, b) => stageRank(a.stage) - stageRank(b.stage),
    opened: (a, b) => (a.opened_at < b.opened_at ? -1 : a.opened_at > b.opened_at ? 1 : 0),
  };
  const by = compare[filter.sort];
  return kept.sort((a, b) => direction * by(a, b) || (a.id < b.id ? -1 : 1));
}

import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { collections } from "../api/client";
import { toProblem, type Problem } from "../api/problem";
import { isProblem, unwrap } from "../api/useQuery";
import { useSession } from "../auth/useSession";
import { formatDay } from "../format/dates";
import { formatMoney } from "../format/money";
import { label, useI18n } from "../i18n/I18n";
import {
  DEFAULT_FILTER,
  SEGMENTS,
  SORT_KEYS,
  STAGE_ORDER,
  STATUSES,
  toQuery,
  type CaseRow,
  type QueueFilter,
  type Segment,
  type SortKey,
  type Stage,
  type Status,
} from "../queue/filter";
import { Empty, Loading, NeedsScope, ProblemBox } from "../ui/States";

const PAGE = 200;
const ROW_HEIGHT = 44;

const SEARCH_DELAY_MS = 300;

/** `value`, once it has stopped changing for `delay` ms (the search box asks the API once per pause). */
function useSettled<T>(value: T, delay: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return settled;
}

/** The policy's next step for a case: the stage, the day it is due, and what holds it back if anything. */
function NextAction({ row }: { row: CaseRow }) {
  const { t, locale } = useI18n();
  const next = row.next_action;
  if (!next) return <>—</>;
  const text = `${label(t, "stage", next.stage)} · ${formatDay(next.due_on, locale)}`;
  const waiting = next.waiting_for ? label(t, "waiting", next.waiting_for) : "";
  return (
    <span title={next.rule}>
      {text}
      {waiting && <span className="muted"> ({waiting})</span>}
    </span>
  );
}

export function QueuePage() {
  const { t, locale } = useI18n();
  const { can } = useSession();
  const [filter, setFilter] = useState<QueueFilter>(DEFAULT_FILTER);
  const [rows, setRows] = useState<CaseRow[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined); // undefined: not loaded yet
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const generation = useRef(0);
  const text = useSettled(filter.text, SEARCH_DELAY_MS);
  // The query changes when a filter does, or when the search text has settled; not on every keystroke.
  const queryKey = JSON.stringify({ ...filter, text });
  const query = useMemo(() => JSON.parse(queryKey) as QueueFilter, [queryKey]);

  const loadPage = useCallback(
    async (after: string | undefined, reset: boolean) => {
      const mine = reset ? ++generation.current : generation.current;
      setLoading(true);
      setProblem(null);
      try {
        const page = await unwrap(
          collections.GET("/v1/cases", { params: { query: toQuery(query, PAGE, after) } }),
        );
        if (mine !== generation.current) return;
        setRows((current) => (reset ? page.items : [...current, ...page.items]));
        setCursor(page.next_cursor ?? null);
      } catch (error) {
        if (mine === generation.current) setProblem(isProblem(error) ? error : toProblem(error));
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [query],
  );

  useEffect(() => {
    setRows([]);
    setCursor(undefined);
    void loadPage(undefined, true);
  }, [loadPage]);

  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: { width: 1200, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    // Near the end of what is loaded: fetch the next page.
    if (last && last.index >= rows.length - 20 && cursor && !loading) void loadPage(cursor, false);
  }, [last, rows.length, cursor, loading, loadPage]);

  if (!can("collections:read")) return <NeedsScope scope="collections:read" />;
  const set = (change: Partial<QueueFilter>) => setFilter((f) => ({ ...f, ...change }));

  return (
    <>
      <h1>{t("queue.title")}</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("queue.title")}>
        <label>
          {t("queue.status")}
          <select value={filter.status} onChange={(e) => set({ status: e.target.value as Status })}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(t, "status", s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("queue.stage")}
          <select value={filter.stage} onChange={(e) => set({ stage: e.target.value as Stage | "" })}>
            <option value="">{t("queue.any")}</option>
            {STAGE_ORDER.map((s) => (
              <option key={s} value={s}>
                {label(t, "stage", s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("queue.segment")}
          <select value={filter.segment} onChange={(e) => set({ segment: e.target.value as Segment | "" })}>
            <option value="">{t("queue.any")}</option>
            {SEGMENTS.map((s) => (
              <option key={s} value={s}>
                {label(t, "segment", s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("queue.minDays")}
          <input
            type="number"
            min={0}
            value={filter.minDays}
            onChange={(e) => set({ minDays: Math.max(0, Number(e.target.value) || 0) })}
          />
        </label>
        <label>
          {t("queue.search")}
          <input type="search" value={filter.text} onChange={(e) => set({ text: e.target.value })} />
        </label>
        <label>
          {t("queue.sort")}
          <select
            value={`${filter.sort}:${filter.descending ? "desc" : "asc"}`}
            onChange={(e) => {
              const [sort, direction] = e.target.value.split(":");
              set({ sort: sort as SortKey, descending: direction === "desc" });
            }}
          >
            {SORT_KEYS.flatMap((s) =>
              (["desc", "asc"] as const).map((d) => (
                <option key={`${s}:${d}`} value={`${s}:${d}`}>
                  {t(`queue.sort.${s}`)} {d === "desc" ? "↓" : "↑"}
                </option>
              )),
            )}
          </select>
        </label>
      </form>
      {problem && <ProblemBox problem={problem} onRetry={() => void loadPage(undefined, true)} />}
      {!problem && cursor === undefined && <Loading />}
      {!problem && cursor !== undefined && rows.length === 0 && <Empty />}
      {rows.length > 0 && (
        <div
          className="grid-table"
          role="table"
          aria-label={t("queue.title")}
          aria-rowcount={rows.length + 1}
          data-testid="queue"
        >
          <div className="grid-row head" role="row" aria-rowindex={1}>
            {(["col.customer", "col.stage", "col.days", "col.amount", "col.segment", "col.route", "col.next"] as const).map(
              (key) => (
                <span key={key} role="columnheader">
                  {t(key)}
                </span>
              ),
            )}
          </div>
          <div ref={scroller} className="grid-body" role="rowgroup" tabIndex={0} aria-label={t("queue.title")}>
            <div role="none" style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
              {items.map((item) => {
                const row = rows[item.index]!;
                return (
                  <div
                    key={row.id}
                    className="grid-row"
                    role="row"
                    aria-rowindex={item.index + 2}
                    style={{ position: "absolute", top: 0, transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                  >
                    <span role="cell">
                      <Link to={`/cases/${row.id}`}>{row.customer_name ?? row.customer_id.slice(0, 8)}</Link>
                    </span>
                    <span role="cell" className={`stage stage-${row.stage ?? "none"}`}>
                      {row.stage ? label(t, "stage", row.stage) : t("stage.none")}
                    </span>
                    <span role="cell" className="num">
                      {Math.max(0, row.days_overdue ?? 0)}
                    </span>
                    <span role="cell" className="num">
                      {formatMoney(row.outstanding, row.currency, locale)}
                    </span>
                    <span role="cell">{label(t, "segment", row.segment)}</span>
                    <span role="cell">{label(t, "route", row.route)}</span>
                    <span role="cell" className="ellipsis">
                      <NextAction row={row} />
                    </span>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
      )}
      <p className="muted" aria-live="polite">
        {t("queue.count", { loaded: rows.length })}{" "}
        {cursor ? (
          <button type="button" onClick={() => void loadPage(cursor, false)} disabled={loading}>
            {t("queue.more")}
          </button>
        ) : (
          cursor === null && t("queue.all")
        )}
      </p>
    </>
  );
}

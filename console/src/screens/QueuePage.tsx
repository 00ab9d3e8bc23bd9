import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { collections, customers } from "../api/client";
import { toProblem, type Problem } from "../api/problem";
import { isProblem, unwrap } from "../api/useQuery";
import { useSession } from "../auth/useSession";
import { daysOverdue, isoDay } from "../format/dates";
import { formatMoney } from "../format/money";
import { label, useI18n } from "../i18n/I18n";
import { applyFilter, DEFAULT_FILTER, STAGE_ORDER, type CaseRow, type QueueFilter, type SortKey } from "../queue/filter";
import { Empty, Loading, NeedsScope, ProblemBox } from "../ui/States";

const PAGE = 200;
const ROW_HEIGHT = 44;
type Status = "open" | "on_hold" | "resolved" | "written_off";
type Stage = (typeof STAGE_ORDER)[number];

/** Names of customers by id, from the registry (first pages only; the queue shows ids until they arrive). */
function useCustomerNames(enabled: boolean): Map<string, string> {
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    (async () => {
      const found = new Map<string, string>();
      let cursor: string | undefined;
      for (let page = 0; page < 25; page++) {
        const data = await unwrap(customers.GET("/v1/customers", { params: { query: { limit: 200, cursor } } }));
        for (const c of data.items) found.set(c.id, c.name);
        if (cancelled) return;
        setNames(new Map(found));
        if (!data.next_cursor) break;
        cursor = data.next_cursor;
      }
    })().catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [enabled]);
  return names;
}

function useNextActions(): Map<string, string> {
  const [actions, setActions] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    unwrap(collections.GET("/v1/policies/current")).then(
      (policy) => {
        const stages = (policy as { stages?: { stage: string; action: string }[] }).stages ?? [];
        setActions(new Map(stages.map((s) => [s.stage, s.action])));
      },
      () => undefined,
    );
  }, []);
  return actions;
}

export function QueuePage() {
  const { t, locale } = useI18n();
  const { can } = useSession();
  const [status, setStatus] = useState<Status>("open");
  const [stage, setStage] = useState<Stage | "">("");
  const [filter, setFilter] = useState<QueueFilter>(DEFAULT_FILTER);
  const [rows, setRows] = useState<CaseRow[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined); // undefined: not loaded yet
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const names = useCustomerNames(can("customers:read"));
  const nextActions = useNextActions();
  const generation = useRef(0);
  const today = isoDay(new Date());

  const loadPage = useCallback(
    async (after: string | undefined, reset: boolean) => {
      const mine = reset ? ++generation.current : generation.current;
      setLoading(true);
      setProblem(null);
      try {
        const page = await unwrap(
          collections.GET("/v1/cases", {
            params: { query: { status, stage: stage || undefined, limit: PAGE, cursor: after } },
          }),
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
    [status, stage],
  );

  useEffect(() => {
    setRows([]);
    setCursor(undefined);
    void loadPage(undefined, true);
  }, [loadPage]);

  const shown = useMemo(() => applyFilter(rows, filter, today, names), [rows, filter, today, names]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: { width: 1200, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    // Near the end of what is loaded: fetch the next page.
    if (last && last.index >= shown.length - 20 && cursor && !loading) void loadPage(cursor, false);
  }, [last, shown.length, cursor, loading, loadPage]);

  if (!can("collections:read")) return <NeedsScope scope="collections:read" />;
  const set = (change: Partial<QueueFilter>) => setFilter((f) => ({ ...f, ...change }));

  return (
    <>
      <h1>{t("queue.title")}</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("queue.title")}>
        <label>
          {t("queue.status")}
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            {(["open", "on_hold", "resolved", "written_off"] as const).map((s) => (
              <option key={s} value={s}>
                {label(t, "status", s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("queue.stage")}
          <select value={stage} onChange={(e) => setStage(e.target.value as Stage | "")}>
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
          <select value={filter.segment} onChange={(e) => set({ segment: e.target.value })}>
            <option value="">{t("queue.any")}</option>
            {(["key_account", "general", "high_risk"] as const).map((s) => (
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
            {(["days", "amount", "stage", "opened"] as const).flatMap((s) =>
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
      {!problem && cursor !== undefined && shown.length === 0 && <Empty />}
      {shown.length > 0 && (
        <div
          className="grid-table"
          role="table"
          aria-label={t("queue.title")}
          aria-rowcount={shown.length + 1}
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
                const row = shown[item.index]!;
                return (
                  <div
                    key={row.id}
                    className="grid-row"
                    role="row"
                    aria-rowindex={item.index + 2}
                    style={{ position: "absolute", top: 0, transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                  >
                    <span role="cell">
                      <Link to={`/cases/${row.id}`}>{names.get(row.customer_id) ?? row.customer_id.slice(0, 8)}</Link>
                    </span>
                    <span role="cell" className={`stage stage-${row.stage ?? "none"}`}>
                      {row.stage ? label(t, "stage", row.stage) : t("stage.none")}
                    </span>
                    <span role="cell" className="num">
                      {Math.max(0, daysOverdue(row.due_date, today))}
                    </span>
                    <span role="cell" className="num">
                      {formatMoney(row.outstanding, row.currency, locale)}
                    </span>
                    <span role="cell">{label(t, "segment", row.segment)}</span>
                    <span role="cell">{row.route}</span>
                    <span role="cell" className="ellipsis" title={row.stage ? nextActions.get(row.stage) : undefined}>
                      {(row.stage && nextActions.get(row.stage)) || "—"}
                    </span>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
      )}
      <p className="muted" aria-live="polite">
        {t("queue.count", { shown: shown.length, loaded: rows.length })}{" "}
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

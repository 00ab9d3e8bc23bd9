import { useState, type ReactNode } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  PolarAngleAxis,
  PolarGrid,
  PolarRadiusAxis,
  Radar,
  RadarChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { collections, credit, customers, survey } from "../api/client";
import { unwrap, useQuery, type QueryState } from "../api/useQuery";
import { useSession } from "../auth/useSession";
import { addDays, formatDay, formatNumber, formatPercent, isoDay } from "../format/dates";
import { formatMoney, toChartNumber } from "../format/money";
import { label, useI18n } from "../i18n/I18n";
import { STAGE_ORDER } from "../queue/filter";
import { Load, NeedsScope, Panel } from "../ui/States";

const AGING_BUCKETS = ["current", "1-30", "31-60", "61-90", "91-180", "over_180"] as const;
const DIMENSIONS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"] as const;
const COLORS = ["#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c"];
const HEIGHT = 260;

interface PerStage {
  actions: number;
  cases: number;
  total: string;
  average_per_case: string;
}
interface Performance {
  from: string;
  to: string;
  dso_days: string | null;
  recovery_rate: string | null;
  collection_effectiveness_index: string;
  cost_per_stage: { per_stage: Record<string, PerStage> };
  cases: Record<string, number>;
}

/** The last `count` calendar months as [from, to] day pairs, oldest first, the last one ending today. */
export function lastMonths(today: string, count: number): [string, string][] {
  const months: [string, string][] = [];
  let end = today;
  for (let i = 0; i < count; i++) {
    const start = `${end.slice(0, 8)}01`;
    months.unshift([start, end]);
    end = addDays(start, -1);
  }
  return months;
}

function Chart({ title, id, state, children, onRetry }: { title: string; id: string; state: QueryState<unknown>; children: () => ReactNode; onRetry: () => void }) {
  return (
    <Panel title={title} id={id}>
      <Load state={state} onRetry={onRetry}>
        {() => (
          <figure className="chart" data-testid={id} aria-label={title}>
            {children()}
          </figure>
        )}
      </Load>
    </Panel>
  );
}

export default function Dashboards() {
  const { t } = useI18n();
  const { can } = useSession();
  return (
    <>
      <h1>{t("dash.title")}</h1>
      <div className="dash-grid">
        {can("collections:read") ? <CollectionsCharts /> : <NeedsScope scope="collections:read" />}
        {can("credit:read") ? <DsoPortfolio /> : <NeedsScope scope="credit:read" />}
        {can("survey:read") ? <ServqualCharts /> : <NeedsScope scope="survey:read" />}
        {can("customers:read") ? <CustomerCharts /> : <NeedsScope scope="customers:read" />}
      </div>
    </>
  );
}

function CollectionsCharts() {
  const { t, locale } = useI18n();
  const today = isoDay(new Date());
  const [aging, reloadAging] = useQuery(() => unwrap(collections.GET("/v1/reports/aging", {})), []);
  const [funnelState, reloadFunnel] = useQuery(
    () => unwrap(collections.GET("/v1/reports/stage-funnel", { params: { query: { interval: "month" } } })),
    [],
  );
  const [months, reloadMonths] = useQuery(
    () =>
      Promise.all(
        lastMonths(today, 6).map(async ([from, to]) => ({
          month: from,
          report: (await unwrap(collections.GET("/v1/reports/performance", { params: { query: { from, to } } }))) as unknown as Performance,
        })),
      ),
    [today],
  );
  const money = (v: unknown) => formatMoney(String(v), "CNY", locale);
  const monthLabel = (day: string) => new Intl.DateTimeFormat(locale, { month: "short", year: "2-digit", timeZone: "UTC" }).format(Date.parse(day));
  const overall = aging.status === "ok" ? ((aging.data as { overall?: Record<string, string> }).overall ?? {}) : {};
  const monthly = months.status === "ok" ? months.data : [];
  // Open cases per stage at each month's end, from case history (the performance report's per-stage counts
  // are about the actions of its period, not the cases standing at each stage).
  const funnel =
    funnelState.status === "ok"
      ? funnelState.data.periods.map((period) => ({
          month: monthLabel(period.start),
          ...Object.fromEntries(STAGE_ORDER.map((s) => [s, period.open_cases[s] ?? 0])),
        }))
      : [];
  const trend = monthly.map(({ month, report }) => ({
    month: monthLabel(month),
    dso: report.dso_days === null ? null : Number(report.dso_days),
    recovery: report.recovery_rate === null ? null : Number(report.recovery_rate),
  }));
  const latest = monthly.length ? monthly[monthly.length - 1]!.report : null;
  const costs = latest
    ? STAGE_ORDER.map((s) => ({ stage: label(t, "stage", s), total: toChartNumber(latest.cost_per_stage.per_stage[s]?.total) }))
    : [];
  return (
    <>
      <Chart title={t("dash.aging")} id="chart-aging" state={aging} onRetry={reloadAging}>
        {() => (
          <ResponsiveContainer width="100%" height={HEIGHT}>
            <BarChart data={AGING_BUCKETS.map((b) => ({ bucket: label(t, "aging", b), amount: toChartNumber(overall[b]) }))}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="bucket" />
              <YAxis width={90} tickFormatter={(v: number) => formatNumber(v, locale, 0)} />
              <Tooltip formatter={money} />
              <Bar dataKey="amount" name={t("dash.amount")} fill={COLORS[0]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        )}
      </Chart>
      <Chart title={t("dash.funnel")} id="chart-funnel" state={funnelState} onRetry={reloadFunnel}>
        {() => (
          <ResponsiveContainer width="100%" height={HEIGHT}>
            <BarChart data={funnel}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="month" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              {STAGE_ORDER.map((s, i) => (
                <Bar key={s} dataKey={s} name={label(t, "stage", s)} stackId="stages" fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        )}
      </Chart>
      <Chart title={`${t("dash.dso")} · ${t("dash.recovery")}`} id="chart-dso" state={months} onRetry={reloadMonths}>
        {() => (
          <ResponsiveContainer width="100%" height={HEIGHT}>
            <LineChart data={trend}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="month" />
              <YAxis yAxisId="days" />
              {/* A rate is a fraction of what was placed: 0–100 %, also when every month is 0 or empty
                  (left to itself the chart then draws an axis up to 400 %). */}
              <YAxis yAxisId="rate" orientation="right" domain={[0, 1]} tickFormatter={(v: number) => formatPercent(String(v), locale, 0)} />
              <Tooltip />
              <Legend />
              <Line yAxisId="days" dataKey="dso" name={t("dash.dso")} stroke={COLORS[0]} connectNulls isAnimationActive={false} />
              <Line yAxisId="rate" dataKey="recovery" name={t("dash.recovery")} stroke={COLORS[2]} connectNulls isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        )}
      </Chart>
      <Chart title={t("dash.cost")} id="chart-cost" state={months} onRetry={reloadMonths}>
        {() => (
          <ResponsiveContainer width="100%" height={HEIGHT}>
            <BarChart data={costs}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="stage" />
              <YAxis width={80} />
              <Tooltip formatter={money} />
              <Bar dataKey="total" name={t("case.cost")} fill={COLORS[1]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        )}
      </Chart>
    </>
  );
}

function DsoPortfolio() {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(() => unwrap(credit.GET("/v1/reports/dso", {})), []);
  return (
    <Panel title={t("customer.dso")} id="dso-portfolio">
      <Load state={state} onRetry={reload}>
        {(report) => (
          <p className="big" data-testid="dso-portfolio">
            {formatNumber(report.portfolio.countback_days, locale)} · {formatMoney(report.portfolio.receivables, "CNY", locale)} ·{" "}
            {formatDay(report.as_of, locale)}
          </p>
        )}
      </Load>
    </Panel>
  );
}

function ServqualCharts() {
  const { t, locale } = useI18n();
  const [campaignId, setCampaignId] = useState<string>("");
  const [segment, setSegment] = useState("general");
  const [campaigns, reloadCampaigns] = useQuery(() => unwrap(survey.GET("/v1/campaigns", { params: { query: { limit: 100 } } })), []);
  const chosen = campaignId || (campaigns.status === "ok" ? (campaigns.data.items[0]?.id ?? "") : "");
  const [scores, reloadScores] = useQuery(
    async () => (chosen ? unwrap(survey.GET("/v1/campaigns/{campaign_id}/scores", { params: { path: { campaign_id: chosen } } })) : null),
    [chosen],
  );
  const [trend, reloadTrend] = useQuery(() => unwrap(survey.GET("/v1/scores/trend", { params: { query: { segment } } })), [segment]);
  const dims = scores.status === "ok" && scores.data ? (scores.data.dimensions as Record<string, { mean_expectation: string; mean_perception: string }>) : {};
  const radar = DIMENSIONS.filter((d) => dims[d]).map((d) => ({
    dimension: d,
    expectation: Number(dims[d]!.mean_expectation),
    perception: Number(dims[d]!.mean_perception),
  }));
  const trendData =
    trend.status === "ok"
      ? trend.data.points.map((p) => ({
          name: p.campaign_name,
          weighted: Number(p.weighted_servqual),
          ...Object.fromEntries(Object.entries(p.dimension_gaps).map(([k, v]) => [k, Number(v)])),
        }))
      : [];
  return (
    <>
      <Panel title={t("dash.radar")} id="radar">
        <Load state={campaigns} onRetry={reloadCampaigns}>
          {(list) =>
            list.items.length === 0 ? (
              <p className="muted">{t("dash.noCampaign")}</p>
            ) : (
              <>
                <label>
                  {t("dash.campaign")}
                  <select value={chosen} onChange={(e) => setCampaignId(e.target.value)}>
                    {list.items.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.name} ({formatDay(c.created_at.slice(0, 10), locale)})
                      </option>
                    ))}
                  </select>
                </label>
                <Load state={scores} onRetry={reloadScores}>
                  {() => (
                    <figure className="chart" data-testid="chart-radar" aria-label={t("dash.radar")}>
                      <ResponsiveContainer width="100%" height={HEIGHT + 40}>
                        <RadarChart data={radar} outerRadius="75%">
                          <PolarGrid />
                          <PolarAngleAxis dataKey="dimension" />
                          <PolarRadiusAxis domain={[1, 7]} />
                          <Radar name={t("dash.expectation")} dataKey="expectation" stroke={COLORS[0]} fill={COLORS[0]} fillOpacity={0.25} isAnimationActive={false} />
                          <Radar name={t("dash.perception")} dataKey="perception" stroke={COLORS[1]} fill={COLORS[1]} fillOpacity={0.25} isAnimationActive={false} />
                          <Legend />
                          <Tooltip />
                        </RadarChart>
                      </ResponsiveContainer>
                    </figure>
                  )}
                </Load>
              </>
            )
          }
        </Load>
      </Panel>
      <Panel title={t("dash.gapTrend")} id="gap-trend">
        <label>
          {t("queue.segment")}
          <select value={segment} onChange={(e) => setSegment(e.target.value)}>
            {(["key_account", "general", "high_risk"] as const).map((s) => (
              <option key={s} value={s}>
                {label(t, "segment", s)}
              </option>
            ))}
          </select>
        </label>
        <Load state={trend} onRetry={reloadTrend} isEmpty={(d) => d.points.length === 0}>
          {() => (
            <figure className="chart" data-testid="chart-gap-trend" aria-label={t("dash.gapTrend")}>
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <LineChart data={trendData}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="name" />
                  <YAxis />
                  <Tooltip />
                  <Legend />
                  <Line dataKey="weighted" name={t("dash.weighted")} stroke="#111827" strokeWidth={2} isAnimationActive={false} />
                  {DIMENSIONS.map((d, i) => (
                    <Line key={d} dataKey={d} stroke={COLORS[i % COLORS.length]} isAnimationActive={false} />
                  ))}
                </LineChart>
              </ResponsiveContainer>
            </figure>
          )}
        </Load>
      </Panel>
    </>
  );
}

function CustomerCharts() {
  const { t, locale } = useI18n();
  const today = isoDay(new Date());
  const [pyramid, reloadPyramid] = useQuery(
    () => unwrap(customers.GET("/v1/analytics/pyramid", { params: { query: { from: addDays(today, -365), to: today } } })),
    [today],
  );
  const [cuts, setCuts] = useState({ current_high_from: "100000", future_high_from: "100000", future_medium_from: "10000", margin_rate: "0.2" });
  const [matrix, reloadMatrix] = useQuery(
    () => unwrap(customers.GET("/v1/analytics/value-matrix", { params: { query: cuts } })),
    [cuts],
  );
  return (
    <>
      <Chart title={t("dash.pyramid")} id="chart-pyramid" state={pyramid} onRetry={reloadPyramid}>
        {() =>
          pyramid.status === "ok" && (
            <ResponsiveContainer width="100%" height={HEIGHT}>
              <BarChart layout="vertical" data={pyramid.data.tiers.map((tier) => ({ tier: label(t, "tier", tier.tier), revenue: toChartNumber(tier.revenue), customers: tier.customers }))}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis type="number" tickFormatter={(v: number) => formatNumber(v, locale, 0)} />
                <YAxis type="category" dataKey="tier" width={80} />
                <Tooltip formatter={(v: unknown, name: unknown) => (name === t("dash.revenue") ? formatMoney(String(v), pyramid.data.currency, locale) : String(v))} />
                <Legend />
                <Bar dataKey="revenue" name={t("dash.revenue")} fill={COLORS[0]} isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          )
        }
      </Chart>
      <Panel title={t("dash.matrix")} id="matrix">
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("dash.matrix")}>
          {(Object.keys(cuts) as (keyof typeof cuts)[]).map((name) => (
            <label key={name}>
              {label(t, "matrix", name)}
              <input inputMode="decimal" value={cuts[name]} onChange={(e) => setCuts({ ...cuts, [name]: e.target.value })} />
            </label>
          ))}
        </form>
        <Load state={matrix} onRetry={reloadMatrix}>
          {(m) => (
            <table data-testid="value-matrix">
              <thead>
                <tr>
                  <th scope="col">{t("matrix.class")}</th>
                  <th scope="col" className="num">{t("dash.customers")}</th>
                  <th scope="col">{t("matrix.strategy")}</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(m.counts as Record<string, number>).map(([cls, count]) => {
                  const example = m.entries.find((e) => e.value_class === cls);
                  return (
                    <tr key={cls}>
                      <th scope="row">
                        {cls}
                        {example && ` (${example.current_level} / ${example.future_level})`}
                      </th>
                      <td className="num">{count}</td>
                      <td>{example?.strategy ?? "—"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Load>
      </Panel>
    </>
  );
}

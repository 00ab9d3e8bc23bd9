import type { ReactNode } from "react";
import { Link, useParams } from "react-router-dom";
import { collections, credit, customers, survey } from "../api/client";
import { unwrap, useQuery } from "../api/useQuery";
import { useSession } from "../auth/useSession";
import { formatDay, formatInstant, formatNumber } from "../format/dates";
import { formatDecimal, formatMoney } from "../format/money";
import { label, useI18n } from "../i18n/I18n";
import { Load, NeedsScope, Panel } from "../ui/States";

function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="summary">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function CustomerPage() {
  const { customerId = "" } = useParams();
  const { t } = useI18n();
  const { can } = useSession();
  return (
    <>
      <h1>{t("customer.title")}</h1>
      {can("customers:read") ? <Overview customerId={customerId} /> : <NeedsScope scope="customers:read" />}
      <div className="columns">
        {can("credit:read") ? <CreditProfile customerId={customerId} /> : <NeedsScope scope="credit:read" />}
        {can("customers:read") && <Contracts customerId={customerId} />}
      </div>
      {can("collections:read") ? (
        <>
          <Cases customerId={customerId} />
          <Invoices customerId={customerId} />
        </>
      ) : (
        <NeedsScope scope="collections:read" />
      )}
      <div className="columns">
        {can("customers:read") && <Complaints customerId={customerId} />}
        {can("survey:read") ? <Servqual customerId={customerId} /> : <NeedsScope scope="survey:read" />}
      </div>
    </>
  );
}

function Overview({ customerId }: { customerId: string }) {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(
    () => unwrap(customers.GET("/v1/customers/{customer_id}/overview", { params: { path: { customer_id: customerId } } })),
    [customerId],
  );
  return (
    <Load state={state} onRetry={reload}>
      {(c) => (
        <Panel title={`${t("customer.registry")}: ${c.name}`} id="registry">
          <Facts
            items={[
              [t("customer.kind"), c.kind],
              [t("col.segment"), label(t, "segment", c.segment)],
              [t("customer.region"), c.region ?? "—"],
              [t("customer.industry"), c.industry ?? "—"],
              [t("customer.lifecycle"), c.lifecycle],
              [t("customer.taxId"), c.tax_id ?? "—"],
              [t("customer.overdue"), formatMoney(c.overdue_amount, c.receivables_currency, locale)],
              [t("customer.oldest"), c.oldest_overdue_days == null ? "—" : t("customer.days", { days: c.oldest_overdue_days })],
              [t("col.stage"), label(t, "stage", c.collection_stage ?? "none")],
              [t("customer.servqual"), formatDecimal(c.servqual_weighted_gap, locale)],
              [t("customer.complaints"), String(c.open_complaints)],
            ]}
          />
          {(c.alerts ?? []).length > 0 && (
            <>
              <h3>{t("customer.alerts")}</h3>
              <ul>
                {(c.alerts ?? []).map((a, i) => (
                  <li key={i}>
                    {formatInstant(a.at, locale)} · {a.kind}
                  </li>
                ))}
              </ul>
            </>
          )}
        </Panel>
      )}
    </Load>
  );
}

function CreditProfile({ customerId }: { customerId: string }) {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(
    () => unwrap(credit.GET("/v1/profiles/{customer_id}", { params: { path: { customer_id: customerId } } })),
    [customerId],
  );
  return (
    <Panel title={t("customer.credit")} id="credit">
      <Load state={state} onRetry={reload}>
        {(p) => (
          <Facts
            items={[
              [t("customer.grade"), p.grade ?? "—"],
              [t("customer.limit"), formatMoney(p.credit_limit, p.currency, locale)],
              [t("customer.exposure"), formatMoney(p.exposure, p.currency, locale)],
              [t("customer.overdue"), formatMoney(p.overdue_amount, p.currency, locale)],
              [
                t("customer.hold"),
                <span data-testid="hold" key="hold">
                  {p.on_hold ? (p.hold_reasons ?? []).map((r) => r.replace(/_/g, " ")).join(", ") : t("customer.holdNone")}
                </span>,
              ],
              [t("customer.dso"), formatNumber(p.dso?.countback_days ?? null, locale)],
            ]}
          />
        )}
      </Load>
    </Panel>
  );
}

function Contracts({ customerId }: { customerId: string }) {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(
    () =>
      unwrap(customers.GET("/v1/customers/{customer_id}/contracts", { params: { path: { customer_id: customerId } } })),
    [customerId],
  );
  return (
    <Panel title={t("customer.contracts")} id="contracts">
      <Load state={state} onRetry={reload} isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <ul>
            {d.items.map((c) => (
              <li key={c.id}>
                <strong>{c.number}</strong> · {formatDay(c.signed_on, locale)} · {t("customer.terms")}{" "}
                <code>{c.credit_terms}</code> · {t("customer.clause")}:{" "}
                {typeof c.dispute_resolution === "object" && c.dispute_resolution
                  ? Object.values(c.dispute_resolution as Record<string, unknown>).filter((v) => typeof v === "string").join(" · ")
                  : String(c.dispute_resolution)}
              </li>
            ))}
          </ul>
        )}
      </Load>
    </Panel>
  );
}

function Cases({ customerId }: { customerId: string }) {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(
    async () => {
      const statuses = ["open", "on_hold", "resolved", "written_off"] as const;
      const pages = await Promise.all(
        statuses.map((status) =>
          unwrap(collections.GET("/v1/cases", { params: { query: { customer_id: customerId, status, limit: 200 } } })),
        ),
      );
      return pages.flatMap((p) => p.items);
    },
    [customerId],
  );
  return (
    <Panel title={t("customer.cases")} id="cases">
      <Load state={state} onRetry={reload} isEmpty={(d) => d.length === 0}>
        {(rows) => (
          <table data-testid="customer-cases">
            <thead>
              <tr>
                <th scope="col">{t("col.stage")}</th>
                <th scope="col">{t("col.status")}</th>
                <th scope="col">{t("case.due")}</th>
                <th scope="col" className="num">{t("col.amount")}</th>
                <th scope="col">{t("case.promise")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/cases/${c.id}`}>{label(t, "stage", c.stage ?? "none")}</Link>
                  </td>
                  <td>{label(t, "status", c.status)}</td>
                  <td>{formatDay(c.due_date, locale)}</td>
                  <td className="num">{formatMoney(c.outstanding, c.currency, locale)}</td>
                  <td>{formatDay(c.promise_to_pay, locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Load>
    </Panel>
  );
}

function Invoices({ customerId }: { customerId: string }) {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(
    () => unwrap(collections.GET("/v1/invoices", { params: { query: { customer_id: customerId, limit: 200 } } })),
    [customerId],
  );
  return (
    <Panel title={t("customer.invoices")} id="invoices">
      <Load state={state} onRetry={reload} isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <table>
            <thead>
              <tr>
                <th scope="col">{t("invoice.number")}</th>
                <th scope="col">{t("invoice.issued")}</th>
                <th scope="col">{t("case.due")}</th>
                <th scope="col" className="num">{t("invoice.amount")}</th>
                <th scope="col" className="num">{t("invoice.due")}</th>
                <th scope="col">{t("invoice.status")}</th>
              </tr>
            </thead>
            <tbody>
              {d.items.map((i) => (
                <tr key={i.id}>
                  <td>{i.number}</td>
                  <td>{formatDay(i.issue_date, locale)}</td>
                  <td>{formatDay(i.due_date, locale)}</td>
                  <td className="num">{formatMoney(i.amount, i.currency, locale)}</td>
                  <td className="num">{formatMoney(i.amount_due, i.currency, locale)}</td>
                  <td>{i.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Load>
    </Panel>
  );
}

function Complaints({ customerId }: { customerId: string }) {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(
    () => unwrap(customers.GET("/v1/complaints", { params: { query: { customer_id: customerId, limit: 100 } } })),
    [customerId],
  );
  return (
    <Panel title={t("customer.complaints")} id="complaints">
      <Load state={state} onRetry={reload} isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <ul>
            {d.items.map((c) => (
              <li key={c.id}>
                {formatInstant(c.created_at, locale)} · {c.category} · <strong>{c.state}</strong> · {c.description}
              </li>
            ))}
          </ul>
        )}
      </Load>
    </Panel>
  );
}

function Servqual({ customerId }: { customerId: string }) {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(
    () => unwrap(survey.GET("/v1/scores/trend", { params: { query: { customer_id: customerId } } })),
    [customerId],
  );
  return (
    <Panel title={t("customer.servqual")} id="servqual">
      <Load state={state} onRetry={reload} isEmpty={(d) => d.points.length === 0}>
        {(d) => (
          <table>
            <thead>
              <tr>
                <th scope="col">{t("dash.campaign")}</th>
                <th scope="col" className="num">{t("dash.weighted")}</th>
                {Object.keys(d.points[0]?.dimension_gaps ?? {}).map((dim) => (
                  <th scope="col" className="num" key={dim}>{dim}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {d.points.map((p) => (
                <tr key={p.campaign_id}>
                  <td>{p.campaign_name}</td>
                  <td className="num">{formatDecimal(p.weighted_servqual, locale)}</td>
                  {Object.values(p.dimension_gaps).map((gap, i) => (
                    <td className="num" key={i}>{formatDecimal(String(gap), locale)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Load>
    </Panel>
  );
}

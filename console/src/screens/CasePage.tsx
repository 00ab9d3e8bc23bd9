import { useState, type ReactNode } from "react";
import { Link, useParams } from "react-router-dom";
import { collections, idempotencyKey, type Collections } from "../api/client";
import { unwrap, useQuery } from "../api/useQuery";
import { useSession } from "../auth/useSession";
import { daysOverdue, formatDay, formatInstant, isoDay } from "../format/dates";
import { formatMoney } from "../format/money";
import { label, useI18n } from "../i18n/I18n";
import { Load, NeedsScope, Panel, ProblemBox } from "../ui/States";
import { useSubmit } from "../ui/useSubmit";

type CaseDetail = Collections["schemas"]["CaseDetail"];
type ActionRow = Collections["schemas"]["ActionRead"];

export function CasePage() {
  const { caseId = "" } = useParams();
  const { t } = useI18n();
  const { can } = useSession();
  const [state, reload] = useQuery(
    () => unwrap(collections.GET("/v1/cases/{case_id}", { params: { path: { case_id: caseId } } })),
    [caseId],
  );
  if (!can("collections:read")) return <NeedsScope scope="collections:read" />;
  return (
    <Load state={state} onRetry={reload}>
      {(detail) => (
        <>
          <h1>
            {t("case.title")} · {label(t, "stage", detail.stage ?? "none")} ·{" "}
            <span className={`badge status-${detail.status}`}>{label(t, "status", detail.status)}</span>
          </h1>
          <Summary detail={detail} />
          <div className="columns">
            <Panel title={t("case.timeline")} id="timeline">
              <Timeline detail={detail} />
            </Panel>
            <div>
              {can("collections:write") ? (
                <CaseForms detail={detail} onChange={reload} />
              ) : (
                <NeedsScope scope="collections:write" />
              )}
            </div>
          </div>
          <Panel title={t("case.actions")} id="actions">
            <Actions detail={detail} />
          </Panel>
          <p>
            <Link to={`/customers/${detail.customer_id}`}>{t("case.customer")} →</Link>
          </p>
        </>
      )}
    </Load>
  );
}

function Summary({ detail }: { detail: CaseDetail }) {
  const { t, locale } = useI18n();
  const today = isoDay(new Date());
  return (
    <dl className="summary">
      <Item term={t("col.amount")}>{formatMoney(detail.outstanding, detail.currency, locale)}</Item>
      <Item term={t("case.due")}>{formatDay(detail.due_date, locale)}</Item>
      <Item term={t("col.days")}>{Math.max(0, daysOverdue(detail.due_date, today))}</Item>
      <Item term={t("col.segment")}>{label(t, "segment", detail.segment)}</Item>
      <Item term={t("col.route")}>{detail.route}</Item>
      <Item term={t("case.disputed")}>{formatMoney(detail.disputed_amount, detail.currency, locale)}</Item>
      <Item term={t("case.promise")}>
        <span data-testid="promise">{formatDay(detail.promise_to_pay, locale)}</span>
      </Item>
    </dl>
  );
}

function Timeline({ detail }: { detail: CaseDetail }) {
  const { t, locale } = useI18n();
  const entries = [...detail.history].reverse();
  return (
    <ol className="timeline" data-testid="timeline" tabIndex={0} aria-label={t("case.timeline")}>
      {entries.map((entry, index) => (
        <li key={`${entry.at}-${index}`}>
          <div className="when">
            {formatInstant(entry.at, locale)}
            {entry.actor && (
              <span className="muted">
                {" "}
                · {t("case.by")} {entry.actor}
              </span>
            )}
          </div>
          <div className="what">
            <strong>{label(t, "event", entry.event)}</strong>
            {entry.to && entry.from !== entry.to && (
              <span>
                {" "}
                {label(t, "stage", entry.from ?? "none")} → {label(t, "stage", entry.to)}
              </span>
            )}
          </div>
          {entry.rule && (
            <div className="rule">
              {t("case.rule")}: <code>{entry.rule}</code>
            </div>
          )}
          <div className="reason">{entry.reason}</div>
        </li>
      ))}
    </ol>
  );
}

function Actions({ detail }: { detail: CaseDetail }) {
  const { t, locale } = useI18n();
  const [letter, setLetter] = useState<string | null>(null);
  if (detail.actions.length === 0) return <p className="muted">{t("state.empty")}</p>;
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">{t("col.stage")}</th>
            <th scope="col">{t("form.actionKind")}</th>
            <th scope="col">{t("col.status")}</th>
            <th scope="col" className="num">
              {t("case.cost")}
            </th>
            <th scope="col">{t("form.note")}</th>
          </tr>
        </thead>
        <tbody>
          {detail.actions.map((action: ActionRow) => (
            <tr key={action.id}>
              <td>{label(t, "stage", action.stage)}</td>
              <td>{action.kind.replace(/_/g, " ")}</td>
              <td>{action.status}</td>
              <td className="num">{formatMoney(action.cost, detail.currency, locale)}</td>
              <td>
                {action.kind === "letter" ? (
                  <button type="button" onClick={() => setLetter(action.id)}>
                    {t("case.viewLetter")}
                  </button>
                ) : (
                  describe(action.details)
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {letter && <Letter caseId={detail.id} letterId={letter} />}
    </>
  );
}

function describe(details: Record<string, unknown>): string {
  const reason = details.reason ?? details.note ?? details.outcome;
  if (typeof reason === "string") return reason;
  return Object.entries(details)
    .filter(([, v]) => typeof v === "string" || typeof v === "number")
    .slice(0, 3)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join("; ");
}

function Item({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Letter({ caseId, letterId }: { caseId: string; letterId: string }) {
  const { t, locale } = useI18n();
  const [state, reload] = useQuery(
    () =>
      unwrap(
        collections.GET("/v1/cases/{case_id}/letters/{letter_id}", {
          params: { path: { case_id: caseId, letter_id: letterId } },
        }),
      ),
    [caseId, letterId],
  );
  return (
    <Load state={state} onRetry={reload}>
      {(letter) => (
        <figure className="letter">
          <figcaption>
            {t("case.letter")}: {letter.subject} · {formatDay(letter.letter_date, locale)} ({letter.tone})
          </figcaption>
          {/* The letter's HTML is rendered isolated: no scripts, no same-origin access. */}
          <iframe title={letter.subject} sandbox="" srcDoc={letter.html} />
        </figure>
      )}
    </Load>
  );
}

function CaseForms({ detail, onChange }: { detail: CaseDetail; onChange: () => void }) {
  const { t } = useI18n();
  const caseId = detail.id;
  const path = { params: { path: { case_id: caseId }, header: { "Idempotency-Key": idempotencyKey() } } };
  const visits = detail.actions.filter((a) => a.kind === "visit");
  return (
    <>
      <Form title={t("form.promise")} id="promise" onChange={onChange}
        submit={(v) => unwrap(collections.POST("/v1/cases/{case_id}/promises", {
          ...path, body: { promised_on: v.promised_on ?? "", amount: v.amount || null },
        }))}
        fields={[
          { name: "promised_on", label: t("form.promisedOn"), type: "date", required: true },
          { name: "amount", label: t("form.amountOptional"), type: "text", inputMode: "decimal" },
        ]}
      />
      <Form title={t("form.dispute")} id="dispute" onChange={onChange}
        submit={(v) => unwrap(collections.POST("/v1/cases/{case_id}/disputes", {
          ...path, body: { disputed_amount: v.disputed_amount ?? "", reason: v.reason ?? "" },
        }))}
        fields={[
          { name: "disputed_amount", label: t("form.amount"), type: "text", inputMode: "decimal", required: true },
          { name: "reason", label: t("form.reason"), type: "text", required: true },
        ]}
      />
      <Form title={t("form.action")} id="action" onChange={onChange}
        submit={(v) => unwrap(collections.POST("/v1/cases/{case_id}/actions", {
          ...path,
          body: {
            action: (v.action ?? "hold") as "escalate" | "hold" | "release" | "write_off",
            reason: v.reason ?? "",
            override_amount: v.override_amount === "on",
          },
        }))}
        fields={[
          { name: "action", label: t("form.actionKind"), type: "select", required: true,
            options: ["escalate", "hold", "release", "write_off"].map((a) => [a, label(t, "action", a)]) },
          { name: "reason", label: t("form.reason"), type: "text", required: true },
          { name: "override_amount", label: t("form.overrideAmount"), type: "checkbox" },
        ]}
      />
      {visits.length > 0 && (
        <Form title={t("form.visit")} id="visit" onChange={onChange}
          submit={(v) => unwrap(collections.POST("/v1/cases/{case_id}/visits/{visit_id}/outcome", {
            params: { path: { case_id: caseId, visit_id: v.visit_id ?? "" }, header: { "Idempotency-Key": idempotencyKey() } },
            body: {
              outcome: (v.outcome ?? "promise") as "paid" | "promise" | "dispute" | "refusal",
              visited_on: v.visited_on || null,
              promised_on: v.promised_on || null,
              disputed_amount: v.disputed_amount || null,
              amount_paid: v.amount_paid || null,
            },
          }))}
          fields={[
            { name: "visit_id", label: t("form.visitId"), type: "select", required: true,
              options: visits.map((a) => [a.id, `${a.created_at.slice(0, 10)} · ${a.status}`]) },
            { name: "outcome", label: t("form.outcome"), type: "select", required: true,
              options: ["paid", "promise", "dispute", "refusal"].map((o) => [o, label(t, "outcome", o)]) },
            { name: "visited_on", label: t("form.visitedOn"), type: "date" },
            { name: "promised_on", label: t("form.promisedOn"), type: "date" },
            { name: "amount_paid", label: t("form.amountPaid"), type: "text", inputMode: "decimal" },
            { name: "disputed_amount", label: t("case.disputed"), type: "text", inputMode: "decimal" },
          ]}
        />
      )}
      {detail.stage === "agency" && (
        <Form title={t("form.agency")} id="agency" onChange={onChange}
          submit={(v) => unwrap(collections.POST("/v1/cases/{case_id}/agency-reports", {
            ...path, body: { recovered: v.recovered || "0", note: v.note ?? "" },
          }))}
          fields={[
            { name: "recovered", label: t("form.recovered"), type: "text", inputMode: "decimal" },
            { name: "note", label: t("form.note"), type: "text" },
          ]}
        />
      )}
    </>
  );
}

interface Field {
  name: string;
  label: string;
  type: "text" | "date" | "select" | "checkbox";
  required?: boolean;
  inputMode?: "decimal";
  options?: string[][];
}

/** One case form: the API's problem appears inline under it when the request is refused. */
export function Form({
  title,
  id,
  fields,
  submit,
  onChange,
}: {
  title: string;
  id: string;
  fields: Field[];
  submit: (values: Record<string, string>) => Promise<unknown>;
  onChange: () => void;
}) {
  const { t } = useI18n();
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.filter((f) => f.options?.[0]).map((f) => [f.name, f.options![0]![0]!])),
  );
  const { busy, problem, done, submit: run } = useSubmit(() => submit(values), onChange);
  return (
    <form className="case-form" onSubmit={run} aria-labelledby={`${id}-title`} data-testid={`form-${id}`}>
      <h3 id={`${id}-title`}>{title}</h3>
      {fields.map((field) => (
        <label key={field.name} className={field.type === "checkbox" ? "check" : undefined}>
          {field.type !== "checkbox" && field.label}
          {field.type === "select" ? (
            <select
              name={field.name}
              value={values[field.name] ?? ""}
              onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
            >
              {field.options!.map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          ) : (
            <input
              name={field.name}
              type={field.type}
              required={field.required}
              inputMode={field.inputMode}
              checked={field.type === "checkbox" ? values[field.name] === "on" : undefined}
              value={field.type === "checkbox" ? undefined : (values[field.name] ?? "")}
              onChange={(e) =>
                setValues({
                  ...values,
                  [field.name]: field.type === "checkbox" ? (e.target.checked ? "on" : "") : e.target.value,
                })
              }
            />
          )}
          {field.type === "checkbox" && field.label}
        </label>
      ))}
      <button type="submit" disabled={busy}>
        {t("case.record")}
      </button>
      {done && <span className="ok" role="status">{t("form.saved")}</span>}
      {problem && <ProblemBox problem={problem} />}
    </form>
  );
}

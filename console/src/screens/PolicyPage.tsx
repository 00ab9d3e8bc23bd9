import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { collections, type Collections } from "../api/client";
import { toProblem } from "../api/problem";
import { unwrap, useQuery } from "../api/useQuery";
import { useSession } from "../auth/useSession";
import { addDays, isoDay } from "../format/dates";
import { label, useI18n } from "../i18n/I18n";
import { Load, NeedsScope, Panel, ProblemBox } from "../ui/States";
import { useSubmit } from "../ui/useSubmit";

// The escalation policy document (the API types it as an open object).
interface StageRule {
  stage: string;
  min_days_overdue: number;
  min_amount: string;
  action: string;
  cost: string;
}
export interface PolicyDoc {
  version: number;
  stages: StageRule[];
  penalty_interest_annual_rate: string;
  [other: string]: unknown;
}
type Move = Collections["schemas"]["SimulatedMoveRead"];

async function loadPolicy(): Promise<{ policy: PolicyDoc; etag: string }> {
  const { data, error, response } = await collections.GET("/v1/policies/current");
  if (error !== undefined || !data) throw toProblem(error, response);
  return { policy: data as PolicyDoc, etag: response.headers.get("ETag") ?? `"${(data as PolicyDoc).version}"` };
}

export function PolicyPage() {
  const { t } = useI18n();
  const { can } = useSession();
  const [state, reload] = useQuery(loadPolicy, []);
  const [savedVersion, setSavedVersion] = useState<number | null>(null);
  if (!can("collections:read")) return <NeedsScope scope="collections:read" />;
  const onSaved = (version: number) => {
    setSavedVersion(version);
    reload();
  };
  return (
    <>
      <h1>{t("policy.title")}</h1>
      {savedVersion !== null && (
        <p className="ok" role="status">
          {t("policy.saved", { version: savedVersion })}
        </p>
      )}
      <Load state={state} onRetry={reload}>
        {({ policy, etag }) => (
          <Editor key={etag} policy={policy} etag={etag} onSaved={onSaved} onStale={reload} canWrite={can("admin")} />
        )}
      </Load>
    </>
  );
}

interface EditorProps {
  policy: PolicyDoc;
  etag: string;
  onSaved: (version: number) => void;
  onStale: () => void;
  canWrite: boolean;
}

function Editor({ policy, etag, onSaved, onStale, canWrite }: EditorProps) {
  const { t } = useI18n();
  const [draft, setDraft] = useState<PolicyDoc>(policy);
  const [asOf, setAsOf] = useState(addDays(isoDay(new Date()), 30));
  const [moves, setMoves] = useState<Move[] | null>(null);
  useEffect(() => setMoves(null), [draft, asOf]);
  const dirty = JSON.stringify(draft) !== JSON.stringify(policy);

  const simulate = useSubmit(
    () => unwrap(collections.POST("/v1/policies/simulate", { body: { policy: draft, as_of: asOf } })),
    (result) => setMoves(result.moves),
  );
  const save = useSubmit(
    () =>
      unwrap(
        collections.PUT("/v1/policies/current", {
          params: { header: { "If-Match": etag } },
          body: draft,
        }),
      ),
    (saved) => onSaved((saved as PolicyDoc).version),
  );

  const setStage = (index: number, change: Partial<StageRule>) =>
    setDraft({ ...draft, stages: draft.stages.map((s, i) => (i === index ? { ...s, ...change } : s)) });

  return (
    <>
      <p>
        {t("policy.version", { version: policy.version })} {dirty && <strong className="warn">· {t("policy.dirty")}</strong>}
      </p>
      <table data-testid="policy-table">
        <thead>
          <tr>
            <th scope="col">{t("col.stage")}</th>
            <th scope="col">{t("policy.minDays")}</th>
            <th scope="col">{t("policy.minAmount")}</th>
            <th scope="col">{t("policy.cost")}</th>
            <th scope="col">{t("policy.action")}</th>
          </tr>
        </thead>
        <tbody>
          {draft.stages.map((stage, index) => (
            <tr key={stage.stage}>
              <th scope="row">{label(t, "stage", stage.stage)}</th>
              <td>
                <input
                  aria-label={`${label(t, "stage", stage.stage)} ${t("policy.minDays")}`}
                  type="number"
                  min={0}
                  value={stage.min_days_overdue}
                  disabled={!canWrite}
                  onChange={(e) => setStage(index, { min_days_overdue: Number(e.target.value) })}
                />
              </td>
              <td>
                <input
                  aria-label={`${label(t, "stage", stage.stage)} ${t("policy.minAmount")}`}
                  inputMode="decimal"
                  value={stage.min_amount}
                  disabled={!canWrite}
                  onChange={(e) => setStage(index, { min_amount: e.target.value })}
                />
              </td>
              <td>
                <input
                  aria-label={`${label(t, "stage", stage.stage)} ${t("policy.cost")}`}
                  inputMode="decimal"
                  value={stage.cost}
                  disabled={!canWrite}
                  onChange={(e) => setStage(index, { cost: e.target.value })}
                />
              </td>
              <td className="wide">{stage.action}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <label>
        {t("policy.rate")}
        <input
          inputMode="decimal"
          value={draft.penalty_interest_annual_rate}
          disabled={!canWrite}
          onChange={(e) => setDraft({ ...draft, penalty_interest_annual_rate: e.target.value })}
        />
      </label>
      <form className="filters" onSubmit={simulate.submit} aria-label={t("policy.simulate")}>
        <label>
          {t("policy.asOf")}
          <input type="date" value={asOf} required onChange={(e) => setAsOf(e.target.value)} />
        </label>
        <button type="submit" disabled={simulate.busy}>
          {t("policy.simulate")}
        </button>
        {canWrite && (
          <button type="button" className="primary" disabled={save.busy || !dirty} onClick={() => void save.submit()}>
            {t("policy.save")}
          </button>
        )}
      </form>
      {simulate.problem && <ProblemBox problem={simulate.problem} />}
      {save.problem && <ProblemBox problem={save.problem} onRetry={onStale} />}
      {moves && (
        <Panel title={t("policy.moves", { count: moves.length })} id="moves">
          <ul data-testid="moves">
            {moves.slice(0, 200).map((m, i) => (
              <li key={m.case_id ?? m.invoice_id ?? i}>
                {m.case_id ? <Link to={`/cases/${m.case_id}`}>{m.case_id.slice(0, 8)}</Link> : m.invoice_id?.slice(0, 8)}:{" "}
                {label(t, "stage", m.from_stage ?? "none")} → {label(t, "stage", m.to_stage ?? "none")} · {m.reason}
              </li>
            ))}
          </ul>
        </Panel>
      )}
    </>
  );
}

import type { ReactNode } from "react";
import type { Problem } from "../api/problem";
import type { QueryState } from "../api/useQuery";
import { useI18n } from "../i18n/I18n";

export function ProblemBox({ problem, onRetry }: { problem: Problem; onRetry?: () => void }) {
  const { t } = useI18n();
  const refused = problem.status === 403;
  return (
    <div className={refused ? "problem refused" : "problem"} role="alert" data-status={problem.status}>
      <strong>{refused ? t("state.refused") : problem.title}</strong>
      {problem.detail && <p>{problem.detail}</p>}
      {problem.errors && problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((e) => (
            <li key={e.field + e.message}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
      {onRetry && !refused && (
        <button type="button" onClick={onRetry}>
          {t("state.retry")}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" role="status" aria-live="polite">
      {t("state.loading")}
    </p>
  );
}

export function Empty({ children }: { children?: ReactNode }) {
  const { t } = useI18n();
  return <p className="muted empty">{children ?? t("state.empty")}</p>;
}

/** Loading, error/refused, empty, or the content. */
export function Load<T>({
  state,
  onRetry,
  isEmpty,
  children,
}: {
  state: QueryState<T>;
  onRetry?: () => void;
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  if (state.status === "loading") return <Loading />;
  if (state.status === "error") return <ProblemBox problem={state.problem} onRetry={onRetry} />;
  if (isEmpty?.(state.data)) return <Empty />;
  return <>{children(state.data)}</>;
}

export function Panel({ title, children, id }: { title: string; children: ReactNode; id?: string }) {
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** A section the token's scopes do not allow: say which scope is missing instead of failing. */
export function NeedsScope({ scope }: { scope: string }) {
  const { t } = useI18n();
  return <p className="muted refused">{t("state.needsScope", { scope })}</p>;
}

import { useState } from "react";
import { credit, type Credit } from "../api/client";
import { unwrap } from "../api/useQuery";
import { useSession } from "../auth/useSession";
import { addDays, formatDay, formatPercent, isoDay } from "../format/dates";
import { formatMoney } from "../format/money";
import { useI18n } from "../i18n/I18n";
import { NeedsScope, Panel, ProblemBox } from "../ui/States";
import { useSubmit } from "../ui/useSubmit";

type Quote = Credit["schemas"]["TermsQuoteRead"];

export function TermsPage() {
  const { t, locale } = useI18n();
  const { can } = useSession();
  const today = isoDay(new Date());
  const [values, setValues] = useState({ terms: "2/10 n/30", amount: "10000.00", issue_date: today, payment_date: addDays(today, 8) });
  const [currency, setCurrency] = useState("CNY");
  const [quote, setQuote] = useState<Quote | null>(null);
  const { busy, problem, submit } = useSubmit(() => unwrap(credit.POST("/v1/terms/quote", { body: values })), setQuote);
  if (!can("credit:read")) return <NeedsScope scope="credit:read" />;
  const field = (name: keyof typeof values, text: string, type = "text") => (
    <label>
      {text}
      <input
        name={name}
        type={type}
        required
        value={values[name]}
        inputMode={name === "amount" ? "decimal" : undefined}
        onChange={(e) => setValues({ ...values, [name]: e.target.value })}
      />
    </label>
  );
  return (
    <>
      <h1>{t("terms.title")}</h1>
      <form className="filters" onSubmit={submit} aria-label={t("terms.title")}>
        {field("terms", t("terms.terms"))}
        {field("amount", t("terms.amount"))}
        <label>
          ISO 4217
          <input value={currency} maxLength={3} onChange={(e) => setCurrency(e.target.value.toUpperCase())} />
        </label>
        {field("issue_date", t("terms.issue"), "date")}
        {field("payment_date", t("terms.payment"), "date")}
        <button type="submit" className="primary" disabled={busy}>
          {t("terms.quote")}
        </button>
      </form>
      {problem && <ProblemBox problem={problem} />}
      {quote && (
        <Panel title={quote.terms} id="quote">
          <dl className="summary" data-testid="quote">
            <div>
              <dt>{t("terms.discount")}</dt>
              <dd>
                {formatPercent(quote.discount_percent, locale, 2, true)} · {formatMoney(quote.discount_amount, currency, locale)}
              </dd>
            </div>
            <div>
              <dt>{t("terms.amountDue")}</dt>
              <dd>{formatMoney(quote.amount_due, currency, locale)}</dd>
            </div>
            <div>
              <dt>{t("terms.netDue")}</dt>
              <dd>{formatDay(quote.net_due_date, locale)}</dd>
            </div>
            <div>
              <dt>{t("col.status")}</dt>
              <dd>{quote.is_late ? t("terms.late", { days: quote.days_late }) : t("terms.onTime")}</dd>
            </div>
          </dl>
          {quote.tiers.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("terms.discount")}</th>
                  <th scope="col">{t("terms.deadline")}</th>
                  <th scope="col">{t("terms.earned")}</th>
                  <th scope="col" className="num">{t("terms.costOfForgoing")}</th>
                </tr>
              </thead>
              <tbody>
                {quote.tiers.map((tier) => (
                  <tr key={`${tier.percent}/${tier.days}`}>
                    <td>
                      {formatPercent(tier.percent, locale, 2, true)} / {tier.days}
                    </td>
                    <td>{formatDay(tier.deadline, locale)}</td>
                    <td>{tier.earned ? "✓" : "—"}</td>
                    <td className="num">{formatPercent(tier.cost_of_forgoing.simple_365_percent, locale, 2, true)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
      )}
    </>
  );
}

import { lazy, Suspense } from "react";
import { NavLink, Route, Routes } from "react-router-dom";
import { saveSession } from "./auth/session";
import { SignIn, OidcCallback } from "./auth/SignIn";
import { useSession } from "./auth/useSession";
import { LOCALES, useI18n, type Locale } from "./i18n/I18n";
import { CasePage } from "./screens/CasePage";
import { CustomerPage } from "./screens/CustomerPage";
import { PolicyPage } from "./screens/PolicyPage";
import { QueuePage } from "./screens/QueuePage";
import { TermsPage } from "./screens/TermsPage";
import { Loading } from "./ui/States";

// The charts (the largest dependency) load only when the dashboards are opened.
const Dashboards = lazy(() => import("./screens/Dashboards"));
const LANGUAGE_NAMES: Record<Locale, string> = { en: "English", "zh-CN": "中文" };

export function App() {
  const { t, locale, setLocale } = useI18n();
  const { session, can } = useSession();
  if (window.location.pathname === "/auth/callback") return <OidcCallback />;
  if (!session) return <SignIn />;
  return (
    <>
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <header className="top">
        <span className="brand">{t("app.title")}</span>
        <nav aria-label="main">
          {can("collections:read") && <NavLink to="/">{t("nav.queue")}</NavLink>}
          <NavLink to="/dashboards">{t("nav.dashboards")}</NavLink>
          {can("collections:read") && <NavLink to="/policy">{t("nav.policy")}</NavLink>}
          {can("credit:read") && <NavLink to="/terms">{t("nav.terms")}</NavLink>}
        </nav>
        <label className="lang">
          <span>{t("nav.language")}</span>
          <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
            {LOCALES.map((l) => (
              <option key={l} value={l}>
                {LANGUAGE_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
        <span className="who" title={session.scopes.join(" ")}>
          {session.subject}
        </span>
        <button type="button" onClick={() => saveSession(null)}>
          {t("nav.signOut")}
        </button>
      </header>
      <main id="main">
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<QueuePage />} />
            <Route path="/cases/:caseId" element={<CasePage />} />
            <Route path="/customers/:customerId" element={<CustomerPage />} />
            <Route path="/dashboards" element={<Dashboards />} />
            <Route path="/policy" element={<PolicyPage />} />
            <Route path="/terms" element={<TermsPage />} />
            <Route path="*" element={<QueuePage />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}

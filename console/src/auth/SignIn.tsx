import { useEffect, useState, type FormEvent } from "react";
import { useI18n } from "../i18n/I18n";
import { ProblemBox, Loading } from "../ui/States";
import { devSignIn, loadConfig, type ConsoleConfig } from "./config";
import { saveSession, sessionFromToken } from "./session";

const READ_ONLY = ["customers:read", "credit:read", "collections:read", "survey:read"];

export function SignIn() {
  const { t } = useI18n();
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [subject, setSubject] = useState("credit-manager");
  const [scopes, setScopes] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    loadConfig().then(
      (c) => {
        setConfig(c);
        setScopes(c.scopes);
      },
      (e: Error) => setError(e.message),
    );
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!config) return;
    setBusy(true);
    setError(null);
    try {
      if (config.mode === "oidc" && config.oidc) {
        const { oidcClient, oidcSignInUrl } = await import("./oidc");
        window.location.assign(await oidcSignInUrl(await oidcClient(config.oidc), window.location.pathname));
        return;
      }
      saveSession(sessionFromToken(await devSignIn(subject, scopes)));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  const toggle = (scope: string) =>
    setScopes((current) => (current.includes(scope) ? current.filter((s) => s !== scope) : [...current, scope]));

  return (
    <main id="main" className="signin">
      <h1>{t("app.title")}</h1>
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h2 id="signin-title">{t("signin.title")}</h2>
        {!config && !error && <Loading />}
        {error && <ProblemBox problem={{ title: t("state.error"), status: 0, detail: error }} />}
        {config?.mode === "oidc" && <p>{t("signin.oidc")}</p>}
        {config?.mode === "dev" && (
          <>
            <p>{t("signin.dev")}</p>
            <label>
              {t("signin.subject")}
              <input value={subject} onChange={(e) => setSubject(e.target.value)} required pattern="[A-Za-z0-9_.@\-]+" />
            </label>
            <fieldset>
              <legend>{t("signin.scopes")}</legend>
              <div className="presets">
                <button type="button" onClick={() => setScopes(config.scopes)}>
                  {t("signin.preset.manager")}
                </button>
                <button type="button" onClick={() => setScopes(READ_ONLY)}>
                  {t("signin.preset.readonly")}
                </button>
              </div>
              {config.scopes.map((scope) => (
                <label key={scope} className="check">
                  <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} />
                  <code>{scope}</code>
                </label>
              ))}
            </fieldset>
          </>
        )}
        {config && (
          <button type="submit" className="primary" disabled={busy || (config.mode === "dev" && scopes.length === 0)}>
            {config.mode === "oidc" ? t("signin.oidcSubmit") : t("signin.submit")}
          </button>
        )}
      </form>
    </main>
  );
}

export function OidcCallback() {
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    (async () => {
      const config = await loadConfig();
      if (!config.oidc) throw new Error("OIDC is not configured");
      const { oidcClient, oidcCompleteSignIn } = await import("./oidc");
      const { token, returnTo } = await oidcCompleteSignIn(await oidcClient(config.oidc), window.location.href);
      saveSession(sessionFromToken(token));
      window.history.replaceState(null, "", returnTo.startsWith("/") ? returnTo : "/");
      window.dispatchEvent(new PopStateEvent("popstate"));
    })().catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  return (
    <main id="main" className="signin">
      <h1>{t("app.title")}</h1>
      {error ? <ProblemBox problem={{ title: t("state.error"), status: 0, detail: error }} /> : <p>{t("signin.callback")}</p>}
    </main>
  );
}

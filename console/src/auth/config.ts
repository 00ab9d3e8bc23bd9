// How this deployment signs in, from the console server's /config.json.

export interface OidcConfig {
  authority: string;
  client_id: string;
  scope: string;
}

export interface ConsoleConfig {
  mode: "dev" | "oidc";
  scopes: string[];
  oidc?: OidcConfig;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch("/config.json", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  return (await response.json()) as ConsoleConfig;
}

export async function devSignIn(subject: string, scopes: string[]): Promise<string> {
  const response = await fetch("/auth/dev-token", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ subject, scopes }),
  });
  const body = (await response.json()) as { access_token?: string; detail?: string; title?: string };
  if (!response.ok || !body.access_token) throw new Error(body.detail ?? body.title ?? `HTTP ${response.status}`);
  return body.access_token;
}

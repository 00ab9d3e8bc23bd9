// OIDC authorization code flow with PKCE (oidc-client-ts), loaded only when a deployment uses it.
import type { OidcClient, OidcClientSettings } from "oidc-client-ts";
import type { OidcConfig } from "./config";

export const CALLBACK_PATH = "/auth/callback";

export async function oidcClient(config: OidcConfig, extra: Partial<OidcClientSettings> = {}): Promise<OidcClient> {
  const { OidcClient: Client, WebStorageStateStore } = await import("oidc-client-ts");
  return new Client({
    authority: config.authority,
    client_id: config.client_id,
    scope: config.scope,
    redirect_uri: `${window.location.origin}${CALLBACK_PATH}`,
    response_type: "code",
    stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
    ...extra,
  });
}

/** The issuer's authorization URL (with a fresh S256 code challenge and state) to send the browser to. */
export async function oidcSignInUrl(client: OidcClient, returnTo = "/"): Promise<string> {
  const request = await client.createSigninRequest({ url_state: returnTo });
  return request.url;
}

/** Exchange the code of the callback URL for tokens; returns the access token and where to go back. */
export async function oidcCompleteSignIn(client: OidcClient, url: string): Promise<{ token: string; returnTo: string }> {
  const response = await client.processSigninResponse(url);
  if (!response.access_token) throw new Error("the issuer returned no access token");
  return { token: response.access_token, returnTo: response.url_state ?? "/" };
}

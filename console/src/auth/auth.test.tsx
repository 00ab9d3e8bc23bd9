import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { I18nProvider } from "../i18n/I18n";
import { stubFetch } from "../test/render";
import { oidcClient, oidcCompleteSignIn, oidcSignInUrl } from "./oidc";
import { hasScope, loadSession, sessionFromToken } from "./session";
import { SignIn } from "./SignIn";

const ISSUER = "https://id.example.com/realms/creditflow";
const METADATA = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/protocol/openid-connect/auth`,
  token_endpoint: `${ISSUER}/protocol/openid-connect/token`,
};

function jwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${encode({ alg: "none" })}.${encode(claims)}.sig`;
}

async function sha256base64url(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

describe("session", () => {
  it("reads scopes and expiry from the token; admin implies every scope", () => {
    const session = sessionFromToken(jwt({ sub: "li.wei", scope: "collections:read survey:read", exp: 2_000_000_000 }));
    expect(session).toMatchObject({ subject: "li.wei", scopes: ["collections:read", "survey:read"], expiresAt: 2_000_000_000_000 });
    expect(hasScope(session, "collections:read")).toBe(true);
    expect(hasScope(session, "collections:write")).toBe(false);
    expect(hasScope({ ...session, scopes: ["admin"] }, "collections:write")).toBe(true);
    expect(hasScope(null, "collections:read")).toBe(false);
  });
});

describe("OIDC authorization code + PKCE", () => {
  it("sends the browser to the issuer with an S256 challenge, then redeems the code with its verifier", async () => {
    const config = { authority: ISSUER, client_id: "creditflow-console", scope: "collections:read credit:read" };
    const client = await oidcClient(config, { metadata: METADATA });
    const url = new URL(await oidcSignInUrl(client, "/dashboards"));
    expect(url.origin + url.pathname).toBe(METADATA.authorization_endpoint);
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("client_id")).toBe("creditflow-console");
    expect(url.searchParams.get("redirect_uri")).toBe("http://console.test/auth/callback");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    const challenge = url.searchParams.get("code_challenge")!;
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const state = url.searchParams.get("state")!;

    const access = jwt({ sub: "li.wei", scope: "collections:read credit:read", exp: 2_000_000_000 });
    let tokenRequest = new URLSearchParams();
    stubFetch((method, path, _url, body) => {
      if (method === "POST" && path === new URL(METADATA.token_endpoint).pathname) {
        tokenRequest = new URLSearchParams(body);
        return { status: 200, body: { access_token: access, token_type: "Bearer", expires_in: 300 } };
      }
      return undefined;
    });
    const done = await oidcCompleteSignIn(client, `http://console.test/auth/callback?code=the-code&state=${state}`);
    expect(done).toEqual({ token: access, returnTo: "/dashboards" });
    expect(tokenRequest.get("grant_type")).toBe("authorization_code");
    expect(tokenRequest.get("code")).toBe("the-code");
    expect(await sha256base64url(tokenRequest.get("code_verifier")!)).toBe(challenge);
  });

  it("refuses a callback whose state it did not issue", async () => {
    const client = await oidcClient({ authority: ISSUER, client_id: "c", scope: "collections:read" }, { metadata: METADATA });
    await expect(oidcCompleteSignIn(client, "http://console.test/auth/callback?code=x&state=forged")).rejects.toThrow();
  });
});

describe("development sign-in", () => {
  it("asks the suite for a token with the chosen scopes and keeps the session", async () => {
    const token = jwt({ sub: "credit-manager", scope: "customers:read collections:read", exp: 4_000_000_000 });
    let asked: { scopes: string[]; subject: string } | null = null;
    stubFetch((method, path, _url, body) => {
      if (path === "/config.json") return { status: 200, body: { mode: "dev", scopes: ["customers:read", "collections:read", "admin"] } };
      if (method === "POST" && path === "/auth/dev-token") {
        asked = JSON.parse(body) as { scopes: string[]; subject: string };
        return { status: 200, body: { access_token: token } };
      }
      return undefined;
    });
    render(
      <I18nProvider locale="en">
        <SignIn />
      </I18nProvider>,
    );
    await screen.findByText("customers:read");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Sign in" })));
    await waitFor(() => expect(loadSession()?.token).toBe(token));
    expect(asked).toEqual({ subject: "credit-manager", scopes: ["customers:read", "collections:read", "admin"] });
  });

  it("shows why sign-in failed", async () => {
    stubFetch((_m, path) => {
      if (path === "/config.json") return { status: 200, body: { mode: "dev", scopes: ["admin"] } };
      if (path === "/auth/dev-token") return { status: 403, body: { title: "Development sign-in is off", detail: "this deployment signs in through its OIDC issuer" } };
      return undefined;
    });
    render(
      <I18nProvider locale="en">
        <SignIn />
      </I18nProvider>,
    );
    await screen.findByText("admin");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Sign in" })));
    expect(await screen.findByRole("alert")).toHaveTextContent("this deployment signs in through its OIDC issuer");
    expect(loadSession()).toBeNull();
  });
});

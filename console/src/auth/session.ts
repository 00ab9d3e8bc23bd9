// The signed-in user's token and scopes, kept for the browser tab only (sessionStorage).

export interface Session {
  token: string;
  subject: string;
  scopes: string[];
  expiresAt: number; // epoch ms
}

const KEY = "creditflow.session";
const ADMIN = "admin";
type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();

/** The claims of a JWT (no verification: the services verify; the console only reads scopes and expiry). */
export function decodeClaims(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) throw new Error("not a JWT");
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  return JSON.parse(json) as Record<string, unknown>;
}

export function sessionFromToken(token: string): Session {
  const claims = decodeClaims(token);
  const scope = claims.scope ?? claims.scp ?? "";
  const scopes = Array.isArray(scope) ? scope.map(String) : String(scope).split(" ").filter(Boolean);
  const exp = typeof claims.exp === "number" ? claims.exp * 1000 : Date.now() + 3_600_000;
  return { token, subject: String(claims.sub ?? "user"), scopes, expiresAt: exp };
}

export function loadSession(now = Date.now()): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    return session.expiresAt > now ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener(session);
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function hasScope(session: Session | null, scope: string): boolean {
  return !!session && (session.scopes.includes(scope) || session.scopes.includes(ADMIN));
}

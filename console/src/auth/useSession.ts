import { useEffect, useState } from "react";
import { hasScope, loadSession, onSessionChange, type Session } from "./session";

export function useSession(): { session: Session | null; can: (scope: string) => boolean } {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  useEffect(() => onSessionChange(setSession), []);
  return { session, can: (scope) => hasScope(session, scope) };
}

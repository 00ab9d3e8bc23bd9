import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { vi } from "vitest";
import { saveSession } from "../auth/session";
import { I18nProvider, type Locale } from "../i18n/I18n";

export type Handler = (method: string, path: string, url: URL, body: string) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

/** Answer the app's requests from `handler` (path without /api/<service>); anything unhandled is a 404 problem. */
export function stubFetch(handler: Handler) {
  const calls: { method: string; path: string; url: URL; body: string }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(request.url);
    const body = request.method === "GET" ? "" : await request.text();
    calls.push({ method: request.method, path: url.pathname, url, body });
    const answer = handler(request.method, url.pathname, url, body) ?? {
      status: 404,
      body: { type: "about:blank", title: "Not found", status: 404, detail: `no stub for ${url.pathname}` },
    };
    const problem = answer.status >= 400;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": problem ? "application/problem+json" : "application/json", ...answer.headers },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

export function signIn(scopes: string[]) {
  saveSession({ token: "header.payload.signature", subject: "tester", scopes, expiresAt: Date.now() + 3_600_000 });
}

export function renderAt(path: string, route: string, element: ReactNode, locale: Locale = "en") {
  return render(
    <I18nProvider locale={locale}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path={route} element={element} />
          <Route path="*" element={<p>elsewhere</p>} />
        </Routes>
      </MemoryRouter>
    </I18nProvider>,
  );
}

export const problem = (status: number, title: string, detail: string, errors: { field: string; message: string }[] = []) => ({
  status,
  body: { type: "about:blank", title, status, detail, errors },
});

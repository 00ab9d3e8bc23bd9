// Typed clients for the four services, generated from their OpenAPI documents (npm run gen), all through
// the console server's same-origin proxy /api/<service>/.
import createClient, { type Middleware } from "openapi-fetch";
import { loadSession, saveSession } from "../auth/session";
import type { paths as CollectionsPaths } from "./collections";
import type { paths as CreditPaths } from "./credit";
import type { paths as CustomersPaths } from "./customers";
import type { paths as SurveyPaths } from "./survey";

export type { components as Collections } from "./collections";
export type { components as Credit } from "./credit";
export type { components as Customers } from "./customers";
export type { components as Survey } from "./survey";

const auth: Middleware = {
  onRequest({ request }) {
    const session = loadSession();
    if (session) request.headers.set("Authorization", `Bearer ${session.token}`);
    return request;
  },
  onResponse({ response }) {
    // An expired or revoked token: forget it, the app shows the sign-in page.
    if (response.status === 401) saveSession(null);
    return response;
  },
};

function client<P extends {}>(service: string) {
  const api = createClient<P>({
    baseUrl: `${window.location.origin}/api/${service}`,
    fetch: (request) => globalThis.fetch(request),
  });
  api.use(auth);
  return api;
}

export const customers = client<CustomersPaths>("customers");
export const credit = client<CreditPaths>("credit");
export const collections = client<CollectionsPaths>("collections");
export const survey = client<SurveyPaths>("survey");

/** A fresh key per submitted form, so a retried POST is applied once. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

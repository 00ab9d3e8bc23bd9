// A thin wrapper over openapi-fetch: bearer auth, typed problems, bounded retry of retryable problems.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components } from "./generated/customers.js";

/** RFC 9457 problem details, as every Creditflow service answers an error (application/problem+json). */
export type Problem = components["schemas"]["Problem"];

export interface ClientOptions {
  /** e.g. http://127.0.0.1:8001 */
  baseUrl: string;
  /** a JWT, or a function returning the current one (called per request) */
  token?: string | (() => string | Promise<string>);
  /** how many times a 503 or 429 is retried (default 3); each wait honours Retry-After, capped */
  retries?: number;
  /** the longest wait between two tries, in milliseconds (default 5000) */
  maxRetryDelayMs?: number;
  /** the fetch to use (default: the global one) */
  fetch?: (request: Request) => Promise<Response>;
}

const RETRYABLE = new Set([429, 503]);

/** Milliseconds to wait before the next try: Retry-After (seconds or an HTTP date), else a backoff. */
export function retryDelayMs(response: Response, attempt: number, maxDelayMs: number): number {
  const header = response.headers.get("Retry-After");
  let delay = 250 * 2 ** attempt;
  if (header !== null) {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) {
      delay = seconds * 1000;
    } else {
      const at = Date.parse(header);
      if (!Number.isNaN(at)) delay = at - Date.now();
    }
  }
  return Math.min(Math.max(delay, 0), maxDelayMs);
}

/** A fetch that retries retryable problems (503, 429) a bounded number of times. */
export function retryingFetch(
  retries: number,
  maxDelayMs: number,
  inner: (request: Request) => Promise<Response> = (request) => fetch(request),
): (request: Request) => Promise<Response> {
  return async (request: Request): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const response = await inner(request.clone());
      if (!RETRYABLE.has(response.status) || attempt >= retries) return response;
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(response, attempt, maxDelayMs)));
    }
  };
}

function bearer(token: NonNullable<ClientOptions["token"]>): Middleware {
  return {
    async onRequest({ request }) {
      const value = typeof token === "function" ? await token() : token;
      request.headers.set("Authorization", `Bearer ${value}`);
      return request;
    },
  };
}

/** An openapi-fetch client of one service; `error` of each call is that operation's typed `Problem`. */
export function serviceClient<Paths extends {}>(options: ClientOptions): Client<Paths> {
  const client = createClient<Paths>({
    baseUrl: options.baseUrl,
    fetch: retryingFetch(options.retries ?? 3, options.maxRetryDelayMs ?? 5000, options.fetch),
  });
  if (options.token !== undefined) client.use(bearer(options.token));
  return client;
}

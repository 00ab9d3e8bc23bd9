import { useCallback, useEffect, useRef, useState } from "react";
import { toProblem, type Problem } from "./problem";

export interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export type QueryState<T> =
  | { status: "loading" }
  | { status: "ok"; data: T }
  | { status: "error"; problem: Problem };

/** Unwrap an openapi-fetch result: the data, or a thrown Problem. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (error) {
    throw toProblem(error);
  }
  if (result.error !== undefined || !result.response.ok || result.data === undefined) {
    throw toProblem(result.error, result.response);
  }
  return result.data;
}

export function isProblem(value: unknown): value is Problem {
  return !!value && typeof value === "object" && "status" in value && "title" in value;
}

/** Run `load` when `deps` change; `reload` runs it again. Stale answers are dropped. */
export function useQuery<T>(load: () => Promise<T>, deps: unknown[]): [QueryState<T>, () => void] {
  const [state, setState] = useState<QueryState<T>>({ status: "loading" });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    setState({ status: "loading" });
    load().then(
      (data) => mine === generation.current && setState({ status: "ok", data }),
      (error: unknown) =>
        mine === generation.current &&
        setState({ status: "error", problem: isProblem(error) ? error : toProblem(error) }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return [state, reload];
}

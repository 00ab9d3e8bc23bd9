// RFC 9457 problems as the console shows them.

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string | null;
  errors?: { field: string; message: string }[];
}

export function toProblem(error: unknown, response?: Response): Problem {
  if (error && typeof error === "object" && "title" in error) {
    const value = error as Partial<Problem>;
    return {
      type: value.type,
      title: String(value.title),
      status: Number(value.status ?? response?.status ?? 0),
      detail: value.detail ?? null,
      errors: Array.isArray(value.errors) ? value.errors : [],
    };
  }
  if (error && typeof error === "object" && "detail" in error) {
    // FastAPI's default validation body, in case a route still answers with it.
    const detail = (error as { detail: unknown }).detail;
    return {
      title: response?.statusText || "Request failed",
      status: response?.status ?? 0,
      detail: typeof detail === "string" ? detail : JSON.stringify(detail),
    };
  }
  if (error instanceof Error) return { title: "Network error", status: 0, detail: error.message };
  return { title: response?.statusText || "Request failed", status: response?.status ?? 0 };
}

export function isRefused(problem: Problem): boolean {
  return problem.status === 403;
}

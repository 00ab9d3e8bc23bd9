import { useState } from "react";
import { toProblem, type Problem } from "../api/problem";
import { isProblem } from "../api/useQuery";

/** Submit a form: busy while it runs, the API's problem when refused, done when accepted. */
export function useSubmit<T>(action: () => Promise<T>, onDone?: (result: T) => void) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function submit(event?: { preventDefault: () => void }) {
    event?.preventDefault();
    setBusy(true);
    setProblem(null);
    setDone(false);
    try {
      const result = await action();
      setDone(true);
      onDone?.(result);
    } catch (error) {
      setProblem(isProblem(error) ? error : toProblem(error));
    } finally {
      setBusy(false);
    }
  }
  return { busy, problem, done, submit };
}

// Starts the whole suite (`creditflow up`: broker, four services, console server) on free ports with
// SQLite in a temporary directory, and stops it again.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const consoleDir = resolve(here, "..");
export const repo = resolve(consoleDir, "..");
const SERVICES = ["customers", "credit", "collections", "survey"];

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Poll `probe` until it returns a truthy value; fail with `what` after `seconds`. */
export async function until(what, probe, seconds = 120) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

export async function startSuite() {
  const external = process.env.CREDITFLOW_CONSOLE_URL;
  if (external) return { base: external.replace(/\/$/, ""), stop: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), "creditflow-e2e-"));
  const ports = { console: await freePort(), broker: await freePort() };
  const env = { ...process.env, CREDITFLOW_CONSOLE_PORT: String(ports.console), CREDITFLOW_CONSOLE_DIST_DIR: join(consoleDir, "dist") };
  for (const service of SERVICES) env[`CREDITFLOW_${service.toUpperCase()}_PORT`] = String(await freePort());
  const log = openSync(join(dir, "suite.log"), "a");
  const bin = process.env.CREDITFLOW_BIN ?? join(repo, ".venv/bin/creditflow");
  const child = spawn(bin, ["up", "--broker-port", String(ports.broker)], { cwd: dir, env, stdio: ["ignore", log, log] });
  const base = `http://127.0.0.1:${ports.console}`;
  let exited = null;
  child.on("exit", (code) => (exited = code));
  try {
    await until(
      "the suite's /readyz through the console",
      async () => {
        if (exited !== null) throw new Error(`creditflow up exited with ${exited}; see ${dir}/suite.log`);
        for (const service of SERVICES) {
          const response = await fetch(`${base}/api/${service}/readyz`);
          if (!response.ok) return false;
        }
        return true;
      },
      240,
    );
  } catch (error) {
    child.kill("SIGTERM");
    throw error;
  }
  return {
    base,
    dir,
    async stop() {
      if (exited === null) {
        child.kill("SIGTERM");
        await until("the suite to stop", () => exited !== null, 30).catch(() => child.kill("SIGKILL"));
      }
      if (!process.env.KEEP_E2E_DIR) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small JSON client of the suite's API through the console's proxy. */
export function api(base, token) {
  return async function call(method, path, body) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}

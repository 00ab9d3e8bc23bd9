// Regenerates src/api/<service>.ts from each service's OpenAPI document (needs the repo's .venv).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const creditflow = process.env.CREDITFLOW_BIN ?? resolve(root, ".venv/bin/creditflow");
const out = resolve(here, "..", "src/api");
const specs = resolve(here, "..", "node_modules/.cache/openapi");
mkdirSync(specs, { recursive: true });
for (const service of ["customers", "credit", "collections", "survey"]) {
  const spec = resolve(specs, `${service}.openapi.json`);
  execFileSync(creditflow, ["openapi", service, "--out", spec], { stdio: "inherit", cwd: root });
  execFileSync(resolve(here, "..", "node_modules/.bin/openapi-typescript"), [spec, "-o", resolve(out, `${service}.ts`)], {
    stdio: "inherit",
  });
}

// Types of each API from the committed OpenAPI documents (docs/api/) into src/generated/ (not committed).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";

const services = ["customers", "credit", "collections", "survey"];
mkdirSync("src/generated", { recursive: true });
for (const service of services) {
  execFileSync(
    "npx",
    [
      "openapi-typescript",
      `../../docs/api/${service}.openapi.json`,
      "-o",
      `src/generated/${service}.ts`,
      // Request fields with a default are optional; responses mark every field required themselves.
      "--default-non-nullable=false",
    ],
    { stdio: "inherit" },
  );
}

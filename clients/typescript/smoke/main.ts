// Smoke program (strict, no casts, no `any`): a customer, an invoice, the credit profile, a typed 404 problem.
// Environment: CREDITFLOW_TOKEN and CREDITFLOW_{CUSTOMERS,CREDIT,COLLECTIONS}_URL.
import { randomUUID } from "node:crypto";
import { collectionsClient, creditClient, customersClient, type Problem } from "../src/index.js";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

const token = env("CREDITFLOW_TOKEN");
const customers = customersClient({ baseUrl: env("CREDITFLOW_CUSTOMERS_URL"), token });
const credit = creditClient({ baseUrl: env("CREDITFLOW_CREDIT_URL"), token });
const collections = collectionsClient({ baseUrl: env("CREDITFLOW_COLLECTIONS_URL"), token });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function poll<T>(what: string, attempt: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds}s`);
    await sleep(200);
  }
}

function describe(problem: Problem): string {
  return `${problem.status} ${problem.title}: ${problem.detail ?? ""} (request ${problem.request_id ?? "?"})`;
}

async function main(): Promise<void> {
  const suffix = randomUUID().slice(0, 8);
  const created = await customers.POST("/v1/customers", {
    body: { name: `Smoke Trading ${suffix}`, kind: "commercial", lifecycle: "active" },
    params: { header: { "Idempotency-Key": `smoke-${suffix}` } },
  });
  if (created.error !== undefined) throw new Error(`create customer: ${describe(created.error)}`);
  const customer = created.data;
  console.log(`customer ${customer.id} created (${customer.name})`);

  const invoice = await poll("collections knows the customer", async () => {
    const { data, error } = await collections.POST("/v1/invoices", {
      body: {
        customer_id: customer.id,
        number: `SMOKE-${suffix}`,
        issue_date: "2026-01-01",
        currency: "CNY",
        amount: "1200.00",
        credit_terms: "n/30",
      },
      params: { header: { "Idempotency-Key": `smoke-invoice-${suffix}` } },
    });
    if (error === undefined) return data;
    if (error.status === 422 || error.status === 404) return undefined; // not known there yet
    throw new Error(`create invoice: ${describe(error)}`);
  });
  console.log(`invoice ${invoice.number} created: ${invoice.amount} ${invoice.currency}, due ${invoice.due_date}`);

  const profile = await poll("credit knows the customer", async () => {
    const { data, error } = await credit.GET("/v1/profiles/{customer_id}", {
      params: { path: { customer_id: customer.id } },
    });
    if (error === undefined) return data;
    if (error.status === 404) return undefined;
    throw new Error(`read profile: ${describe(error)}`);
  });
  console.log(`credit profile: grade ${profile.grade ?? "none yet"}, on hold ${String(profile.on_hold)}`);

  const missing = randomUUID();
  const { data: none, error: problem, response } = await customers.GET("/v1/customers/{customer_id}", {
    params: { path: { customer_id: missing } },
  });
  if (none !== undefined || problem === undefined) throw new Error("an unknown customer was found");
  const status: number = problem.status;
  const type: string = problem.type;
  if (status !== 404 || response.status !== 404) throw new Error(`expected 404, got ${status}`);
  if (!response.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new Error("the 404 is not application/problem+json");
  }
  console.log(`404 as a typed Problem: type ${type}, title "${problem.title}", request ${problem.request_id ?? "?"}`);
  console.log("smoke: OK");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

// Typed clients of the four Creditflow services.
import type { Client } from "openapi-fetch";
import { type ClientOptions, serviceClient } from "./client.js";
import type { paths as CollectionsPaths } from "./generated/collections.js";
import type { paths as CreditPaths } from "./generated/credit.js";
import type { paths as CustomersPaths } from "./generated/customers.js";
import type { paths as SurveyPaths } from "./generated/survey.js";

export { type ClientOptions, type Problem, retryDelayMs, retryingFetch, serviceClient } from "./client.js";
export type * as customersApi from "./generated/customers.js";
export type * as creditApi from "./generated/credit.js";
export type * as collectionsApi from "./generated/collections.js";
export type * as surveyApi from "./generated/survey.js";

export const customersClient = (options: ClientOptions): Client<CustomersPaths> => serviceClient<CustomersPaths>(options);
export const creditClient = (options: ClientOptions): Client<CreditPaths> => serviceClient<CreditPaths>(options);
export const collectionsClient = (options: ClientOptions): Client<CollectionsPaths> =>
  serviceClient<CollectionsPaths>(options);
export const surveyClient = (options: ClientOptions): Client<SurveyPaths> => serviceClient<SurveyPaths>(options);

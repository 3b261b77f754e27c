// Runtime validation of the warehouse file contracts (contracts/*.schema.json) with ajv.
// Not workflow code: call from activities, the adaptor and tests.

import { createRequire } from 'node:module';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { DispatchBatch, SalesOrderRequest } from '../domain/types';
import type { ReturnAuthorisation } from '../domain/return-authorisation';

const require = createRequire(import.meta.url);
const salesOrderRequestSchema = require('../contracts/sales-order-request.v1.schema.json') as object;
const dispatchBatchSchema = require('../contracts/dispatch-batch.v1.schema.json') as object;
const returnAuthorisationSchema = require('../contracts/return-authorisation.v1.schema.json') as object;

export type ContractValidation = { ok: true } | { ok: false; errors: string[] };

const ajv = new Ajv({ allErrors: true });
addFormats(ajv);

const validateSalesOrderRequestFn = ajv.compile<SalesOrderRequest>(salesOrderRequestSchema);
const validateDispatchBatchFn = ajv.compile<DispatchBatch>(dispatchBatchSchema);
const validateReturnAuthorisationFn = ajv.compile<ReturnAuthorisation>(returnAuthorisationSchema);

/** Validates `x` against contracts/return-authorisation.v1.schema.json. */
export function validateReturnAuthorisation(x: unknown): ContractValidation {
  return run(validateReturnAuthorisationFn, x);
}

/** Validates `x` against contracts/sales-order-request.v1.schema.json. */
export function validateSalesOrderRequest(x: unknown): ContractValidation {
  return run(validateSalesOrderRequestFn, x);
}

/** Validates `x` against contracts/dispatch-batch.v1.schema.json. */
export function validateDispatchBatch(x: unknown): ContractValidation {
  return run(validateDispatchBatchFn, x);
}

/** Type-guard variants, for callers that want the narrowed type. */
export function isSalesOrderRequest(x: unknown): x is SalesOrderRequest {
  return validateSalesOrderRequestFn(x);
}

export function isDispatchBatch(x: unknown): x is DispatchBatch {
  return validateDispatchBatchFn(x);
}

function run(fn: ValidateFunction, x: unknown): ContractValidation {
  if (fn(x)) return { ok: true };
  return { ok: false, errors: formatErrors(fn.errors ?? []) };
}

/** `"<json pointer> <message>"`, e.g. `/lines/0/quantity must be >= 1`; deduplicated, in ajv order. */
function formatErrors(errors: ErrorObject[]): string[] {
  const out: string[] = [];
  for (const e of errors) {
    let msg = `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`;
    if (e.keyword === 'additionalProperties') {
      msg += `: ${String((e.params as { additionalProperty?: unknown }).additionalProperty)}`;
    } else if (e.keyword === 'enum' || e.keyword === 'const') {
      const allowed = e.params as { allowedValues?: unknown; allowedValue?: unknown };
      msg += `: ${JSON.stringify(allowed.allowedValues ?? allowed.allowedValue)}`;
    }
    if (!out.includes(msg)) out.push(msg);
  }
  return out;
}

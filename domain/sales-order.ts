// The outbound sales order (EDI X12 940 "warehouse shipping order", mapped to JSON) for one
// warehouse sub-order. Pure: no I/O, no clock, no randomness; safe to import from workflow code.
// See docs/warehouse-files.md for the field-by-field mapping to 940 segments.

import type { DeliveryContact, OrderLine, SalesOrderPurpose, SalesOrderRequest, SalesOrderRequestLine } from './types';

/** The lines (and quantities) of the order allocated to this warehouse. */
export interface SalesOrderAllocation {
  line: OrderLine;
  /** Units of `line` allocated to this warehouse; 0 allocations are skipped. */
  quantity: number;
}

export interface BuildSalesOrderRequestInput {
  orderId: string;
  accountId: string;
  subOrderNumber: string;
  warehouseId: string;
  purpose: SalesOrderPurpose;
  /** The n-th send of this purpose for the sub-order (a resend, a cancellation sent again); 1 when absent. */
  send?: number;
  /** ISO 8601, passed in (workflow time) so that the build stays deterministic. */
  generatedAt: string;
  serviceLevel: SalesOrderRequest['serviceLevel'];
  fraudCheck: SalesOrderRequest['fraudCheck'];
  delivery: DeliveryContact;
  lines: SalesOrderAllocation[];
}

/** `<subOrderNumber>-<purpose>`, and `-<n>` from the second send of a purpose on: one file per send, whatever the retries. */
export function salesOrderFileId(subOrderNumber: string, purpose: SalesOrderPurpose, send = 1): string {
  return send > 1 ? `${subOrderNumber}-${purpose}-${send}` : `${subOrderNumber}-${purpose}`;
}

/**
 * Builds the sales order request for one warehouse sub-order.
 * Lines are sorted by line number; optional fields that are undefined or empty strings are
 * omitted so that the serialised JSON is stable.
 * Throws an Error on programming errors: a non-integer or negative allocation, the same line
 * allocated twice, or no line with a positive quantity.
 */
export function buildSalesOrderRequest(input: BuildSalesOrderRequestInput): SalesOrderRequest {
  const seen = new Set<number>();
  const lines: SalesOrderRequestLine[] = [];
  for (const { line, quantity } of input.lines) {
    if (!Number.isSafeInteger(quantity) || quantity < 0) {
      throw new Error(`buildSalesOrderRequest: line ${line.lineNumber} has an invalid quantity ${String(quantity)}`);
    }
    if (seen.has(line.lineNumber)) {
      throw new Error(`buildSalesOrderRequest: line ${line.lineNumber} is allocated more than once`);
    }
    seen.add(line.lineNumber);
    if (quantity === 0) continue;
    const out: SalesOrderRequestLine = {
      lineNumber: line.lineNumber,
      sku: line.sku,
      description: line.description,
      quantity,
      unitOfMeasure: 'EA',
      captureSerialNumbers: line.capture !== 'none',
      captureImei: line.capture === 'imei',
    };
    if (line.enrolment !== undefined) out.enrolmentProgramme = line.enrolment;
    lines.push(out);
  }
  if (lines.length === 0) {
    throw new Error(`buildSalesOrderRequest: sub-order ${input.subOrderNumber} has no line with a positive quantity`);
  }
  lines.sort((a, b) => a.lineNumber - b.lineNumber);

  return canonicalSalesOrderRequest({
    schemaVersion: '1',
    fileId: salesOrderFileId(input.subOrderNumber, input.purpose, input.send),
    warehouseId: input.warehouseId,
    generatedAt: input.generatedAt,
    purpose: input.purpose,
    depositorOrderNumber: input.orderId,
    subOrderNumber: input.subOrderNumber,
    accountId: input.accountId,
    serviceLevel: input.serviceLevel,
    fraudCheck: input.fraudCheck,
    shipTo: {
      name: input.delivery.name,
      phone: input.delivery.phone,
      email: input.delivery.email,
      addressLines: input.delivery.address.lines,
      city: input.delivery.address.city,
      region: input.delivery.address.region,
      postcode: input.delivery.address.postcode,
      country: input.delivery.address.country,
    },
    lines,
  });
}

/**
 * A copy of `req` with properties in the canonical (schema) order and optional fields that are
 * undefined or empty strings removed. Arrays are copied; line order is kept.
 */
export function canonicalSalesOrderRequest(req: SalesOrderRequest): SalesOrderRequest {
  const fraudCheck: SalesOrderRequest['fraudCheck'] = {
    required: req.fraudCheck.required,
    reasons: [...req.fraudCheck.reasons],
    result: req.fraudCheck.result,
    ...opt('providerReference', req.fraudCheck.providerReference),
  };
  const s = req.shipTo;
  const shipTo: SalesOrderRequest['shipTo'] = {
    name: s.name,
    ...opt('phone', s.phone),
    ...opt('email', s.email),
    addressLines: [...s.addressLines],
    city: s.city,
    ...opt('region', s.region),
    postcode: s.postcode,
    country: s.country,
  };
  const lines = req.lines.map((l): SalesOrderRequestLine => ({
    lineNumber: l.lineNumber,
    sku: l.sku,
    description: l.description,
    quantity: l.quantity,
    unitOfMeasure: l.unitOfMeasure,
    captureSerialNumbers: l.captureSerialNumbers,
    captureImei: l.captureImei,
    ...opt('enrolmentProgramme', l.enrolmentProgramme),
  }));
  return {
    schemaVersion: req.schemaVersion,
    fileId: req.fileId,
    warehouseId: req.warehouseId,
    generatedAt: req.generatedAt,
    purpose: req.purpose,
    depositorOrderNumber: req.depositorOrderNumber,
    subOrderNumber: req.subOrderNumber,
    accountId: req.accountId,
    serviceLevel: req.serviceLevel,
    fraudCheck,
    shipTo,
    lines,
  };
}

/** `<fileId>.json`: deterministic, so a retried write overwrites the same file. */
export function salesOrderFileName(req: Pick<SalesOrderRequest, 'fileId'>): string {
  return `${req.fileId}.json`;
}

/**
 * Stable JSON: canonical property order (see canonicalSalesOrderRequest), 2-space indent,
 * trailing newline. The same request always serialises to the same bytes.
 */
export function serialiseSalesOrderRequest(req: SalesOrderRequest): string {
  return `${JSON.stringify(canonicalSalesOrderRequest(req), null, 2)}\n`;
}

/** `{ [key]: value }` when value is a non-empty string, else `{}`: optional fields are omitted, never null. */
function opt<K extends string, V extends string>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined || value === '' ? {} : ({ [key]: value } as { [P in K]?: V });
}

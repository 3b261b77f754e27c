// The Return Authorisation sent to a warehouse (EDI 180 mapped to JSON, `purpose: "return"`,
// contracts/return-authorisation.v1.schema.json): the units the warehouse that shipped them should
// expect back under the RMA. One file per warehouse and return. Pure.
import type { ReturnReason, ReturnView } from './returns';

export interface ReturnAuthorisationUnit {
  lineNumber: number;
  sku: string;
  description: string;
  /** The sub-order that shipped it: the warehouse reports the receipt against it. */
  subOrderNumber: string;
  serialNumber?: string;
  imei?: string;
}

export interface ReturnAuthorisation {
  schemaVersion: '1';
  /** `<rmaId>-<warehouseId>-return`: one file per return and warehouse, whatever the retries. */
  fileId: string;
  warehouseId: string;
  generatedAt: string;
  purpose: 'return';
  rmaNumber: string;
  /** Our order id. */
  depositorOrderNumber: string;
  accountId: string;
  reason: ReturnReason;
  units: ReturnAuthorisationUnit[];
}

export const returnAuthorisationFileId = (rmaId: string, warehouseId: string) => `${rmaId}-${warehouseId}-return`;

/** One authorisation per warehouse that shipped a device of the return (licences go to no warehouse). */
export function returnAuthorisations(
  ret: Pick<ReturnView, 'rmaId' | 'orderId' | 'accountId' | 'reason' | 'units'>,
  generatedAt: string,
): ReturnAuthorisation[] {
  const byWarehouse = new Map<string, ReturnAuthorisationUnit[]>();
  for (const u of ret.units) {
    if (u.kind !== 'device' || !u.warehouseId || !u.subOrderNumber) continue;
    const list = byWarehouse.get(u.warehouseId) ?? [];
    list.push({
      lineNumber: u.lineNumber,
      sku: u.sku,
      description: u.description.slice(0, 200),
      subOrderNumber: u.subOrderNumber,
      ...(u.serialNumber ? { serialNumber: u.serialNumber } : {}),
      ...(u.imei ? { imei: u.imei } : {}),
    });
    byWarehouse.set(u.warehouseId, list);
  }
  return [...byWarehouse.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([warehouseId, units]) => ({
      schemaVersion: '1' as const,
      fileId: returnAuthorisationFileId(ret.rmaId, warehouseId),
      warehouseId,
      generatedAt,
      purpose: 'return' as const,
      rmaNumber: ret.rmaId,
      depositorOrderNumber: ret.orderId,
      accountId: ret.accountId,
      reason: ret.reason,
      units,
    }));
}

/** Stable JSON, 2-space indent, trailing newline (as the sales order's). */
export function serialiseReturnAuthorisation(ra: ReturnAuthorisation): string {
  const { schemaVersion, fileId, warehouseId, generatedAt, purpose, rmaNumber, depositorOrderNumber, accountId, reason, units } = ra;
  return `${JSON.stringify({ schemaVersion, fileId, warehouseId, generatedAt, purpose, rmaNumber, depositorOrderNumber, accountId, reason, units }, null, 2)}\n`;
}

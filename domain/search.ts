// Finding an order from what a customer reads out on the phone: an order number, an IMEI, a serial,
// a tracking number or an invoice number. Pure: what a reference of each kind looks like, how a
// typed value is normalised, and which references an order carries.
import { isValidImei } from './imei';
import type { OrderState } from './order-state';

export const ORDER_REFERENCE_KINDS = ['order', 'imei', 'serial', 'tracking', 'invoice'] as const;
export type OrderReferenceKind = (typeof ORDER_REFERENCE_KINDS)[number];

/** The longest query the search takes (a tracking number or serial is well under this). */
export const MAX_QUERY_LENGTH = 64;

/** One exact value to look up as one kind of reference. */
export interface ReferenceProbe {
  kind: OrderReferenceKind;
  value: string;
}

const CROCKFORD_ID = /^[0-9A-HJKMNP-TV-Z]{10}$/;

/**
 * The stored form of a value of a kind, or null when no reference of that kind looks like it.
 * Case and spaces never matter; an IMEI may be read out in groups (`35-332511-000001-2`); an
 * order number may lack its `ORD-`; an invoice number may lack its leading zeros (`INV-42`).
 */
export function normaliseReference(kind: OrderReferenceKind, raw: string): string | null {
  const v = raw.trim().toUpperCase().replace(/\s+/g, '');
  if (!v || v.length > MAX_QUERY_LENGTH) return null;
  switch (kind) {
    case 'order': {
      // Crockford base 32 reads I and L as 1 and O as 0: what a caller spells out still finds it.
      const id = (v.startsWith('ORD-') ? v.slice(4) : v).replace(/[IL]/g, '1').replace(/O/g, '0');
      return CROCKFORD_ID.test(id) ? `ORD-${id}` : null;
    }
    case 'invoice': {
      const m = /^INV-?0*(\d{1,8})$/.exec(v);
      return m ? `INV-${m[1].padStart(8, '0')}` : null;
    }
    case 'imei': {
      const digits = v.replace(/[-/.]/g, '');
      return isValidImei(digits) ? digits : null;
    }
    case 'serial':
    case 'tracking':
      return v;
  }
}

/**
 * What to look up for a query. Every kind the value could be is probed (each one keyed read, run
 * in parallel) rather than guessing one kind from its shape: a serial or a tracking number has no
 * shape of its own, so only kinds the value cannot be are left out (an order number needs its
 * Crockford id, an invoice number its INV prefix, an IMEI its 15 digits and Luhn check).
 */
export function searchProbes(query: string): ReferenceProbe[] {
  return ORDER_REFERENCE_KINDS.flatMap((kind) => {
    const value = normaliseReference(kind, query);
    return value === null ? [] : [{ kind, value }];
  });
}

/** The unit references an order carries once its units shipped (order and invoice numbers are found by their own keys). */
export function unitReferences(order: Pick<OrderState, 'subOrders'>): ReferenceProbe[] {
  const seen = new Map<string, ReferenceProbe>();
  const add = (kind: OrderReferenceKind, raw: string | undefined) => {
    const value = raw === undefined ? null : normaliseReference(kind, raw);
    if (value !== null) seen.set(`${kind}:${value}`, { kind, value });
  };
  for (const sub of order.subOrders) {
    for (const u of sub.units) {
      add('imei', u.imei);
      add('imei', u.imei2);
      add('serial', u.serialNumber);
      add('tracking', u.trackingNumber);
    }
  }
  return [...seen.values()];
}

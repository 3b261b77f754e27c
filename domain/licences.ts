// Software licences and money agree: a licence is issued at generation, but the customer keeps
// (and pays for) it only once the order delivers. An order that ends Cancelled, or in Error closed
// without anything shipped (a warehouse rejection, a failed resubmission), has its keys revoked
// and never charged. Pure: the order workflow's billing and licence steps use it.
import type { LicenceLine, OrderState } from './order-state';

/**
 * What the order's licences come to now:
 * - `charge`: the order delivered (Complete, or Error with something shipped): bill them;
 * - `revoke`: it ended without delivering (Cancelled, or Error closed with nothing shipped);
 * - `hold`: not decided yet (still going, or in Error and open for ops to resubmit).
 */
export type LicenceFate = 'charge' | 'revoke' | 'hold';

type LicenceOrder = Pick<OrderState, 'status' | 'subOrders' | 'errorResolution'>;

export function licenceFate(order: LicenceOrder): LicenceFate {
  const shipped = order.subOrders.some((s) => s.units.length > 0);
  switch (order.status) {
    case 'Complete':
      return 'charge';
    case 'Cancelled':
      return 'revoke';
    case 'Error':
      if (shipped) return 'charge';
      return order.errorResolution?.closed ? 'revoke' : 'hold';
    default:
      return 'hold';
  }
}

/** The charge key of a licence line: the business idempotency key of its one charge. */
export const licenceChargeKey = (orderId: string, lineNumber: number) => `${orderId}:${lineNumber}:licence`;

/** The licence lines to bill now: standing (not revoked) keys of an order whose fate is `charge`. */
export function licencesToCharge(order: LicenceOrder & Pick<OrderState, 'licences'>): LicenceLine[] {
  if (licenceFate(order) !== 'charge') return [];
  return order.licences.filter((l) => !l.revokedAt && l.keys.length > 0);
}

/**
 * The licence lines to revoke now: those of an order whose fate is `revoke`, not revoked yet and
 * never charged (a licence already billed, on an order resubmitted then cancelled, stays the
 * customer's: its money is settled by a credit, not by taking the key back here).
 */
export function licencesToRevoke(order: LicenceOrder & Pick<OrderState, 'orderId' | 'licences' | 'charges'>): LicenceLine[] {
  if (licenceFate(order) !== 'revoke') return [];
  const charged = new Set(order.charges.map((c) => c.chargeKey));
  return order.licences.filter((l) => !l.revokedAt && l.keys.length > 0 && !charged.has(licenceChargeKey(order.orderId, l.lineNumber)));
}

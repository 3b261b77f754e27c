// Licences of an order that ended without delivering (Cancelled, or Error closed with nothing
// shipped) are revoked; billing never charged them (domain/licences.ts). One local step, keyed by
// the licence keys: a retry or a replay revokes nothing twice and finds the same revocation time.
import { licencesToRevoke } from '../../domain/licences';
import { localSteps } from './activities';
import { SYSTEM, type OrderRecord } from './record';

export async function revokeUndeliveredLicences(record: OrderRecord): Promise<void> {
  const { order } = record;
  const lines = licencesToRevoke(order);
  if (!lines.length) return;
  const reason = order.status === 'Cancelled' ? 'order cancelled' : 'order closed in Error with nothing shipped';
  const revoked = await record.inStep(localSteps.revokeLicences({ orderId: order.orderId, keys: lines.flatMap((l) => l.keys), reason }));
  for (const l of lines) l.revokedAt = revoked.revokedAt;
  const keys = lines.reduce((n, l) => n + l.keys.length, 0);
  record.commit({ by: SYSTEM, reason: `${keys} software licence key(s) revoked, not charged: ${reason}` });
}

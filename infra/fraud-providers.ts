// Fraud-check providers. The built-in rules provider checks the delivery against our own rules
// and lists in MongoDB; the HTTP provider asks an external service. Both answer accept / refer /
// reject with reason codes and a provider reference.
import { evaluateFraudRules, normaliseAddressKey } from '../domain/fraud';
import type { DeliveryContact, FraudDecision } from '../domain/types';
import type { Models } from './db';

export interface FraudCheckRequest {
  checkId: string;
  orderId: string;
  accountId: string;
  delivery: DeliveryContact;
}

export interface FraudProviderAnswer {
  decision: FraudDecision;
  reasons: string[];
  providerReference: string;
}

export interface FraudProvider {
  readonly name: string;
  check(req: FraudCheckRequest): Promise<FraudProviderAnswer>;
}

export class RulesFraudProvider implements FraudProvider {
  readonly name = 'builtin-rules';
  constructor(
    private readonly models: Models,
    private readonly velocity: { limit: number; windowHours: number },
  ) {}

  async check(req: FraudCheckRequest): Promise<FraudProviderAnswer> {
    const key = normaliseAddressKey(req.delivery.address);
    const since = new Date(Date.now() - this.velocity.windowHours * 3_600_000).toISOString();
    const [lists, recent] = await Promise.all([
      this.models.FraudListEntry.find({}, { kind: 1, value: 1, _id: 0 }).lean(),
      this.models.OrderView.countDocuments({ deliveryKey: key, createdAt: { $gte: since }, orderId: { $ne: req.orderId }, status: { $ne: 'New' } }),
    ]);
    const result = evaluateFraudRules(
      { delivery: req.delivery, recentOrdersToAddress: recent },
      lists as { kind: 'name' | 'address' | 'postcode' | 'email' | 'phone'; value: string }[],
      { velocityLimit: this.velocity.limit, velocityWindowHours: this.velocity.windowHours },
    );
    return { decision: result.decision, reasons: result.reasons, providerReference: `rules:${req.checkId}` };
  }
}

export class HttpFraudProvider implements FraudProvider {
  readonly name = 'http';
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async check(req: FraudCheckRequest): Promise<FraudProviderAnswer> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': req.checkId },
      body: JSON.stringify({ reference: req.checkId, name: req.delivery.name, address: req.delivery.address, email: req.delivery.email, phone: req.delivery.phone }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`fraud provider answered HTTP ${res.status}`);
    const body = (await res.json()) as Partial<FraudProviderAnswer>;
    if (!body.decision || !['accept', 'refer', 'reject'].includes(body.decision)) throw new Error('fraud provider sent an unreadable answer');
    return { decision: body.decision, reasons: Array.isArray(body.reasons) ? body.reasons.map(String) : [], providerReference: String(body.providerReference ?? req.checkId) };
  }
}

// Fraud-check providers. The built-in rules provider checks the delivery against our own rules
// and lists in MongoDB; the HTTP provider asks an external service. Both answer accept / refer /
// reject with reason codes and a provider reference.
import { cachedLookup, REFERENCE_DATA_TTL_MS } from './reference-data';
import { evaluateFraudRules } from '../domain/fraud';
import type { DeliveryContact, FraudDecision } from '../domain/types';
import type { Models } from './db';
import { addressVelocity, type AddressVelocity } from './store/address-velocity';

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
  /** Told of every generated order, checked or not: for providers whose rules count orders. Idempotent. */
  noteGeneratedOrder?(order: { orderId: string; delivery: DeliveryContact; at: Date }): Promise<void>;
}

export class RulesFraudProvider implements FraudProvider {
  readonly name = 'builtin-rules';
  constructor(
    models: Models,
    private readonly velocity: { limit: number; windowHours: number },
    /** The time the velocity window ends at (tests fix it). */
    private readonly now: () => Date = () => new Date(),
  ) {
    this.uses = addressVelocity(models);
    const lists = cachedLookup(() => models.FraudListEntry.find({}, { kind: 1, value: 1, _id: 0 }).lean().exec(), REFERENCE_DATA_TTL_MS);
    this.lists = () => lists('all').then((l) => l ?? []);
  }

  /** Orders generated to each delivery address. */
  private readonly uses: AddressVelocity;
  /** The block lists, as this process last read them. */
  private readonly lists: () => Promise<{ kind: string; value: string }[]>;

  async check(req: FraudCheckRequest): Promise<FraudProviderAnswer> {
    const [lists, recent] = await Promise.all([
      this.lists(),
      this.uses.countRecent(req.delivery.address, req.orderId, { now: this.now(), windowHours: this.velocity.windowHours, limit: this.velocity.limit }),
    ]);
    const result = evaluateFraudRules(
      { delivery: req.delivery, recentOrdersToAddress: recent },
      lists as { kind: 'name' | 'address' | 'postcode' | 'email' | 'phone'; value: string }[],
      { velocityLimit: this.velocity.limit, velocityWindowHours: this.velocity.windowHours },
    );
    return { decision: result.decision, reasons: result.reasons, providerReference: `rules:${req.checkId}` };
  }

  /** Every generated order counts towards its address's velocity from now on. */
  async noteGeneratedOrder({ orderId, delivery, at }: { orderId: string; delivery: DeliveryContact; at: Date }): Promise<void> {
    await this.uses.note(delivery.address, orderId, at);
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
      body: JSON.stringify({
        reference: req.checkId,
        name: req.delivery.name,
        address: req.delivery.address,
        email: req.delivery.email,
        phone: req.delivery.phone,
      }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`fraud provider answered HTTP ${res.status}`);
    const body = (await res.json()) as Partial<FraudProviderAnswer>;
    if (!body.decision || !['accept', 'refer', 'reject'].includes(body.decision)) throw new Error('fraud provider sent an unreadable answer');
    return {
      decision: body.decision,
      reasons: Array.isArray(body.reasons) ? body.reasons.map(String) : [],
      providerReference: String(body.providerReference ?? req.checkId),
    };
  }
}

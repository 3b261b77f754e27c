// Fraud-check providers. The built-in rules provider checks the delivery against our own rules
// and lists in MongoDB; the HTTP provider asks an external service. Both answer accept / refer /
// reject with reason codes and a provider reference.
import { createHash } from 'node:crypto';
import { evaluateFraudRules, normaliseAddressKey } from '../domain/fraud';
import type { Address, DeliveryContact, FraudDecision } from '../domain/types';
import { isDuplicateKey, type Models } from './db';

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

const DAY_MS = 86_400_000;

export class RulesFraudProvider implements FraudProvider {
  readonly name = 'builtin-rules';
  constructor(
    private readonly models: Models,
    private readonly velocity: { limit: number; windowHours: number },
  ) {}

  async check(req: FraudCheckRequest): Promise<FraudProviderAnswer> {
    const [lists, recent] = await Promise.all([
      this.models.FraudListEntry.find({}, { kind: 1, value: 1, _id: 0 }).lean(),
      this.recentOrdersTo(req.delivery.address, req.orderId, new Date()),
    ]);
    const result = evaluateFraudRules(
      { delivery: req.delivery, recentOrdersToAddress: recent },
      lists as { kind: 'name' | 'address' | 'postcode' | 'email' | 'phone'; value: string }[],
      { velocityLimit: this.velocity.limit, velocityWindowHours: this.velocity.windowHours },
    );
    return { decision: result.decision, reasons: result.reasons, providerReference: `rules:${req.checkId}` };
  }

  /** Takes the address's next free slot for the day; a retry finds its own slot and stops there. */
  async noteGeneratedOrder({ orderId, delivery, at }: { orderId: string; delivery: DeliveryContact; at: Date }): Promise<void> {
    const { DeliveryAddressUse } = this.models;
    const prefix = slotPrefix(delivery.address, at.getTime());
    for (let n = 0; ; n++) {
      const _id = `${prefix}${n}`;
      const taken = await DeliveryAddressUse.findOne({ _id }, { orderId: 1 }).lean();
      if (taken?.orderId === orderId) return;
      if (taken) continue;
      try {
        await DeliveryAddressUse.create({ _id, orderId, generatedAt: at.toISOString() });
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        n--; // taken meanwhile: look at who took it
      }
    }
  }

  /** Other orders generated to the address within the window: each day's slots, read until the first free one. */
  private async recentOrdersTo(address: Address, orderId: string, now: Date): Promise<number> {
    const since = now.getTime() - this.velocity.windowHours * 3_600_000;
    const days: number[] = [];
    for (let d = since - (since % DAY_MS); d <= now.getTime(); d += DAY_MS) days.push(d);
    const perDay = await Promise.all(
      days.map(async (day) => {
        const found: { orderId: string; generatedAt: string }[] = [];
        for (let n = 0; ; n++) {
          const use = await this.models.DeliveryAddressUse.findOne({ _id: `${slotPrefix(address, day)}${n}` }, { orderId: 1, generatedAt: 1 }).lean();
          if (!use) return found;
          found.push(use);
        }
      }),
    );
    const sinceIso = new Date(since).toISOString();
    // A retry on a later day may have taken a second slot: count orders, not slots.
    return new Set(perDay.flat().filter((u) => u.orderId !== orderId && u.generatedAt >= sinceIso).map((u) => u.orderId)).size;
  }
}

/** The address is hashed: slot ids stay short, and no separator inside an address can clash. */
function slotPrefix(address: Address, at: number): string {
  const hash = createHash('sha256').update(normaliseAddressKey(address)).digest('hex').slice(0, 32);
  return `${hash}|${new Date(at).toISOString().slice(0, 10)}|`;
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

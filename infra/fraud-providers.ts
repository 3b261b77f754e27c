// Fraud-check providers. The built-in rules provider checks the delivery against our own rules
// and lists in MongoDB; the HTTP provider asks an external service. Both answer accept / refer /
// reject with reason codes and a provider reference.
import { createHash } from 'node:crypto';
import { cachedLookup, REFERENCE_DATA_TTL_MS } from './reference-data';
import { evaluateFraudRules, normaliseAddressKey } from '../domain/fraud';
import type { Address, DeliveryContact, FraudDecision } from '../domain/types';
import { isDuplicateKey, raiseSequenceHint, sequenceHint, type Models } from './db';

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
/**
 * An address's uses are kept in 7-day buckets (from the epoch, so every process agrees): the
 * 7-day window spans at most two, so an address with no recent orders costs three reads (the
 * current bucket's first slot, the previous bucket's hint and first slot), where day buckets
 * cost eight.
 */
const BUCKET_MS = 7 * DAY_MS;
const bucketOf = (t: number) => t - (t % BUCKET_MS);

export class RulesFraudProvider implements FraudProvider {
  readonly name = 'builtin-rules';
  constructor(
    private readonly models: Models,
    private readonly velocity: { limit: number; windowHours: number },
    /** The time the velocity window ends at (tests fix it). */
    private readonly now: () => Date = () => new Date(),
  ) {
    const lists = cachedLookup(() => models.FraudListEntry.find({}, { kind: 1, value: 1, _id: 0 }).lean().exec(), REFERENCE_DATA_TTL_MS);
    this.lists = () => lists('all').then((l) => l ?? []);
  }

  /** The block lists, as this process last read them. */
  private readonly lists: () => Promise<{ kind: string; value: string }[]>;

  async check(req: FraudCheckRequest): Promise<FraudProviderAnswer> {
    const [lists, recent] = await Promise.all([
      this.lists(),
      this.recentOrdersTo(req.delivery.address, req.orderId, this.now()),
    ]);
    const result = evaluateFraudRules(
      { delivery: req.delivery, recentOrdersToAddress: recent },
      lists as { kind: 'name' | 'address' | 'postcode' | 'email' | 'phone'; value: string }[],
      { velocityLimit: this.velocity.limit, velocityWindowHours: this.velocity.windowHours },
    );
    return { decision: result.decision, reasons: result.reasons, providerReference: `rules:${req.checkId}` };
  }

  /**
   * Takes the address's next free slot in the bucket, searching from the bucket's hint (an address
   * may take hundreds of orders a week: a business's head office). A retry finds its own slot at
   * or above the hint; one left below it is counted once anyway (orders are counted, not slots).
   * Slots are taken in time order, which lets the count stop at the window's start.
   */
  async noteGeneratedOrder({ orderId, delivery, at }: { orderId: string; delivery: DeliveryContact; at: Date }): Promise<void> {
    const { DeliveryAddressUse } = this.models;
    const prefix = slotPrefix(delivery.address, bucketOf(at.getTime()));
    const hintId = `address:${prefix}`;
    for (let n = await sequenceHint(this.models, hintId); ; n++) {
      const _id = `${prefix}${n}`;
      const taken = await DeliveryAddressUse.findOne({ _id }, { orderId: 1 }).lean();
      if (taken?.orderId === orderId) return;
      if (taken) continue;
      try {
        await DeliveryAddressUse.create({ _id, orderId, generatedAt: at.toISOString() });
        await raiseSequenceHint(this.models, hintId, n);
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        n--; // taken meanwhile: look at who took it
      }
    }
  }

  /**
   * Other orders generated to the address within the window, up to the limit (the rule asks only
   * whether it is reached), newest bucket first. A bucket wholly inside the window is read from
   * its first slot to the first free one. One that starts before the window is read up from its
   * hint to the first free slot (a hint may lag), then down from the hint until a use is older
   * than the window: a busy address's older uses are never read.
   */
  private async recentOrdersTo(address: Address, orderId: string, now: Date): Promise<number> {
    const since = now.getTime() - this.velocity.windowHours * 3_600_000;
    const sinceIso = new Date(since).toISOString();
    const limit = this.velocity.limit;
    const others = new Set<string>();
    for (let bucket = bucketOf(now.getTime()); bucket + BUCKET_MS > since && others.size < limit; bucket -= BUCKET_MS) {
      const prefix = slotPrefix(address, bucket);
      const read = (n: number) => this.models.DeliveryAddressUse.findOne({ _id: `${prefix}${n}` }, { orderId: 1, generatedAt: 1 }).lean();
      const start = bucket >= since ? 0 : await sequenceHint(this.models, `address:${prefix}`);
      for (let n = start; others.size < limit; n++) {
        const use = await read(n);
        if (!use) break;
        if (use.orderId !== orderId && use.generatedAt >= sinceIso) others.add(use.orderId);
      }
      for (let n = start - 1; n >= 0 && others.size < limit; n--) {
        const use = await read(n);
        if (!use || use.generatedAt < sinceIso) break;
        if (use.orderId !== orderId) others.add(use.orderId);
      }
    }
    return others.size;
  }
}

/** The address is hashed: slot ids stay short, and no separator inside an address can clash. */
function slotPrefix(address: Address, bucket: number): string {
  const hash = createHash('sha256').update(normaliseAddressKey(address)).digest('hex').slice(0, 32);
  return `${hash}|w${new Date(bucket).toISOString().slice(0, 10)}|`;
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

// The order's one way to record a change. Pure: the workflow hands in its Temporal effects, so
// the rules (one revision per change, attributes and summary only when they changed, projections
// coalesced) are unit-tested without a worker.
import { orderTotals } from '../../domain/money';
import { needsAttention } from '../../domain/order-exceptions';
import * as rules from '../../domain/order-state';
import type { EntryDetail, OrderEvent, OrderState } from '../../domain/order-state';
import type { OrderView } from '../messages';

/** The search attributes ops filter on in the Temporal UI: never personal data. */
export interface OrderAttributes {
  OrderStatus: string;
  AccountId: string;
  BillingMode: string;
  WarehouseIds: string[];
  NeedsAttention: string[];
}

export interface RecordEffects {
  /** Upserts the attributes given (only those that changed). */
  publishAttributes(changed: Partial<OrderAttributes>): void;
  /** The Temporal UI's summary line. */
  showDetails(text: string): void;
  /** Workflow time, deterministic on replay. */
  now(): string;
  /** Counts a status transition for the operators' metrics (not again on replay). */
  countTransition(event: OrderEvent, status: OrderState['status']): void;
}

export const SYSTEM = 'system';

export function viewOf(order: OrderState): OrderView {
  const t = orderTotals(order.lines);
  return {
    ...order,
    totals: { net: t.net, tax: t.tax, gross: t.gross },
    allowedActions: rules.allowedActions(order),
    needsAttention: needsAttention(order),
  };
}

export class OrderRecord {
  private attributes: Partial<OrderAttributes>;
  private details = '';
  /** The newest revision the read model is known to hold. */
  private projectedRevision: number;
  /** The read model still holds the order as it was opened (status New). */
  private storedAsOpened = true;
  private projecting = false;
  /** Steps under way whose outcome the next write should carry (local), or the first job's outside ones. */
  private readonly stepsRunning = { local: 0, outside: 0 };

  constructor(
    readonly order: OrderState,
    private readonly effects: RecordEffects,
    /** What the workflow was started with, so an unchanged attribute is not upserted again. */
    startAttributes: Partial<OrderAttributes>,
  ) {
    this.attributes = { ...startAttributes };
    // The opener stored the order as opened (infra/open-order.ts) before the workflow ran.
    this.projectedRevision = order.revision;
    this.publish();
    this.showSummary();
  }

  now(): string {
    return this.effects.now();
  }

  view(): OrderView {
    return viewOf(this.order);
  }

  /**
   * Records a change already made to the order: one revision, and a history entry when the change
   * is worth one. The summary line follows at once (it costs no history event); ops' search
   * attributes and the read model follow with the next write (`takeSnapshot`), however many
   * changes came before it.
   */
  commit(entry?: { by: string; reason: string } & EntryDetail): void {
    if (entry) this.order.history.push({ from: this.order.status, to: this.order.status, at: this.effects.now(), ...entry });
    this.order.revision++;
    this.showSummary();
  }

  /** Moves the order along the transition table, recording who and why (and the request, what changed). */
  move(event: OrderEvent, by: string, reason: string, detail?: EntryDetail): void {
    rules.transition(this.order, event, this.effects.now(), by, reason, detail);
    this.effects.countTransition(event, this.order.status);
    this.commit();
  }

  fail(code: string, message: string): void {
    this.order.error = { code, message };
    this.move('rejected', SYSTEM, `${code}: ${message}`);
  }

  /**
   * A step whose result the order acts on at once (a local activity): the read model waits for
   * it, so one write carries the step's outcome with the changes before it.
   */
  inStep<T>(step: Promise<T>): Promise<T> {
    return this.running('local', step);
  }

  /**
   * An outside step of the Sales Order Request job (the fraud check, a send), normally seconds long.
   * While the read model still holds the order as opened, its write waits for the step too (agents
   * read the generate's answer the API kept meanwhile), and one write then carries the job as far
   * as it got.
   */
  inOutsideStep<T>(step: Promise<T>): Promise<T> {
    return this.running('outside', step);
  }

  private async running<T>(kind: 'local' | 'outside', step: Promise<T>): Promise<T> {
    this.stepsRunning[kind]++;
    try {
      return await step;
    } finally {
      this.stepsRunning[kind]--;
    }
  }

  /**
   * True while the read model is behind the order, no write of it is under way and no step is about
   * to change it. The opener stores a New order; its edits are read from the answers the API kept
   * (`keepAnswer`), and written once the generate
   * or the cancel that ends New has run the job to a resting point: sent, waiting for ops or for
   * stock, failed or cancelled.
   */
  needsProjection(): boolean {
    if (this.order.status === 'New') return false;
    if (this.storedAsOpened && this.stepsRunning.outside > 0) return false;
    return !this.projecting && this.stepsRunning.local === 0 && this.order.revision > this.projectedRevision;
  }

  /** True once the read model holds the order as it is now. */
  isProjected(): boolean {
    return !this.projecting && this.order.revision <= this.projectedRevision;
  }

  /** The newest revision the read model is known to hold (the writer's starting point in a process that has not written it). */
  storedRevision(): number {
    return this.projectedRevision;
  }

  /** The view to write, with every change made so far; ops' search attributes are brought up to date with it. */
  takeSnapshot(): OrderView {
    this.projecting = true;
    this.publish();
    return this.view();
  }

  /** No write of the read model is under way. */
  writeIdle(): boolean {
    return !this.projecting;
  }

  /** A step given a snapshot to write (`takeSnapshot`) failed before writing it. */
  snapshotAbandoned(): void {
    this.projecting = false;
  }

  snapshotWritten(snapshot: Pick<OrderView, 'revision' | 'status'>): void {
    this.projecting = false;
    if (snapshot.revision <= this.projectedRevision) return;
    this.projectedRevision = snapshot.revision;
    this.storedAsOpened = snapshot.status === 'New';
  }

  private publish(): void {
    const o = this.order;
    const next: OrderAttributes = {
      OrderStatus: o.status,
      AccountId: o.accountId,
      BillingMode: o.billingMode,
      WarehouseIds: [...new Set(o.subOrders.map((s) => s.warehouseId))],
      NeedsAttention: needsAttention(o),
    };
    const changed: Partial<OrderAttributes> = {};
    for (const key of Object.keys(next) as (keyof OrderAttributes)[]) {
      // The lists start unset: an empty list is not worth an upsert.
      if ((key === 'WarehouseIds' || key === 'NeedsAttention') && next[key].length === 0 && this.attributes[key] === undefined) continue;
      if (JSON.stringify(next[key]) !== JSON.stringify(this.attributes[key])) Object.assign(changed, { [key]: next[key] });
    }
    if (Object.keys(changed).length) {
      this.effects.publishAttributes(changed);
      this.attributes = { ...this.attributes, ...changed };
    }
  }

  private showSummary(): void {
    const details = summaryOf(this.order);
    if (details !== this.details) {
      this.effects.showDetails(details);
      this.details = details;
    }
  }
}

/** The Temporal UI's summary line: status, size, value, error and fraud reason codes; no personal data. */
export function summaryOf(order: OrderState): string {
  const lines = order.lines.length;
  return (
    `**${order.status}**${order.cancellationRequested ? ' (cancellation requested)' : ''} · ${lines} line${lines === 1 ? '' : 's'} · ` +
    `${orderTotals(order.lines).gross} ${order.currency} minor units${order.error ? ` · ${order.error.code}` : ''}${fraudSummary(order)}`
  );
}

function fraudSummary(order: OrderState): string {
  const f = order.fraud;
  if (!f?.required) return '';
  const decision = f.result ? ` ${f.result.decision}${f.result.reasons.length ? ` (${f.result.reasons.join(', ')})` : ''}` : ' pending';
  const review = f.awaitingReview ? ` · FRAUD_REVIEW until ${f.awaitingReview.deadline}` : f.review ? ` · review ${f.review.decision}` : '';
  return ` · fraud check [${f.reasons.join(', ')}]:${decision}${review}`;
}

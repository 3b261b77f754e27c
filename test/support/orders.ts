// Small helpers for integration tests that drive orders through the agent API.
import fs from 'node:fs';
import { expect } from 'vitest';
import type { DeliveryContact, OrderStatus } from '../../domain/types';
import { warehouseFolders } from '../../infra/config';
import { orderWorkflowId } from '../../workflows/messages';
import { eventually, type TestSystem } from './system';

/** A delivery away from every demo account's billing address (so the fraud policy flags it). */
export function deliveryElsewhere(over: { name?: string; postcode?: string; email?: string } = {}): DeliveryContact {
  return {
    name: over.name ?? 'Bob Smith',
    phone: '+44 7700 900999',
    ...(over.email ? { email: over.email } : {}),
    address: { lines: ['5 Park Road'], city: 'Leeds', postcode: over.postcode ?? 'LS2 7AB', country: 'GB' },
  };
}

export async function createOrder(sys: TestSystem, accountId = 'ACC-1001', body: Record<string, unknown> = {}): Promise<any> {
  const r = await sys.call('POST', `/api/v1/accounts/${accountId}/orders`, { body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

export async function addLine(sys: TestSystem, orderId: string, sku: string, quantity = 1): Promise<any> {
  const r = await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: { sku, quantity } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

export async function generate(sys: TestSystem, orderId: string): Promise<any> {
  const r = await sys.call('POST', `/api/v1/orders/${orderId}/generate`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

export async function readOrder(sys: TestSystem, orderId: string, role: 'agent' | 'ops' = 'agent'): Promise<any> {
  const r = await sys.call('GET', `/api/v1/orders/${orderId}`, { role });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** Waits until the order (as the API shows it) satisfies the predicate. */
export function waitForOrder(sys: TestSystem, orderId: string, pred: (o: any) => boolean, what: string, timeoutMs?: number): Promise<any> {
  return eventually(
    async () => {
      const o = await readOrder(sys, orderId, 'ops');
      return pred(o) && o;
    },
    `${orderId}: ${what}`,
    timeoutMs,
  );
}

export const waitForStatus = (sys: TestSystem, orderId: string, status: OrderStatus, timeoutMs?: number) =>
  waitForOrder(sys, orderId, (o) => o.status === status, `status ${status}`, timeoutMs);

/** Sales order files waiting in a warehouse's outbox (temp files excluded). */
export function outboxFiles(sys: TestSystem, warehouseId: string): string[] {
  const { outbox } = warehouseFolders(sys.config.dataDir, warehouseId);
  return fs.existsSync(outbox)
    ? fs
        .readdirSync(outbox)
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .sort()
    : [];
}

export function readOutboxFile(sys: TestSystem, warehouseId: string, name: string): any {
  return JSON.parse(fs.readFileSync(`${warehouseFolders(sys.config.dataDir, warehouseId).outbox}/${name}`, 'utf8'));
}

/**
 * The order workflow's history length once it is idle (no workflow task or activity pending),
 * so that a later comparison sees only what a request added.
 */
export async function settledHistoryLength(sys: TestSystem, orderId: string): Promise<number> {
  const handle = sys.temporal.workflow.getHandle(orderWorkflowId(orderId));
  let previous = -1;
  return eventually(async () => {
    const d = await handle.describe();
    const busy = !!d.raw.pendingWorkflowTask || (d.raw.pendingActivities?.length ?? 0) > 0;
    const n = (await handle.fetchHistory()).events?.length ?? 0;
    const stable = !busy && n === previous && n === d.historyLength;
    previous = n;
    return stable && n;
  }, `${orderId}: an idle workflow history`);
}

export async function historyLength(sys: TestSystem, orderId: string): Promise<number> {
  return (await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory()).events?.length ?? 0;
}

/** History entries that kept the status and are not an edit (edits carry `changes`): fraud decisions, warehouse news, requests, notes. */
export const notes = (order: any): string[] => order.history.filter((h: any) => h.from === h.to && !h.changes).map((h: any) => h.reason);

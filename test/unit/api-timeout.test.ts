// A request that outlives REQUEST_TIMEOUT_MS answers 503 DEPENDENCY_UNAVAILABLE in the API's error
// shape instead of holding the agent's screen: here a warehouse that never answers a stock check.
import type { Client } from '@temporalio/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, REQUEST_TIMEOUT_MS } from '../../api/app';
import { loadConfig } from '../../infra/config';
import type { Db } from '../../infra/db';
import type { StockClient } from '../../infra/stock-client';

afterEach(() => {
  vi.useRealTimers();
});

describe('request timeout', () => {
  it('answers 503 in the error shape when a dependency does not answer in time', async () => {
    vi.useFakeTimers();
    const stock = { warehouseIds: ['WH-NORTH'], check: () => new Promise<never>(() => {}) } as unknown as StockClient;
    const app = createApp({ config: loadConfig({ NODE_ENV: 'test' }), db: { models: {} } as Db, temporal: {} as Client, stock });
    let settled = false;
    const answer = Promise.resolve(app.request('/api/v1/stock?sku=HS-APL-IP16-128', { headers: { authorization: 'Bearer agent-dev-token' } })).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(REQUEST_TIMEOUT_MS - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const res = await answer;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: 'DEPENDENCY_UNAVAILABLE', message: 'the request took too long' } });
  });
});

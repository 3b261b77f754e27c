// What a penetration test found at the API's edge, kept fixed: control characters in free text,
// idempotency records, JSON batches claiming another file's id, adaptors scoped to a warehouse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLine, createOrder, deliveryElsewhere } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const NUL = '\u0000';

describe('control characters in free text', () => {
  it('a NUL in a search is a 400, not a 500', async () => {
    for (const url of ['/api/v1/accounts?query=a%00b', '/api/v1/catalogue?q=a%00b', '/api/v1/accounts?query=%1B%5B31m']) {
      const r = await sys.call('GET', url);
      expect(r, url).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('control characters') } } });
    }
  });

  it('every free-text field of an order refuses control characters; reasons may have line breaks', async () => {
    const { orderId } = await createOrder(sys);
    await addLine(sys, orderId, 'PR-APL-USBC-20W', 1);
    const refused = [
      ['POST', `/api/v1/orders/${orderId}/cancel`, { reason: `changed${NUL}mind` }],
      ['POST', `/api/v1/orders/${orderId}/cancel`, { reason: 'changed\u0007mind' }],
      ['PUT', `/api/v1/orders/${orderId}/delivery`, deliveryElsewhere({ name: `Bob${NUL}` })],
      ['PUT', `/api/v1/orders/${orderId}/delivery`, { ...deliveryElsewhere(), address: { ...deliveryElsewhere().address, lines: ['5 Park\u0085Road'] } }],
      ['PUT', `/api/v1/orders/${orderId}/delivery`, { ...deliveryElsewhere(), address: { ...deliveryElsewhere().address, city: 'Leeds\nLS1' } }],
      ['POST', `/api/v1/orders/${orderId}/lines`, { sku: `PR-APL-USBC-20W${NUL}`, quantity: 1 }],
      ['POST', `/api/v1/accounts/ACC-1001/orders`, { delivery: deliveryElsewhere({ postcode: `LS2${NUL}7AB` }) }],
    ] as const;
    for (const [method, url, body] of refused) {
      const r = await sys.call(method, url, { body });
      expect(r, `${method} ${url} ${JSON.stringify(body)}`).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    }
    const review = await sys.call('POST', `/api/v1/orders/${orderId}/fraud-review`, { role: 'ops', body: { decision: 'approve', reason: `ok${NUL}` } });
    expect(review.status).toBe(400);
    const cancelled = await sys.call('POST', `/api/v1/orders/${orderId}/cancel`, { body: { reason: 'customer called:\nchanged their mind' } });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
  });
});

// AgentView's order search (the header box on every page) and the ops work queue, in a real browser
// (Debian's Chromium via playwright-core) against the real API, worker, Temporal dev server and
// FerretDB.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../../workflows/messages';
import { deliver, errorRow, ordersAwaitingDispatch, shippedRows, waitForStatus } from '../support/dispatch-fixtures';
import { waitForOrder } from '../support/orders';
import { startSystem, TOKENS, type TestSystem } from '../support/system';
import { openBrowser, signIn, type Browser, showing, WAIT } from './support';

let sys: TestSystem;
let browser: Browser;
beforeAll(async () => {
  // Error orders stay open for ops while the test looks at them (the tests' default window is 2 s).
  sys = await startSystem({ env: { ERROR_RESOLUTION_WINDOW: '1h' } });
  browser = await openBrowser(sys);
}, 900_000);
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

async function findOrder(page: Page, q: string) {
  await page.getByLabel('Find an order').fill(q);
  await page.getByRole('button', { name: 'Go to order' }).click();
}

async function newOrder(body: Record<string, unknown>, lines: { sku: string; quantity: number }[]): Promise<string> {
  const created = await sys.call('POST', '/api/v1/accounts/ACC-1003/orders', { body });
  const orderId: string = created.body.orderId;
  for (const l of lines) expect((await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: l })).status).toBe(200);
  expect((await sys.call('POST', `/api/v1/orders/${orderId}/generate`)).status).toBe(200);
  return orderId;
}

describe('AgentView search and work queue', () => {
  it('goes straight to the order found by an IMEI, lists the orders sharing a tracking number, and says when nothing matches', async () => {
    const sent = await ordersAwaitingDispatch(sys, 3, { accountId: 'ACC-1002', lines: [{ sku: 'HS-APL-IP16-128', quantity: 1 }] });
    const tracking = 'TRK-BROWSER-SHARED';
    // The first order ships under its own tracking number, the other two under one shared.
    const rows = sent.flatMap((o, i) => shippedRows(o).map((r) => (i > 0 ? { ...r, tracking_number: tracking } : r)));
    await deliver(sys, sent[0].subOrders[0].warehouseId, 'browser.csv', rows);
    const [first, ...shared] = await waitForStatus(
      sys,
      sent.map((o) => o.orderId),
      'Complete',
    );
    const imei = first.subOrders[0].units[0].imei!;

    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.agent);
    // Read out in groups, from the account search page.
    await findOrder(page, `${imei.slice(0, 2)} ${imei.slice(2, 8)} ${imei.slice(8, 14)} ${imei.slice(14)}`);
    await page.waitForURL(`${browser.baseUrl}/orders/${first.orderId}`, WAIT);
    await showing(page, '#order-status', 'Complete');

    await findOrder(page, tracking.toLowerCase());
    await showing(page, '#order-search-results', '2 orders match');
    for (const o of shared) expect(await page.locator('#order-search-results').getByRole('link', { name: o.orderId }).isVisible()).toBe(true);
    await browser.screenshot(page, 'order-search-several');
    await page.locator('#order-search-results').getByRole('link', { name: shared[1].orderId }).click();
    await page.waitForURL(`${browser.baseUrl}/orders/${shared[1].orderId}`, WAIT);

    await findOrder(page, 'TRK-NOBODY-SHIPPED');
    await showing(page, '#order-search-results', 'No order matches “TRK-NOBODY-SHIPPED”');
    expect(page.url()).toBe(`${browser.baseUrl}/orders/${shared[1].orderId}`);
    await page.close();
  });

  it('shows ops one queue with a tab and a count per kind; a fraud review is decided from it and leaves it', async () => {
    const referred = await newOrder(
      { delivery: { name: 'Qwerty Smith', address: { lines: ['5 Castle Street'], city: 'Inverness', postcode: 'IV1 1AA', country: 'GB' } } },
      [{ sku: 'PR-GEN-CASE-IP16', quantity: 1 }],
    );
    const backordered = await newOrder({}, [{ sku: 'HS-SAM-A16-128', quantity: 900 }]);
    const [sent]: OrderView[] = await ordersAwaitingDispatch(sys, 1, { accountId: 'ACC-1002', lines: [{ sku: 'PR-GEN-CASE-IP16', quantity: 1 }] });
    await deliver(sys, sent.subOrders[0].warehouseId, 'error.csv', [errorRow(sent, 1, 'DAMAGED', 'stock damaged in the warehouse')]);
    await deliver(sys, 'WH-NORTH', 'stray.csv', [
      {
        warehouse_id: 'WH-NORTH',
        sub_order_number: 'ORD-UNKNOWN0000-WH-NORTH',
        line_number: 1,
        sku: 'PR-GEN-CASE-IP16',
        quantity_shipped: 1,
        carrier: 'DPD',
        tracking_number: 'TRK-STRAY',
        ship_date: '2025-03-14',
        disposition: 'shipped',
      },
    ]);
    await waitForStatus(sys, [sent.orderId], 'Error');
    await waitForOrder(sys, referred, (o) => !!o.fraud?.awaitingReview, 'referred');
    await waitForOrder(sys, backordered, (o) => !!o.backorder, 'backordered');

    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.ops);
    await page.getByRole('link', { name: 'Work queue' }).click();
    await page.waitForURL(`${browser.baseUrl}/ops/queue`);
    await showing(page, '#queue-items', referred);
    const tab = (name: RegExp) => page.getByRole('tab', { name });
    expect(await tab(/^All/).textContent()).toBe('All4');
    expect(await tab(/^Fraud review/).textContent()).toBe('Fraud review1');
    expect(await tab(/^Backordered/).textContent()).toBe('Backordered1');
    expect(await tab(/^Error/).textContent()).toBe('Error1');
    expect(await tab(/^Adaptor exception/).textContent()).toBe('Adaptor exception1');
    expect(await tab(/^Enrolment failed/).textContent()).toBe('Enrolment failed0');
    await showing(page, '#queue-items', 'DAMAGED');
    await showing(page, '#queue-items', 'ORD-UNKNOWN0000-WH-NORTH');
    await showing(page, '#queue-items', 'HS-SAM-A16-128 short by');
    await browser.screenshot(page, 'ops-queue', path.resolve('docs/images/ops-queue.png'));

    // One kind: only its items; each links to where it is dealt with.
    await tab(/^Error/).click();
    await expect.poll(() => page.locator('#queue-items .queue-item').count(), WAIT).toBe(1);
    expect(await page.locator('#queue-items').getByRole('link', { name: sent.orderId }).getAttribute('href')).toBe(`/orders/${sent.orderId}`);
    await tab(/^Adaptor exception/).click();
    await showing(page, '#queue-items', 'Open the adaptor exceptions');

    // A fraud review, decided in the queue: the reason is asked for first.
    await tab(/^Fraud review/).click();
    await showing(page, '#queue-items', 'NAME_IMPLAUSIBLE');
    await page.getByRole('button', { name: 'Approve' }).click();
    await showing(page, '#notice', 'Give a reason');
    await page.getByLabel('Reason for the decision').fill('Called the customer; delivery confirmed');
    await page.getByRole('button', { name: 'Approve' }).click();
    await showing(page, '#notice', `${referred}: approved`);
    await showing(page, '#queue-items', 'Nothing is waiting here.');
    expect(await tab(/^Fraud review/).textContent()).toBe('Fraud review0');
    await waitForOrder(sys, referred, (o) => o.status === 'AwaitingDispatch', 'released to the warehouse');
    await page.close();
  });

  it('shows an order in Error what needs ops, and lets ops close it with a reason; agents see the flag but no action', async () => {
    const [sent]: OrderView[] = await ordersAwaitingDispatch(sys, 1, { accountId: 'ACC-1002', lines: [{ sku: 'PR-GEN-CASE-IP16', quantity: 1 }] });
    await deliver(sys, sent.subOrders[0].warehouseId, 'close-me.csv', [errorRow(sent, 1, 'DAMAGED', 'stock damaged in the warehouse')]);
    await waitForStatus(sys, [sent.orderId], 'Error');

    const agent = await browser.newPage();
    await signIn(agent, browser.baseUrl, TOKENS.agent);
    await agent.goto(`${browser.baseUrl}/orders/${sent.orderId}`);
    await showing(agent, '#order-attention', 'Needs ops: Error');
    expect(await agent.locator('#ops-actions').isVisible()).toBe(false);
    await agent.close();

    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.ops);
    await page.goto(`${browser.baseUrl}/orders/${sent.orderId}`);
    await showing(page, '#order-attention', 'Needs ops: Error');
    const options = await page.locator('#ops-action option').allTextContents();
    expect(options).toEqual(['Resubmit what did not ship', 'Close the order as it is']);
    await page.getByLabel('Ops action').selectOption({ label: 'Close the order as it is' });
    await page.getByLabel('Reason', { exact: true }).fill('customer took a refund instead');
    await page.getByRole('button', { name: 'Apply' }).click();
    await showing(page, '#timeline', 'customer took a refund instead');
    await page.locator('#order-attention').waitFor({ state: 'hidden', ...WAIT });
    await page.locator('#ops-actions').waitFor({ state: 'hidden', ...WAIT });
    await waitForOrder(sys, sent.orderId, (o) => !o.needsAttention.length, 'closed: nothing left for ops');
    await page.close();
  });

  it('keeps the queue from agents', async () => {
    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.agent);
    expect(await page.getByRole('link', { name: 'Work queue' }).isVisible()).toBe(false);
    await page.goto(`${browser.baseUrl}/ops/queue`);
    await showing(page, '#notice', 'This page is for the ops role.');
    await page.close();
  });
});

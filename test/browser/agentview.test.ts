// AgentView in a real browser (Debian's Chromium via playwright-core) against the real API,
// worker, Temporal dev server and FerretDB: what an agent and ops see and can do, and that the UI
// only ever does what the public API allows.
import { build } from 'esbuild';
import path from 'node:path';
import type { Page } from 'playwright-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../domain/money';
import { DEV_ACTORS, eventually, startSystem, TOKENS, type TestSystem } from '../support/system';
import { openBrowser, signIn, type Browser, showing, WAIT } from './support';

let sys: TestSystem;
let browser: Browser;
beforeAll(async () => {
  sys = await startSystem();
  browser = await openBrowser(sys); // installs Chromium first when it is missing: allow for the download
}, 900_000);
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

const text = async (page: Page, selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
/** The token the page keeps (the tests' tsconfig has no DOM types, hence the cast). */
const storedToken = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('agentview.token'));
/** Waits until the element shows the text (the page updates itself; nothing reloads). */

describe('AgentView', () => {
  it('does not sign in with a wrong token, and shows the API’s refusal', async () => {
    const page = await browser.newPage();
    await page.goto(`${browser.baseUrl}/accounts`);
    await page.waitForURL(/\/signin\?next=%2Faccounts$/); // no token: straight to sign in
    await page.getByLabel('Access token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await showing(page, '#notice', 'a valid bearer token is required');
    const api = await sys.call('GET', '/api/v1/catalogue', { role: null, headers: { authorization: 'Bearer not-a-real-token' } });
    expect(await text(page, '#notice .notice-text')).toBe(api.body.error.message);
    expect(page.url()).toContain('/signin');
    expect(await storedToken(page)).toBeNull();
    // The adaptor's token is valid for the API but not for AgentView.
    await page.getByLabel('Access token').fill(TOKENS.adaptor);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await showing(page, '#notice', 'neither the agent nor the ops role');
    expect(await storedToken(page)).toBeNull();
    await browser.screenshot(page, 'sign-in-refused');
    await page.close();
  });

  it('formats money in Chromium exactly as the domain does in Node', async () => {
    // AgentView bundles the domain's formatter: the same module, built for the browser the same way.
    const bundled = await build({
      entryPoints: ['domain/money.ts'],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'domainMoney',
      platform: 'browser',
      target: 'es2022',
    });
    const page = await browser.newPage();
    await page.goto(`${browser.baseUrl}/signin`);
    const samples = fc.sample(fc.tuple(fc.integer({ min: -1e13, max: 1e13 }), fc.constantFrom('GBP', 'EUR', 'USD', 'gbp', 'JPY', ' XYZ ')), {
      numRuns: 300,
      seed: 8,
    });
    samples.push([0, 'GBP'], [-5, 'EUR'], [100_000_000, 'USD'], [Number.MAX_SAFE_INTEGER, 'GBP']);
    // Given as source text: the test runner would otherwise rewrite it.
    const inBrowser = await page.evaluate(`${bundled.outputFiles[0].text}; ${JSON.stringify(samples)}.map(([a, c]) => domainMoney.formatMoney(a, c))`);
    expect(inBrowser).toEqual(samples.map(([m, c]) => formatMoney(m, c)));
    await page.close();
  });

  it('takes an order from sign-in to Complete, watching it progress without reloading', async () => {
    const page = await browser.newPage();
    let loads = 0;
    page.on('load', () => loads++);
    await signIn(page, browser.baseUrl, TOKENS.agent);
    expect(await text(page, '#signed-in-as')).toContain('Dev Agent (dev-agent) (agent)');
    await expect(page.locator('[data-ops-only]').first().isVisible()).resolves.toBe(false);

    // Find the account by name and open it.
    await page.getByLabel('Account id or name').fill('alice');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('link', { name: 'ACC-1001' }).click();
    await showing(page, '#account-title', 'Alice Johnson (ACC-1001)');
    await browser.screenshot(page, 'account');

    // Start an order: its delivery contact is the account's.
    await page.getByRole('button', { name: 'Start a new order' }).click();
    await page.waitForURL(/\/orders\/ORD-[0-9A-Z]{10}$/);
    const orderId = page.url().split('/').pop()!;
    await showing(page, '#order-status', 'New');
    await expect(page.getByLabel('Contact name').inputValue()).resolves.toBe('Alice Johnson');
    await expect(page.getByLabel('Postcode').inputValue()).resolves.toBe('LS1 6DT');
    await expect(page.locator('input[name=billingMode][value=immediate]').isChecked()).resolves.toBe(true);

    // Refused by the API: an order without lines cannot be generated; the page says what the API said.
    await page.getByRole('button', { name: 'Generate order' }).click();
    await showing(page, '#notice', 'at least one line');
    const refusal = await sys.call('POST', `/api/v1/orders/${orderId}/generate`);
    expect(refusal.status).toBe(422);
    expect(await text(page, '#notice .notice-text')).toBe(refusal.body.error.message);
    expect(await text(page, '#notice .notice-code')).toContain('ORDER_HAS_NO_LINES');

    // Browse handsets, add the iPhone; search peripherals, add the charger and a case.
    await page.getByLabel('Kind').selectOption('handset');
    await showing(page, '#catalogue tbody', 'iPhone 16 128GB Black');
    await expect.poll(() => page.locator('#catalogue tbody tr').count(), { timeout: 10_000 }).toBe(6); // five on sale, the retired Nokia last
    const retired = page.locator('#catalogue tbody tr').last();
    expect(await retired.getAttribute('data-sku')).toBe('HS-NOK-3310-OLD');
    expect(await retired.textContent()).toContain('Unavailable: no longer sold');
    expect(await retired.getByRole('button').count()).toBe(0);
    await page.getByRole('button', { name: 'Add iPhone 16 128GB Black' }).click();
    await showing(page, '#lines tbody', 'HS-APL-IP16-128');
    await showing(page, '#total-gross', '£958.80');
    await page.getByLabel('Kind').selectOption('peripheral');
    await page.getByLabel('Search the catalogue').fill('USB-C');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.locator('#catalogue tbody tr').allTextContents(), WAIT).toEqual([expect.stringContaining('PR-APL-USBC-20W')]);
    await page.getByRole('button', { name: 'Add Apple 20W USB-C Power Adapter' }).click();
    await showing(page, '#total-gross', '£981.60');
    await page.getByLabel('Search the catalogue').fill('case');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('button', { name: 'Add Clear Case for iPhone 16' }).click();
    await showing(page, '#total-gross', '£999.59');

    // Change the charger's quantity: the line shows the new amount while typing, the totals once saved.
    const qty = page.locator('#lines').getByLabel('Quantity of Apple 20W USB-C Power Adapter');
    await qty.fill('2');
    await showing(page, '#lines tr[data-sku="PR-APL-USBC-20W"] td.pending', '£38.00');
    await page.locator('#lines tr[data-sku="PR-APL-USBC-20W"]').getByRole('button', { name: 'Update' }).click();
    await showing(page, '#total-gross', '£1,022.39');
    // Remove the case again.
    await page.getByRole('button', { name: 'Remove Clear Case for iPhone 16' }).click();
    await showing(page, '#total-gross', '£1,004.40');
    await expect.poll(() => page.locator('#lines tbody tr').count(), { timeout: 10_000 }).toBe(2);

    // Stock for the order's lines.
    await page.getByRole('button', { name: 'Check stock' }).click();
    await showing(page, '#stock-result', 'PR-APL-USBC-20W');
    await showing(page, '#stock-result', 'HS-APL-IP16-128');
    await browser.screenshot(page, 'order-new');

    // What the API holds is what the page shows.
    const before = await sys.call('GET', `/api/v1/orders/${orderId}`);
    expect(before.body.lines.map((l: { sku: string; quantity: number }) => [l.sku, l.quantity])).toEqual([
      ['HS-APL-IP16-128', 1],
      ['PR-APL-USBC-20W', 2],
    ]);
    expect(before.body.totals.gross).toBe(100440);

    // Generate: the page follows the order through the warehouse without a reload.
    const loadsBeforeGenerate = loads;
    await page.evaluate(() => ((globalThis as unknown as { stillHere: boolean }).stillHere = true));
    await page.getByRole('button', { name: 'Generate order' }).click();
    await showing(page, '#order-status', 'Awaiting Dispatch');
    expect(await page.getByRole('button', { name: 'Generate order' }).isVisible()).toBe(false);
    expect(await page.locator('#catalogue-section').isVisible()).toBe(false);
    expect(await page.locator('#delivery-form').isVisible()).toBe(false);
    await showing(page, '#delivery-summary', 'Alice Johnson');
    await showing(page, '#suborders', `${orderId}-WH-NORTH`);
    await showing(page, '#fraud', 'No check required');

    await sys.simulator.respond();
    await showing(page, '#order-status', 'Complete');
    const done = await eventually(async () => {
      const r = await sys.call('GET', `/api/v1/orders/${orderId}`);
      return r.body.invoiceNumber && r.body;
    }, 'the invoice number');
    await showing(page, '#invoice-number', done.invoiceNumber);
    await showing(page, '#charges .invoice', /· issued .+ · total £1,004\.40$/);
    await showing(page, '#charges', '£1,004.40');
    const imei: string = done.subOrders[0].units.find((u: { imei?: string }) => u.imei).imei;
    await showing(page, '#suborders', imei);
    await showing(page, '#suborders', done.subOrders[0].units[0].trackingNumber);
    // The status moves, and between them every edit with who did it and before → after.
    const moves = await page.locator('#timeline > li:not(.tl-note)').allTextContents();
    expect(moves).toHaveLength(4);
    expect(moves[1]).toContain('Awaiting Generation');
    expect(moves[1]).toContain('dev-agent');
    expect(moves[3]).toContain('Complete');
    const edits = await page.locator('#timeline > li.tl-note').allTextContents();
    expect(edits.filter((e) => e.startsWith('Edit'))).toHaveLength(5); // three lines added, one changed, one removed
    expect(edits.find((e) => e.includes('line L2 changed'))).toMatch(/dev-agent.*Line L2: 1 × PR-APL-USBC-20W → 2 × PR-APL-USBC-20W/);
    expect(edits.find((e) => e.includes('line L3 removed'))).toContain('Line L3: 1 × ');

    // A note on the finished order, kept in its history with the author.
    await page.getByLabel('Add a note').fill('customer called about delivery');
    await page.getByRole('button', { name: 'Add note' }).click();
    await showing(page, '#timeline > li.tl-user-note', 'customer called about delivery');
    expect(await text(page, '#timeline > li.tl-user-note')).toContain('dev-agent');
    const noted = await sys.call('GET', `/api/v1/orders/${orderId}`);
    expect(noted.body.history.at(-1)).toMatchObject({ note: true, reason: 'customer called about delivery', by: expect.stringContaining('dev-agent') });
    // Nothing is offered on a complete order; agents get no Temporal link.
    await expect
      .poll(() => page.locator('#order-actions button:visible, #order-actions form:visible, #temporal-link:visible').count(), { timeout: 10_000 })
      .toBe(0);
    expect(loads).toBe(loadsBeforeGenerate);
    expect(await page.evaluate(() => (globalThis as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    await browser.screenshot(page, 'order-complete', path.resolve('docs/images/order-page.png'));

    // The account lists it with its status; the filter narrows by status.
    await page.getByRole('link', { name: /Alice Johnson/ }).click();
    await showing(page, '#orders tbody', orderId);
    await showing(page, '#orders tbody tr', 'Complete');
    await page.getByLabel('Status').selectOption('Cancelled');
    await page.locator('#orders-empty').waitFor({ state: 'visible', ...WAIT });
    await expect.poll(() => page.locator('#orders tbody tr').count(), { timeout: 10_000 }).toBe(0);
    await page.getByLabel('Status').selectOption('Complete');
    await showing(page, '#orders tbody', orderId);
    await browser.screenshot(page, 'account-orders');

    // Signing out forgets the token.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin$/);
    expect(await storedToken(page)).toBeNull();
    await page.close();
  });

  it('checks stock for any SKUs without an order', async () => {
    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.agent);
    await page.getByRole('link', { name: 'Stock check' }).click();
    await page.getByLabel('SKUs').fill('HS-GGL-PX9-128:2\nSW-MDM-1Y, PR-ROUTER-5G');
    await page.getByRole('button', { name: 'Check stock' }).click();
    await showing(page, '#stock-result', 'HS-GGL-PX9-128');
    const rows = await page.locator('#stock-result tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain('WH-NORTH');
    await browser.screenshot(page, 'stock-check');
    // A malformed SKU is refused by the API, in its words.
    await page.getByLabel('SKUs').fill('not a sku!');
    await page.getByRole('button', { name: 'Check stock' }).click();
    await showing(page, '#notice', 'is not SKU or SKU:QUANTITY');
    await page.close();
  });

  it('requests device enrolment on a New order, then cancels it', async () => {
    const created = await sys.call('POST', '/api/v1/accounts/ACC-1002/orders', { body: {} });
    const orderId = created.body.orderId;
    await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: { sku: 'HS-SAM-A16-128', quantity: 1 } });
    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.agent);
    await page.goto(`${browser.baseUrl}/orders/${orderId}`);
    await showing(page, '#order-status', 'New');
    await expect(page.locator('input[name=billingMode][value=nextInvoice]').isChecked()).resolves.toBe(true);
    await page.locator('#lines').getByLabel('Enrolment for Samsung Galaxy A16 128GB').selectOption('samsung');
    await showing(page, '#enrolment', 'Samsung Knox requested');
    await eventually(async () => (await sys.call('GET', `/api/v1/orders/${orderId}`)).body.lines[0].enrolment === 'samsung', 'the enrolment on the line');
    // Only the programme the lines use is asked for.
    expect(await page.getByLabel('Apple organisation id').isVisible()).toBe(false);
    await page.getByLabel('Samsung Knox customer id').fill('KNOX-4411');
    await page.getByRole('button', { name: 'Save programme ids' }).click();
    await showing(page, '#enrolment-recorded', 'Recorded: Samsung Knox KNOX-4411');
    await browser.screenshot(page, 'order-enrolment');
    await page.getByLabel('Cancellation reason').fill('customer found a better deal');
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await showing(page, '#order-status', 'Cancelled');
    await showing(page, '#timeline', 'customer found a better deal');
    expect(await page.getByRole('button', { name: 'Cancel order' }).isVisible()).toBe(false);
    await page.close();
  });

  it('refers a suspicious delivery to ops, who approve it from the queue; ops also see adaptor exceptions and the Temporal link', async () => {
    const created = await sys.call('POST', '/api/v1/accounts/ACC-1003/orders', { body: {} });
    const orderId = created.body.orderId;
    await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: { sku: 'HS-GGL-PX9-128', quantity: 1 } });

    // The agent changes the delivery: another address (so a fraud check is required) and a name the rules refer.
    const agent = await browser.newPage();
    await signIn(agent, browser.baseUrl, TOKENS.agent);
    await agent.goto(`${browser.baseUrl}/orders/${orderId}`);
    await showing(agent, '#order-status', 'New');
    await expect(agent.getByLabel('Contact name').inputValue()).resolves.toBe('Callum MacLeod');
    await agent.getByLabel('Contact name').fill('Qwerty Smith');
    await agent.getByLabel('Address line 1').fill('5 Castle Street');
    await agent.getByRole('button', { name: 'Save delivery' }).click();
    await showing(agent, '#busy', 'Delivery saved.');
    const saved = await sys.call('GET', `/api/v1/orders/${orderId}`);
    expect(saved.body.delivery).toMatchObject({ name: 'Qwerty Smith', address: { lines: ['5 Castle Street'], city: 'Inverness', postcode: 'IV1 1AA' } });
    await agent.getByRole('button', { name: 'Generate order' }).click();
    await showing(agent, '#fraud', 'Waiting for an ops decision');
    await showing(agent, '#fraud', 'Decision: refer');
    expect(await agent.locator('#temporal-link').isVisible()).toBe(false);
    await browser.screenshot(agent, 'order-referred');

    // A response row for an order nobody knows becomes an adaptor exception.
    const csv =
      'warehouse_id,sub_order_number,line_number,sku,quantity_shipped,serial_number,imei,imei2,carrier,tracking_number,ship_date,disposition,error_code,error_message\nWH-NORTH,ORD-UNKNOWN0000-WH-NORTH,1,PR-ROUTER-5G,1,SN123,,,DPD,TRK1,2025-03-14,shipped,,\n';
    const posted = await sys.call('POST', '/api/v1/adaptor/warehouse-files?warehouseId=WH-NORTH&fileName=stray.csv', {
      role: 'adaptor',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(posted.status).toBe(202);

    // Ops, in another tab with its own session.
    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.ops);
    expect(await text(page, '#signed-in-as')).toContain('Dev Ops (dev-ops) (ops)');
    await page.getByRole('link', { name: 'Adaptor exceptions' }).click();
    await showing(page, '#exceptions', 'ORD-UNKNOWN0000-WH-NORTH');
    await browser.screenshot(page, 'ops-exceptions');

    await page.getByRole('link', { name: 'Fraud reviews' }).click();
    await showing(page, '#fraud-queue', orderId);
    await showing(page, '#fraud-queue', 'Qwerty Smith');
    await browser.screenshot(page, 'ops-fraud-queue');
    // The reason is required by the API; the page asks for one before sending.
    await page.getByRole('button', { name: 'Approve' }).click();
    await showing(page, '#notice', 'Give a reason');
    await page.getByLabel('Reason for the decision').fill('Called the customer; delivery confirmed');
    await page.getByRole('button', { name: 'Approve' }).click();
    await showing(page, '#notice', `${orderId}: approved`);
    await showing(page, '#fraud-queue', 'No orders are waiting');

    // The agent's page follows on its own; ops get the link to the workflow.
    await showing(agent, '#order-status', 'Awaiting Dispatch');
    await showing(agent, '#fraud', 'Reviewed: approve by dev-ops');
    await page.goto(`${browser.baseUrl}/orders/${orderId}`);
    await showing(page, '#order-status', 'Awaiting Dispatch');
    const link = page.getByRole('link', { name: 'Workflow in Temporal UI' });
    expect(await link.isVisible()).toBe(true);
    expect(await link.getAttribute('href')).toContain(`/workflows/order-${orderId}`);
    await browser.screenshot(page, 'ops-order');
    // The agent's delivery edit is in the timeline, before → after.
    await showing(page, '#timeline', 'delivery contact changed');
    await showing(page, '#timeline .tl-changes', 'Qwerty Smith');

    // The audit lists the approval under the ops person's name.
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Person').fill(DEV_ACTORS.ops);
    await page.getByRole('button', { name: 'Show' }).click();
    await showing(page, '#audit tbody', orderId);
    await showing(page, '#audit tbody', 'fraud review approved: Called the customer; delivery confirmed');
    await browser.screenshot(page, 'ops-audit');
    await agent.close();
    await page.close();
  });

  it("resolves adaptor exceptions from the ops page (reapply to a corrected order id, dismiss with a reason) and shows a batch's rejected rows", async () => {
    const created = await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { body: {} });
    const orderId: string = created.body.orderId;
    await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: { sku: 'PR-APL-USBC-20W', quantity: 1 } });
    await sys.call('POST', `/api/v1/orders/${orderId}/generate`);
    const order = await eventually(async () => {
      const o = (await sys.call('GET', `/api/v1/orders/${orderId}`)).body;
      return o.status === 'AwaitingDispatch' && o;
    }, `${orderId} Awaiting Dispatch`);
    const wh: string = order.subOrders[0].warehouseId;
    // Row 1: the order's number mistyped; row 2: an order nobody has; row 3: no line number.
    const csv = [
      'warehouse_id,sub_order_number,line_number,sku,quantity_shipped,serial_number,imei,imei2,carrier,tracking_number,ship_date,disposition,error_code,error_message',
      `${wh},ORD-MISTYPED00-${wh},1,PR-APL-USBC-20W,1,,,,DPD,TRK-UI-1,2025-03-14,shipped,,`,
      `${wh},ORD-NOBODY0000-${wh},1,PR-APL-USBC-20W,1,,,,DPD,TRK-UI-2,2025-03-14,shipped,,`,
      `${wh},${order.subOrders[0].subOrderNumber},,PR-APL-USBC-20W,1,,,,DPD,TRK-UI-3,2025-03-14,shipped,,`,
      '',
    ].join('\n');
    const posted = await sys.call('POST', `/api/v1/adaptor/warehouse-files?warehouseId=${wh}&fileName=mistyped.csv`, {
      role: 'adaptor',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(posted.body).toMatchObject({ outcome: 'accepted', exceptionRows: 2, rejectedRows: 1 });
    const batch = (posted.body.batchId as string).slice(0, 12);

    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.ops);
    await page.getByRole('link', { name: 'Adaptor exceptions' }).click();
    await showing(page, '#exceptions', `ORD-MISTYPED00-${wh}`);
    const rowOf = (n: number) => page.locator('tr', { has: page.getByLabel(`Order id for row ${n} of batch ${batch}`) });
    await page.getByLabel(`Order id for row 1 of batch ${batch}`).fill(orderId);
    await rowOf(1).getByRole('button', { name: 'Reapply' }).click();
    await showing(page, '#exceptions', `Reapplied to ${orderId}`);
    await showing(page, '#notice', `applied to ${orderId}`);
    // Dismissing needs a reason: the page asks before sending.
    await rowOf(2).getByRole('button', { name: 'Dismiss' }).click();
    await showing(page, '#notice', 'Give a reason');
    await page.getByLabel(`Reason to dismiss row 2 of batch ${batch}`).fill('not our customer');
    await rowOf(2).getByRole('button', { name: 'Dismiss' }).click();
    await showing(page, '#exceptions', 'Dismissed: not our customer');
    await browser.screenshot(page, 'ops-exceptions-resolved');
    const done = await eventually(async () => {
      const o = (await sys.call('GET', `/api/v1/orders/${orderId}`)).body;
      return o.status === 'Complete' && o;
    }, `${orderId} Complete`);
    expect(done.subOrders[0].units).toEqual([expect.objectContaining({ trackingNumber: 'TRK-UI-1' })]);
    // Resolved ones leave the open list.
    await page.getByLabel('Show').selectOption('unresolved');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('#exceptions', { hasText: `ORD-MISTYPED00-${wh}` }).waitFor({ state: 'hidden', ...WAIT });
    await page.getByLabel('Show').selectOption('resolved');
    await page.getByRole('button', { name: 'Filter' }).click();
    await showing(page, '#exceptions', 'Dismissed: not our customer');

    await page.getByRole('link', { name: 'Warehouse batches' }).click();
    await showing(page, '#batches', 'mistyped.csv');
    await page.getByRole('button', { name: /Rejected rows of .*mistyped\.csv/ }).click();
    await showing(page, '#rejected-rows', 'MISSING_FIELD');
    await showing(page, '#rejected-rows', '1 of 1 shown');
    await browser.screenshot(page, 'ops-batches');
    await page.close();
  });
});

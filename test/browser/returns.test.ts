// AgentView's returns in a real browser against the real API, worker, Temporal dev server and
// FerretDB: an agent returns a shipped handset as unwanted, ops mark it received, and the order
// page shows the return credited with its credit note, the same one the account page lists (and an
// account billed on its cycle lists its credit for the next invoice).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownRmaNumbers, shippedOrder, unitsOf, daysAgo } from '../support/returns';
import { startSystem, TOKENS, type TestSystem } from '../support/system';
import { openBrowser, signIn, type Browser, showing, WAIT } from './support';

const HANDSET = 'HS-SAM-A16-128'; // 18900 + 20% VAT, IMEI

let sys: TestSystem;
let browser: Browser;
beforeAll(async () => {
  sys = await startSystem({ env: { FRAUD_POLICY_ENABLED: 'false' } });
  await ownRmaNumbers(sys);
  browser = await openBrowser(sys);
}, 900_000);
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

describe('AgentView: returns', () => {
  it('an agent returns a shipped unit as unwanted, ops mark it received, the page shows its credit note', async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 2 }], daysAgo(2));
    const imeis = unitsOf(order);
    expect(imeis).toHaveLength(2);

    const page = await browser.newPage();
    await signIn(page, browser.baseUrl, TOKENS.agent);
    await page.goto(`${browser.baseUrl}/orders/${order.orderId}`);
    await showing(page, '#order-status', 'Complete');
    await page.locator('#return-form').waitFor({ state: 'visible', ...WAIT });
    expect(await page.locator('#return-units input[name=unit]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).toEqual(imeis);
    // Nothing ticked: the page asks for units before calling the API.
    await page.getByRole('button', { name: 'Return units' }).click();
    await showing(page, '#notice', 'Tick the units coming back.');
    // An exchange is only for faulty or wrong items.
    await page.getByLabel('Return reason', { exact: true }).selectOption('unwanted');
    expect(await page.locator('#return-exchange').isDisabled()).toBe(true);

    await page.locator('#return-units').getByLabel(imeis[0]).check();
    await page.getByLabel('Return note', { exact: true }).fill('changed their mind');
    await page.getByRole('button', { name: 'Return units' }).click();
    await showing(page, '#notice', /Return RMA-\d{8,} authorised for 1 unit\(s\)\./);
    const [ret] = (await sys.call('GET', `/api/v1/orders/${order.orderId}/returns`)).body.items;
    expect(ret).toMatchObject({ status: 'authorised', reason: 'unwanted', note: 'changed their mind', units: [expect.objectContaining({ unitId: imeis[0] })] });
    const row = page.locator(`#returns tr[data-rma="${ret.rmaId}"]`);
    await showing(page, `#returns tr[data-rma="${ret.rmaId}"] .return-status`, 'Authorised');
    // The returned unit is offered no more; an agent cannot mark it received.
    expect(await page.locator('#return-units input[name=unit]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).toEqual([
      imeis[1],
    ]);
    expect(await row.getByRole('button', { name: 'Mark received' }).count()).toBe(0);

    // Ops, in a tab of their own, mark it received: it is credited at once (the account is billed at once).
    const ops = await browser.newPage();
    await signIn(ops, browser.baseUrl, TOKENS.ops);
    await ops.goto(`${browser.baseUrl}/orders/${order.orderId}`);
    const opsRow = ops.locator(`#returns tr[data-rma="${ret.rmaId}"]`);
    await opsRow.getByRole('button', { name: 'Mark received' }).waitFor(WAIT);
    await opsRow.getByLabel(`Condition grade for ${ret.rmaId}`).selectOption('B');
    await opsRow.getByRole('button', { name: 'Mark received' }).click();
    await showing(ops, '#notice', `Return ${ret.rmaId}: Credited.`);
    await ops.close();

    const credited = (await sys.call('GET', `/api/v1/returns/${ret.rmaId}`)).body;
    expect(credited).toMatchObject({ status: 'credited', credit: { creditNoteNumber: expect.stringMatching(/^CN-\d{8}$/), gross: 22680 } });
    expect(credited.units[0].received).toMatchObject({ grade: 'B', source: 'ops' });
    const notes = (await sys.call('GET', `/api/v1/accounts/ACC-1001/credit-notes`)).body.items;
    expect(notes.map((n: any) => n.creditNoteNumber)).toContain(credited.credit.creditNoteNumber);

    // The agent's page follows the return on its own to its credit note.
    await showing(page, `#returns tr[data-rma="${ret.rmaId}"] .return-status`, 'Credited');
    await showing(page, `#returns tr[data-rma="${ret.rmaId}"] .return-credit`, credited.credit.creditNoteNumber);
    expect(await row.locator('.return-credit').textContent()).toContain('226.80');
    expect(credited.credit.corrects).toHaveLength(1);
    expect(await row.locator('.return-credit').textContent()).toContain(`corrects ${credited.credit.corrects[0]}`);
    await showing(page, `#returns tr[data-rma="${ret.rmaId}"]`, 'grade B');

    // The account page lists its credit notes: number, date, return, order, amount, credited at once.
    await page.goto(`${browser.baseUrl}/accounts/ACC-1001`);
    const note = page.locator('#account-credit-notes tr', { hasText: credited.credit.creditNoteNumber });
    await note.waitFor(WAIT);
    const cells = await note.locator('td').allTextContents();
    expect(cells).toEqual([
      credited.credit.creditNoteNumber,
      expect.stringMatching(/\d{4}/),
      ret.rmaId,
      order.orderId,
      expect.stringContaining('226.80'),
      `At once, corrects ${credited.credit.corrects[0]}`,
    ]);
    await note.getByRole('link', { name: order.orderId }).click();
    await page.waitForURL(`**/orders/${order.orderId}`);

    // An account billed on its cycle is credited on its next invoice: no credit note (nor its column, none has one).
    const cycled = await shippedOrder(sys, 'ACC-1003', [{ sku: HANDSET, quantity: 1 }], daysAgo(1));
    const back = await sys.call('POST', `/api/v1/orders/${cycled.orderId}/returns`, { body: { units: unitsOf(cycled), reason: 'faulty' } });
    expect(back.status).toBe(201);
    const lined = await sys.call('POST', `/api/v1/returns/${back.body.rmaId}/receive`, { role: 'ops', body: { grade: 'A' } });
    expect(lined.body).toMatchObject({ status: 'credited', credit: { creditNoteNumber: null, gross: 22680 } });
    await page.goto(`${browser.baseUrl}/accounts/ACC-1003`);
    const line = page.locator('#account-credit-notes tr', { hasText: back.body.rmaId });
    await line.waitFor(WAIT);
    expect(await line.locator('td').allTextContents()).toEqual([
      expect.stringMatching(/\d{4}/),
      back.body.rmaId,
      cycled.orderId,
      expect.stringContaining('226.80'),
      'On the next invoice',
    ]);
    await page.close();
  });
});

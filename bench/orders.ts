// What the bench's agents put in an order. A module of its own, without the harness's imports,
// so that the agent-traffic child process loads only this.

/** The order every scenario's agents build: a handset and its case. */
export const ORDER_LINES = [
  { sku: 'HS-APL-IP16-128', quantity: 1 },
  { sku: 'PR-GEN-CASE-IP16', quantity: 1 },
];

/**
 * A call centre's orders go to many customers: order i's delivery, an address of its own (so the
 * fraud check's velocity rule, per address, refers none). Callers driving orders into the same
 * system at once start from different i.
 */
export const deliveryFor = (i: number) => ({
  name: 'Bob Smith',
  phone: '+44 7700 900999',
  address: { lines: [`${i + 1} Park Road`], city: 'Leeds', postcode: 'LS2 7AB', country: 'GB' },
});

// Ops: the warehouse response files taken in (dispatch batches), newest first, with their counts;
// a batch's rejected rows, every one of them, a page at a time.
import { api } from '../api';
import type { DispatchBatchList, DispatchBatchSummary, RejectedRows } from '../api-types';
import { recordTable } from '../components/record-table';
import { $, h } from '../dom';
import { timeEl } from '../format';
import { run } from '../notice';

/** The order statuses' colours: running as waiting, applied as complete, partial as needing a look. */
const OUTCOME_CLASS: Record<DispatchBatchSummary['outcome'], string> = { running: 's-AwaitingDispatch', applied: 's-Complete', partial: 's-Error' };

export function initBatches(): void {
  const form = $('#batches-filter', HTMLFormElement);
  const tbody = $('#batches tbody');
  const more = $('#batches-more', HTMLButtonElement);
  const rejectedBox = $('#rejected-rows');
  let cursor: string | null = null;

  const load = async (append: boolean) => {
    const qs = new URLSearchParams({ limit: '50' });
    const wh = $('#batch-warehouse', HTMLInputElement).value.trim();
    const outcome = $('#batch-outcome', HTMLSelectElement).value;
    if (wh) qs.set('warehouseId', wh);
    if (outcome) qs.set('outcome', outcome);
    if (append && cursor) qs.set('cursor', cursor);
    const r = await run(append ? more : $('button', HTMLButtonElement, form), 'Loading batches', () => api<DispatchBatchList>('GET', `/adaptor/batches?${qs}`));
    if (!r) return;
    cursor = r.body.nextCursor;
    const rows = r.body.items.map(batchRow);
    if (append) tbody.append(...rows);
    else tbody.replaceChildren(...rows);
    $('#batches-empty').hidden = tbody.children.length > 0;
    more.hidden = !cursor;
  };

  function batchRow(b: DispatchBatchSummary) {
    const c = b.counts;
    const rejected = c.rejected
      ? (() => {
          const btn = h('button', { type: 'button', class: 'secondary small' }, String(c.rejected));
          btn.setAttribute('aria-label', `Rejected rows of ${b.sourceFile}`);
          btn.addEventListener('click', () => void showRejected(b, btn));
          return btn;
        })()
      : '0';
    const exceptions = c.exceptions ? h('a', { href: `/ops/exceptions?batchId=${b.batchId}` }, String(c.exceptions)) : '0';
    return h(
      'tr',
      null,
      h('td', { class: 'nowrap' }, timeEl(b.receivedAt)),
      h('td', null, b.warehouseId),
      h('td', null, b.sourceFile, ' ', h('code', { title: b.batchId, class: 'muted' }, b.batchId.slice(0, 12))),
      h('td', null, h('span', { class: `badge ${OUTCOME_CLASS[b.outcome]}` }, b.outcome)),
      h('td', { class: 'num' }, String(c.rows)),
      h('td', { class: 'num' }, String(c.valid)),
      h('td', { class: 'num' }, rejected),
      h('td', { class: 'num' }, exceptions),
      h('td', { class: 'num' }, String(c.orders)),
    );
  }

  /** The batch's rejected rows below the list, 200 at a time. */
  async function showRejected(b: DispatchBatchSummary, btn: HTMLButtonElement) {
    let next: string | null = null;
    const rows: RejectedRows['items'] = [];
    const heading = h('h2', { id: 'rejected-h' }, `Rejected rows of ${b.sourceFile}`);
    const table = h('div');
    const moreRows = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More rejected rows');
    const page = async (control: HTMLButtonElement) => {
      const qs = new URLSearchParams({ limit: '200' });
      if (next) qs.set('cursor', next);
      const r = await run(control, 'Loading rejected rows', () => api<RejectedRows>('GET', `/adaptor/batches/${b.batchId}/rejected-rows?${qs}`));
      if (!r) return;
      next = r.body.nextCursor;
      rows.push(...r.body.items);
      const items = rows.map((x) => ({ ...x, cells: x.cells.join(', ') }));
      table.replaceChildren(
        h('p', { class: 'muted' }, `${rows.length} of ${r.body.rejectedRows} shown.`),
        recordTable(
          items,
          [
            { key: 'rowNumber', label: 'Row', num: true },
            { key: 'code', label: 'Code' },
            { key: 'message', label: 'Why' },
            { key: 'cells', label: 'The row as read' },
          ],
          null,
          `Rejected rows of ${b.sourceFile}`,
        ),
      );
      moreRows.hidden = !next;
    };
    moreRows.addEventListener('click', () => void page(moreRows));
    rejectedBox.hidden = false;
    rejectedBox.replaceChildren(heading, table, moreRows);
    await page(btn);
    heading.scrollIntoView({ block: 'start' });
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load(false);
  });
  more.addEventListener('click', () => void load(true));
  void load(false);
}

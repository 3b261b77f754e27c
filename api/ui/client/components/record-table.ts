// A table of API records: only the columns some record has, money and times formatted.
import { h, type Child } from '../dom';
import { money, timeEl } from '../format';

interface ColumnOf<T, K extends keyof T> {
  key: K;
  label: string;
  render?: (value: T[K], item: T) => Child;
  /** Minor units, in the record's currency (else the table's). */
  money?: boolean;
  num?: boolean;
  time?: boolean;
  nowrap?: boolean;
}

export type Column<T> = { [K in keyof T & string]-?: ColumnOf<T, K> }[keyof T & string];

export function recordTable<T extends object>(items: readonly T[], columns: readonly Column<T>[], currency: string | null, caption: string): HTMLElement {
  const cols = columns.filter((c) => items.some((i) => i[c.key] !== undefined && i[c.key] !== null));
  const cell = (c: Column<T>, item: T): Child => {
    const v: unknown = item[c.key];
    if (c.render) return (c.render as (value: unknown, item: T) => Child)(v, item);
    if (c.money) return money(typeof v === 'number' ? v : null, (item as { currency?: string }).currency || currency || '');
    if (c.time) return timeEl(typeof v === 'string' ? v : undefined);
    return v === undefined || v === null || v === '' ? '—' : String(v);
  };
  const numeric = (c: Column<T>) => c.money || c.num;
  const cls = (c: Column<T>) => [numeric(c) ? 'num' : '', c.nowrap || c.time ? 'nowrap' : ''].join(' ').trim() || null;
  const table = h(
    'table',
    { class: 'data' },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        cols.map((c) => h('th', { scope: 'col', class: numeric(c) ? 'num' : null }, c.label)),
      ),
    ),
    h(
      'tbody',
      null,
      items.map((item) =>
        h(
          'tr',
          null,
          cols.map((c) => h('td', { class: cls(c) }, cell(c, item))),
        ),
      ),
    ),
  );
  return h('div', { class: 'table-wrap' }, table);
}

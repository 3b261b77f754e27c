// How values read on every page: money with the domain's formatter, statuses with the domain's
// labels, times in British English.
import { STATUS_LABELS } from '../../../domain/labels';
import { formatMoney } from '../../../domain/money';
import type { Address, OrderStatus } from '../../../domain/types';
import { h } from './dom';

export const money = (minor: number | null | undefined, currency: string): string => (typeof minor === 'number' ? formatMoney(minor, currency) : '—');

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export const timeEl = (iso: string | null | undefined) => h('time', { datetime: iso }, when(iso));

export const badge = (status: OrderStatus) => h('span', { class: `badge s-${status}` }, STATUS_LABELS[status] || status);

export function formatAddress(a: Address | null | undefined): string {
  return a ? [...(a.lines || []), a.city, a.region, a.postcode, a.country].filter(Boolean).join(', ') : '—';
}

/** A link to an account or an order page. */
export const accountLink = (accountId: string, text: string = accountId) => h('a', { href: `/accounts/${encodeURIComponent(accountId)}` }, text);
export const orderLink = (orderId: string) => h('a', { href: `/orders/${encodeURIComponent(orderId)}` }, orderId);

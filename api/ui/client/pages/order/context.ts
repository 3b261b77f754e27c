// What the order page's parts share: the order as last rendered, and the one way to change it.
import type { AgentAction } from '../../../../../domain/order-state';
import type { Answer, Method } from '../../api';
import type { Account, CancellationRequested, OrderPageView, OrderView, Product } from '../../api-types';
import type { Control } from '../../notice';

export interface OrderContext {
  /** `/orders/<id>` under /api/v1. */
  readonly path: string;
  /** The order as last rendered (the page's parts run only once it is loaded). */
  readonly order: OrderPageView;
  /** The order's account, for its default delivery and name; null if it could not be read. */
  readonly account: Account | null;
  /** Catalogue entries seen so far, by SKU: which enrolment programmes a line's product offers. */
  readonly products: Map<string, Product>;
  allowed(action: AgentAction): boolean;
  /** Runs an order action; its answer (the order view) is rendered at once. Null when refused. */
  change(control: Control | null, label: string, method: Method, suffix: string, body?: unknown): Promise<Answer<OrderView | CancellationRequested> | null>;
}

// Request and response shapes at the edge. The same schemas validate requests, type the handlers
// and produce the OpenAPI document.
import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'INVALID_TRANSITION' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

const id = (name: string, example: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, `${name} has only letters, digits, '.', '_' and '-'`)
    .openapi({ example });

export const OrderIdParam = z.object({ orderId: id('orderId', 'ORD-7KQ2M9XD4A').openapi({ param: { name: 'orderId', in: 'path' } }) });
export const AccountIdParam = z.object({ accountId: id('accountId', 'ACC-1001').openapi({ param: { name: 'accountId', in: 'path' } }) });
export const LineParams = OrderIdParam.extend({ lineId: id('lineId', 'L1').openapi({ param: { name: 'lineId', in: 'path' } }) });

export const Manufacturer = z.enum(['apple', 'google', 'samsung']);
export const BillingMode = z.enum(['immediate', 'nextInvoice']);
export const OrderStatus = z.enum(['New', 'AwaitingGeneration', 'AwaitingDispatch', 'Complete', 'Error', 'Cancelled']);

// C0 and C1 control characters and DEL: a NUL breaks BSON (regexes, keys) and the C strings
// downstream, and none belongs in what a person types. Line breaks and tabs only in paragraphs.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Every free-text field at the edge (bodies, queries, headers): trimmed, 1..max characters unless
 * `min` says otherwise, and no control characters (`multiline` lets line breaks and tabs through).
 */
export function freeText(max: number, opts: { min?: number; multiline?: boolean } = {}) {
  const forbidden = opts.multiline ? CONTROL_BUT_LINES : CONTROL;
  return z
    .string()
    .trim()
    .min(opts.min ?? 1)
    .max(max)
    .refine((v) => !forbidden.test(v), { message: 'must not contain control characters' });
}
const text = freeText;

export const AddressSchema = z
  .object({
    lines: z
      .array(freeText(100, { min: 0 }))
      .min(1)
      .max(4),
    city: text(60),
    region: freeText(60, { min: 0 }).optional(),
    postcode: text(16),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 country code'),
  })
  .strict()
  .openapi('Address');

export const DeliverySchema = z
  .object({
    name: text(100),
    phone: z
      .string()
      .trim()
      .max(32)
      .regex(/^[+0-9 ()-]*$/, 'digits, spaces, +, (, ) and - only')
      .optional(),
    email: z.email().max(254).optional(),
    address: AddressSchema,
  })
  .strict()
  .openapi('DeliveryContact');

export const ProductSchema = z
  .object({
    sku: z.string(),
    name: z.string(),
    kind: z.enum(['handset', 'peripheral', 'softwareLicence']),
    unitPrice: z.number().int().openapi({ description: 'minor units, excluding tax' }),
    currency: z.string(),
    taxRateBps: z.number().int().openapi({ description: 'basis points: 2000 = 20%' }),
    capture: z.enum(['none', 'serial', 'imei']),
    manufacturer: Manufacturer.optional(),
    enrolmentProgrammes: z.array(Manufacturer),
    active: z.boolean(),
  })
  .openapi('Product');

export const AccountSchema = z
  .object({
    accountId: z.string(),
    name: z.string(),
    billingAddress: AddressSchema,
    defaultDelivery: DeliverySchema,
    billingCycleDay: z.number().int(),
    defaultBillingMode: BillingMode,
    currency: z.string(),
  })
  .openapi('Account');

export const CreateOrderBody = z
  .object({
    delivery: DeliverySchema.optional().openapi({ description: "defaults to the account's delivery contact" }),
    billingMode: BillingMode.optional().openapi({ description: "defaults to the account's billing mode" }),
  })
  .strict()
  .openapi('CreateOrder');

export const AddLineBody = z
  .object({
    sku: text(40),
    quantity: z.number().int().min(1).max(999),
    enrolment: Manufacturer.optional(),
  })
  .strict()
  .openapi('AddLine');

export const ChangeLineBody = z
  .object({
    quantity: z.number().int().min(1).max(999).optional(),
    enrolment: Manufacturer.nullable().optional(),
  })
  .strict()
  .refine((b) => b.quantity !== undefined || b.enrolment !== undefined, 'give quantity and/or enrolment')
  .openapi('ChangeLine');

export const SetBillingModeBody = z.object({ billingMode: BillingMode }).strict().openapi('SetBillingMode');
export const CancelBody = z
  .object({ reason: text(200, { multiline: true }).default('cancelled by agent') })
  .strict()
  .openapi('Cancel');
export const FraudReviewBody = z
  .object({ decision: z.enum(['approve', 'reject']), reason: text(500, { multiline: true }) })
  .strict()
  .openapi('FraudReview');

/** Orders are returned as the workflow's view; documented loosely, as it grows with the product. */
export const OrderSchema = z
  .object({
    orderId: z.string(),
    accountId: z.string(),
    status: OrderStatus,
    lines: z.array(z.record(z.string(), z.unknown())),
    totals: z.object({ net: z.number(), tax: z.number(), gross: z.number() }),
    allowedActions: z.array(z.string()),
    history: z.array(z.record(z.string(), z.unknown())),
  })
  .passthrough()
  .openapi('Order');

export const OrderListSchema = z.object({ items: z.array(OrderSchema), nextCursor: z.string().nullable() }).openapi('OrderList');

const StockStatus = z.enum(['available', 'partial', 'notAvailable']);
export const StockItemSchema = z
  .object({
    sku: z.string(),
    requested: z.number().int(),
    askedWarehouseId: z.string(),
    status: StockStatus.openapi({ description: 'at the asked warehouse' }),
    overallStatus: StockStatus.openapi({ description: 'if the quantity were split across every warehouse that answered' }),
    totalAvailable: z.number().int(),
    alternativeWarehouse: z.string().optional(),
    warehouses: z.array(z.object({ warehouseId: z.string(), available: z.number().int(), status: StockStatus })),
  })
  .openapi('StockItem');

export const StockCheckSchema = z
  .object({
    checkedAt: z.string(),
    items: z.array(StockItemSchema),
    unavailableWarehouses: z.array(z.object({ warehouseId: z.string(), code: z.string(), message: z.string() })),
  })
  .openapi('StockCheck');

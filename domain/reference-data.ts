// Reference data as an administrator writes it (API bodies, CSV rows): products, accounts and fraud
// blocklist entries, each validated here once. Pure: no I/O. The API's answers use the same
// shapes (api/schemas.ts holds them equal to the domain types); infra/reference-data.ts stores them.
import { z } from 'zod';
import { AddressSchema } from './address';
import { freeText } from './free-text';
import type { Account, Product } from './types';

const key = (name: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, `${name} has only letters, digits, '.', '_' and '-'`);

export const SkuSchema = key('sku');
export const AccountIdSchema = key('accountId');
const Manufacturer = z.enum(['apple', 'google', 'samsung']);
const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as GBP');

export const ProductWriteSchema = z
  .object({
    sku: SkuSchema,
    name: freeText(120),
    kind: z.enum(['handset', 'peripheral', 'softwareLicence']),
    // Minor units excluding tax; at most 1,000,000.00 a unit.
    unitPrice: z.number().int().min(0).max(100_000_000),
    currency: CurrencyCode,
    taxRateBps: z.number().int().min(0).max(10_000),
    capture: z.enum(['none', 'serial', 'imei']),
    manufacturer: Manufacturer.optional(),
    enrolmentProgrammes: z
      .array(Manufacturer)
      .max(3)
      .refine((a) => new Set(a).size === a.length, 'lists a programme twice'),
    active: z.boolean(),
  })
  .strict();

export const DeliveryContactSchema = z
  .object({
    name: freeText(100),
    phone: z
      .string()
      .trim()
      .max(32)
      .regex(/^[+0-9 ()-]*$/, 'digits, spaces, +, (, ) and - only')
      .optional(),
    email: z.email().max(254).optional(),
    address: AddressSchema,
  })
  .strict();

export const AccountWriteSchema = z
  .object({
    accountId: AccountIdSchema,
    name: freeText(100),
    billingAddress: AddressSchema,
    defaultDelivery: DeliveryContactSchema,
    billingCycleDay: z.number().int().min(1).max(28),
    defaultBillingMode: z.enum(['immediate', 'nextInvoice']),
    currency: CurrencyCode,
  })
  .strict();

export const BLOCKLIST_KINDS = ['name', 'address', 'postcode', 'email', 'phone'] as const;

export const BlocklistEntrySchema = z
  .object({
    kind: z.enum(BLOCKLIST_KINDS),
    // An address entry is a normaliseAddressKey() key: COUNTRY|POSTCODE|CITY|LINES.
    value: freeText(300),
    note: freeText(200).optional(),
  })
  .strict()
  .refine((e) => e.kind !== 'address' || e.value.split('|').length === 4, {
    message: 'an address entry is COUNTRY|POSTCODE|CITY|LINES (see normaliseAddressKey)',
    path: ['value'],
  });

export type BlocklistEntryWrite = z.infer<typeof BlocklistEntrySchema>;

// ---- CSV rows ----

export type ReferenceKind = 'products' | 'accounts' | 'blocklist';
export const REFERENCE_KINDS: readonly ReferenceKind[] = ['products', 'accounts', 'blocklist'];

/** The columns of each import file, in order; a file must have exactly these (any order). */
export const CSV_COLUMNS = {
  products: ['sku', 'name', 'kind', 'unitPrice', 'currency', 'taxRateBps', 'capture', 'manufacturer', 'enrolmentProgrammes', 'active'],
  accounts: [
    'accountId',
    'name',
    'billingLines',
    'billingCity',
    'billingRegion',
    'billingPostcode',
    'billingCountry',
    'deliveryName',
    'deliveryPhone',
    'deliveryEmail',
    'deliveryLines',
    'deliveryCity',
    'deliveryRegion',
    'deliveryPostcode',
    'deliveryCountry',
    'billingCycleDay',
    'defaultBillingMode',
    'currency',
  ],
  blocklist: ['kind', 'value', 'note'],
} as const satisfies Record<ReferenceKind, readonly string[]>;

/** Null when the header is right, else why not. */
export function checkHeader(kind: ReferenceKind, header: readonly string[]): string | null {
  const expected: readonly string[] = CSV_COLUMNS[kind];
  const missing = expected.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !expected.includes(c));
  const repeated = header.filter((c, i) => header.indexOf(c) !== i);
  const problems = [
    missing.length ? `missing ${missing.join(', ')}` : '',
    unknown.length ? `unknown ${unknown.join(', ')}` : '',
    repeated.length ? `repeated ${repeated.join(', ')}` : '',
  ].filter(Boolean);
  return problems.length ? `the header must name the columns ${expected.join(',')}: ${problems.join('; ')}` : null;
}

export type RowResult<T> = { ok: true; key: string; value: T } | { ok: false; key: string | null; reason: string };

type Row = Record<string, string | undefined>;

const cell = (row: Row, name: string) => (row[name] ?? '').trim();
const optional = (v: string) => (v === '' ? undefined : v);
/** `a;b;c`: several values in one cell (address lines, enrolment programmes). */
const several = (v: string) =>
  v === ''
    ? []
    : v
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean);
/** A whole number as written, else the text itself (so zod names the field that is wrong). */
const integer = (v: string): unknown => (/^-?\d+$/.test(v) ? Number(v) : v);
const BOOLEAN: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };

function validated<T>(schema: z.ZodType<T>, raw: unknown, key: string | null): RowResult<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, key: key ?? '', value: parsed.data };
  const reason = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  return { ok: false, key, reason };
}

/** `true`/`false` (also yes/no, 1/0) or an error message. */
function flag(v: string): boolean | string {
  const b = BOOLEAN[v.toLowerCase()];
  return b === undefined ? v : b;
}

export function productFromRow(row: Row): RowResult<Product> {
  const raw = {
    sku: cell(row, 'sku'),
    name: cell(row, 'name'),
    kind: cell(row, 'kind'),
    unitPrice: integer(cell(row, 'unitPrice')),
    currency: cell(row, 'currency'),
    taxRateBps: integer(cell(row, 'taxRateBps')),
    capture: cell(row, 'capture'),
    ...(optional(cell(row, 'manufacturer')) ? { manufacturer: cell(row, 'manufacturer') } : {}),
    enrolmentProgrammes: several(cell(row, 'enrolmentProgrammes')),
    active: flag(cell(row, 'active')),
  };
  return validated(ProductWriteSchema, raw, raw.sku || null) as RowResult<Product>;
}

function addressFrom(row: Row, prefix: 'billing' | 'delivery') {
  return {
    lines: several(cell(row, `${prefix}Lines`)),
    city: cell(row, `${prefix}City`),
    ...(optional(cell(row, `${prefix}Region`)) ? { region: cell(row, `${prefix}Region`) } : {}),
    postcode: cell(row, `${prefix}Postcode`),
    country: cell(row, `${prefix}Country`),
  };
}

/** Delivery columns left empty default to the account's name and billing address. */
export function accountFromRow(row: Row): RowResult<Account> {
  const name = cell(row, 'name');
  const billingAddress = addressFrom(row, 'billing');
  const deliveryGiven = ['Lines', 'City', 'Region', 'Postcode', 'Country'].some((c) => cell(row, `delivery${c}`) !== '');
  const raw = {
    accountId: cell(row, 'accountId'),
    name,
    billingAddress,
    defaultDelivery: {
      name: optional(cell(row, 'deliveryName')) ?? name,
      ...(optional(cell(row, 'deliveryPhone')) ? { phone: cell(row, 'deliveryPhone') } : {}),
      ...(optional(cell(row, 'deliveryEmail')) ? { email: cell(row, 'deliveryEmail') } : {}),
      address: deliveryGiven ? addressFrom(row, 'delivery') : billingAddress,
    },
    billingCycleDay: integer(cell(row, 'billingCycleDay')),
    defaultBillingMode: cell(row, 'defaultBillingMode'),
    currency: cell(row, 'currency'),
  };
  return validated(AccountWriteSchema, raw, raw.accountId || null) as RowResult<Account>;
}

export function blocklistEntryFromRow(row: Row): RowResult<BlocklistEntryWrite> {
  const raw = { kind: cell(row, 'kind'), value: cell(row, 'value'), ...(optional(cell(row, 'note')) ? { note: cell(row, 'note') } : {}) };
  return validated(BlocklistEntrySchema, raw, raw.kind && raw.value ? `${raw.kind}:${raw.value}` : null) as RowResult<BlocklistEntryWrite>;
}

export const ROW_READERS = { products: productFromRow, accounts: accountFromRow, blocklist: blocklistEntryFromRow } as const;

/** The same value, field for field, whatever the order of keys (stored documents vs. new rows). */
export function sameRecord(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

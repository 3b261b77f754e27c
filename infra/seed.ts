// Demo data for `npm start` and the tests: a catalogue of handsets, peripherals and software
// licences, three accounts, and a small fraud blocklist. Upserts by business key: safe to rerun.
import { normaliseAddressKey } from '../domain/fraud';
import type { Account, Product } from '../domain/types';
import type { Db } from './db';

export const DEMO_PRODUCTS: Product[] = [
  {
    sku: 'HS-APL-IP16-128',
    name: 'iPhone 16 128GB Black',
    kind: 'handset',
    unitPrice: 79900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'imei',
    manufacturer: 'apple',
    enrolmentProgrammes: ['apple'],
    active: true,
  },
  {
    sku: 'HS-APL-IP16P-256',
    name: 'iPhone 16 Pro 256GB Titanium',
    kind: 'handset',
    unitPrice: 109900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'imei',
    manufacturer: 'apple',
    enrolmentProgrammes: ['apple'],
    active: true,
  },
  {
    sku: 'HS-GGL-PX9-128',
    name: 'Google Pixel 9 128GB Obsidian',
    kind: 'handset',
    unitPrice: 64900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'imei',
    manufacturer: 'google',
    enrolmentProgrammes: ['google'],
    active: true,
  },
  {
    sku: 'HS-SAM-S25-256',
    name: 'Samsung Galaxy S25 256GB Navy',
    kind: 'handset',
    unitPrice: 85900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'imei',
    manufacturer: 'samsung',
    enrolmentProgrammes: ['samsung', 'google'],
    active: true,
  },
  {
    sku: 'HS-SAM-A16-128',
    name: 'Samsung Galaxy A16 128GB',
    kind: 'handset',
    unitPrice: 18900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'imei',
    manufacturer: 'samsung',
    enrolmentProgrammes: ['samsung', 'google'],
    active: true,
  },
  {
    sku: 'HS-NOK-3310-OLD',
    name: 'Nokia 3310 (discontinued)',
    kind: 'handset',
    unitPrice: 4900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'imei',
    enrolmentProgrammes: [],
    active: false,
  },
  {
    sku: 'PR-APL-USBC-20W',
    name: 'Apple 20W USB-C Power Adapter',
    kind: 'peripheral',
    unitPrice: 1900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'none',
    enrolmentProgrammes: [],
    active: true,
  },
  {
    sku: 'PR-GEN-CASE-IP16',
    name: 'Clear Case for iPhone 16',
    kind: 'peripheral',
    unitPrice: 1499,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'none',
    enrolmentProgrammes: [],
    active: true,
  },
  {
    sku: 'PR-SAM-BUDS3',
    name: 'Samsung Galaxy Buds3',
    kind: 'peripheral',
    unitPrice: 12900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'serial',
    enrolmentProgrammes: [],
    active: true,
  },
  {
    sku: 'PR-ROUTER-5G',
    name: '5G Home Router',
    kind: 'peripheral',
    unitPrice: 19900,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'serial',
    enrolmentProgrammes: [],
    active: true,
  },
  {
    sku: 'SW-MDM-1Y',
    name: 'Mobile Device Management, 1 year per device',
    kind: 'softwareLicence',
    unitPrice: 3600,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'none',
    enrolmentProgrammes: [],
    active: true,
  },
  {
    sku: 'SW-SEC-1Y',
    name: 'Mobile Security Suite, 1 year',
    kind: 'softwareLicence',
    unitPrice: 2400,
    currency: 'GBP',
    taxRateBps: 2000,
    capture: 'none',
    enrolmentProgrammes: [],
    active: true,
  },
];

const addr = (lines: string[], city: string, postcode: string, region?: string) => ({ lines, city, postcode, country: 'GB', ...(region ? { region } : {}) });

export const DEMO_ACCOUNTS: Account[] = [
  {
    accountId: 'ACC-1001',
    name: 'Alice Johnson',
    billingAddress: addr(['12 Market Street'], 'Leeds', 'LS1 6DT', 'West Yorkshire'),
    defaultDelivery: {
      name: 'Alice Johnson',
      phone: '+44 7700 900123',
      email: 'alice.johnson@example.com',
      address: addr(['12 Market Street'], 'Leeds', 'LS1 6DT', 'West Yorkshire'),
    },
    billingCycleDay: 1,
    defaultBillingMode: 'immediate',
    currency: 'GBP',
  },
  {
    accountId: 'ACC-1002',
    name: 'Brightwater Logistics Ltd',
    billingAddress: addr(['Unit 4, Riverside Park', 'Dock Road'], 'Bristol', 'BS1 5UH'),
    defaultDelivery: {
      name: 'Priya Shah',
      phone: '+44 117 496 0001',
      email: 'it@brightwater.example',
      address: addr(['Unit 4, Riverside Park', 'Dock Road'], 'Bristol', 'BS1 5UH'),
    },
    billingCycleDay: 15,
    defaultBillingMode: 'nextInvoice',
    currency: 'GBP',
  },
  {
    accountId: 'ACC-1003',
    name: 'Callum MacLeod',
    billingAddress: addr(['3 Harbour View'], 'Inverness', 'IV1 1AA', 'Highland'),
    defaultDelivery: { name: 'Callum MacLeod', phone: '+44 7700 900456', address: addr(['3 Harbour View'], 'Inverness', 'IV1 1AA', 'Highland') },
    billingCycleDay: 28,
    defaultBillingMode: 'nextInvoice',
    currency: 'GBP',
  },
];

export const DEMO_BLOCKLIST = [
  { kind: 'postcode', value: 'ZZ99 9ZZ', note: 'known drop address' },
  { kind: 'address', value: normaliseAddressKey(addr(['1 Fraud Lane'], 'Nowhere', 'NW1 1AA')), note: 'chargebacks 2025' },
  { kind: 'email', value: 'mule@example.invalid', note: 'mule account' },
] as const;

export async function seedDemoData(db: Db): Promise<void> {
  const { Product, Account, FraudListEntry } = db.models;
  await Product.bulkWrite(DEMO_PRODUCTS.map((p) => ({ updateOne: { filter: { sku: p.sku }, update: { $set: p }, upsert: true } })));
  await Account.bulkWrite(
    DEMO_ACCOUNTS.map((a) => ({
      updateOne: { filter: { accountId: a.accountId }, update: { $set: { ...a, nameLower: a.name.toLowerCase() } }, upsert: true },
    })),
  );
  await FraudListEntry.bulkWrite(DEMO_BLOCKLIST.map((e) => ({ updateOne: { filter: { kind: e.kind, value: e.value }, update: { $set: e }, upsert: true } })));
}

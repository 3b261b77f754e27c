// Fraud policy (does an order need a fraud check?) and the built-in rules provider's decision
// logic. Pure: the caller loads blocklists and counts recent orders; nothing here does I/O.

import type { Address, DeliveryContact, FraudDecision } from './types';

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

/** Lower case, accents stripped, apostrophes dropped, other punctuation -> space, spaces collapsed. */
export function normaliseText(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Upper case with every space removed ("sw1a 1aa" -> "SW1A1AA"). */
export function normalisePostcode(postcode: string): string {
  return postcode.toUpperCase().replace(/\s+/g, '');
}

/**
 * A comparison key for an address: `COUNTRY|POSTCODE|city|lines`, case, accents, whitespace
 * and punctuation normalised and postcode spacing removed; empty lines dropped and the lines
 * joined, so where the line breaks fall does not matter. `region` is left out (it is optional
 * and often missing on one side). Used for the delivery-vs-billing comparison, for velocity
 * counting and for address blocklist entries.
 */
export function normaliseAddressKey(address: Address): string {
  const lines = address.lines
    .map(normaliseText)
    .filter((l) => l !== '')
    .join(' ');
  return [address.country.trim().toUpperCase(), normalisePostcode(address.postcode), normaliseText(address.city), lines].join('|');
}

/** Digits only, an international "00" prefix treated as "+". */
function phoneDigits(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.startsWith('00') ? digits.slice(2) : digits;
}

/**
 * Two phone numbers match when their digits are equal, or when one (less a leading national
 * trunk "0") has at least 9 digits and the other ends with it: "07700 900123" matches
 * "+44 7700 900123".
 */
export function phonesMatch(a: string, b: string): boolean {
  const da = phoneDigits(a);
  const db = phoneDigits(b);
  if (da === '' || db === '') return false;
  if (da === db) return true;
  const national = (d: string): string => (d.startsWith('0') ? d.slice(1) : d);
  const [shorter, longer] = da.length <= db.length ? [national(da), db] : [national(db), da];
  return shorter.length >= 9 && longer.endsWith(shorter);
}

// ---------------------------------------------------------------------------------------------
// Fraud policy: is a check required at order generation?
// ---------------------------------------------------------------------------------------------

/** The configured policy is `config.fraud` (infra/config.ts: its defaults and variables). */
export interface FraudPolicy {
  /** When false no order is checked. */
  enabled: boolean;
  /** Orders whose gross (minor units) is strictly above this are checked. */
  valueThreshold: number;
  /** ISO 3166-1 alpha-2 delivery countries that need no check; empty = no country restriction. */
  allowedCountries: string[];
  /** Check the first order on an account. */
  checkFirstOrder: boolean;
  /** Check when the delivery address differs from the billing address. */
  checkAddressMismatch: boolean;
}

export interface FraudCheckInput {
  delivery: DeliveryContact;
  billingAddress: Address;
  /** Order gross, minor units. */
  orderGross: number;
  /** Whether the account has an earlier order that reached the warehouse (this one excluded). */
  hasPreviousOrders: boolean;
}

export interface FraudCheckRequirement {
  required: boolean;
  reasons: string[];
}

export const FRAUD_CHECK_REASONS = [
  'DELIVERY_ADDRESS_DIFFERS',
  'ORDER_VALUE_ABOVE_THRESHOLD',
  'FIRST_ORDER_ON_ACCOUNT',
  'DELIVERY_COUNTRY_NOT_ALLOWED',
] as const;
export type FraudCheckReason = (typeof FRAUD_CHECK_REASONS)[number];

/**
 * Whether an order needs a fraud check, and why. Reasons are listed in the order of
 * FRAUD_CHECK_REASONS; required is true exactly when there is at least one reason.
 */
export function decideFraudCheck(input: FraudCheckInput, policy: FraudPolicy): FraudCheckRequirement {
  if (!policy.enabled) return { required: false, reasons: [] };
  const reasons: FraudCheckReason[] = [];
  if (policy.checkAddressMismatch && normaliseAddressKey(input.delivery.address) !== normaliseAddressKey(input.billingAddress)) {
    reasons.push('DELIVERY_ADDRESS_DIFFERS');
  }
  if (input.orderGross > policy.valueThreshold) reasons.push('ORDER_VALUE_ABOVE_THRESHOLD');
  if (policy.checkFirstOrder && !input.hasPreviousOrders) reasons.push('FIRST_ORDER_ON_ACCOUNT');
  if (policy.allowedCountries.length > 0) {
    const allowed = new Set(policy.allowedCountries.map((c) => c.trim().toUpperCase()));
    if (!allowed.has(input.delivery.address.country.trim().toUpperCase())) reasons.push('DELIVERY_COUNTRY_NOT_ALLOWED');
  }
  return { required: reasons.length > 0, reasons };
}

// ---------------------------------------------------------------------------------------------
// Postcodes
// ---------------------------------------------------------------------------------------------

// UK: outward code A9, A99, A9A, AA9, AA99, AA9A with the Royal Mail letter restrictions per
// position, then inward code 9AA (no C I K M O V), plus the special GIR 0AA. Matched on the
// postcode with its spaces removed, so "SW1A 1AA", "SW1A1AA" and "sw1a  1aa" are all valid.
const UK_POSTCODE =
  /^(?:GIR0AA|(?:[A-PR-UWYZ]\d{1,2}|[A-PR-UWYZ][A-HK-Y]\d{1,2}|[A-PR-UWYZ]\d[A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y]\d[ABEHMNPRV-Y])\d[ABD-HJLNP-UW-Z]{2})$/;

const POSTCODE_PATTERNS: Readonly<Record<string, RegExp>> = {
  GB: UK_POSTCODE,
  US: /^\d{5}(?:-\d{4})?$/, // ZIP or ZIP+4 (compared with spaces removed)
  DE: /^\d{5}$/,
  FR: /^\d{5}$/,
  ES: /^\d{5}$/,
  // Eircode: routing key (letter + 2 digits, or D6W) + 4-character unique identifier.
  IE: /^(?:[AC-FHKNPRTV-Y]\d{2}|D6W)[0-9AC-FHKNPRTV-Y]{4}$/,
  NL: /^[1-9]\d{3}[A-Z]{2}$/,
};

/**
 * Whether `postcode` is well formed for `country` (ISO alpha-2, any case). Case and spaces are
 * ignored. Countries without a specific rule accept 2-10 letters/digits, optionally separated
 * by single spaces or hyphens ("K1A 0B6", "00-950", "100-0001").
 */
export function validPostcode(country: string, postcode: string): boolean {
  const compact = normalisePostcode(postcode);
  const pattern = POSTCODE_PATTERNS[country.trim().toUpperCase()];
  if (pattern !== undefined) return pattern.test(compact);
  const trimmed = postcode.trim().toUpperCase();
  if (!/^[A-Z0-9]+(?:[ -][A-Z0-9]+)*$/.test(trimmed)) return false;
  const alnum = trimmed.replace(/[ -]/g, '');
  return alnum.length >= 2 && alnum.length <= 10;
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

const PLACEHOLDER_WORDS = new Set([
  'test',
  'testing',
  'fraud',
  'fake',
  'dummy',
  'sample',
  'example',
  'null',
  'undefined',
  'none',
  'unknown',
  'anonymous',
  'noname',
  'nobody',
  'foo',
  'foobar',
  'qwerty',
  'asdf',
  'xxx',
]);

// QWERTY and AZERTY rows. (QWERTZ is left out: its 'wertz' run is a real surname.)
const KEYBOARD_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'azertyuiop', 'qsdfghjklm', 'wxcvbn'];

/** Short, unmistakable mash fragments (4 keys); longer runs are caught by the row scan below. */
const MASH_FRAGMENTS = ['asdf', 'fdsa', 'qwer', 'rewq', 'zxcv', 'vcxz', 'hjkl', 'lkjh', 'jkl'];

/** Any run of 5 adjacent keys of one keyboard row, forwards or backwards. */
function hasKeyboardRun(word: string, runLength = 5): boolean {
  for (const row of KEYBOARD_ROWS) {
    for (const line of [row, [...row].reverse().join('')]) {
      for (let i = 0; i + runLength <= line.length; i++) {
        if (word.includes(line.slice(i, i + runLength))) return true;
      }
    }
  }
  return false;
}

/**
 * Why a delivery name looks made up, or undefined if it looks plausible. A plausible name has
 * at least two words, each made of letters (with inner hyphens, apostrophes or a trailing full
 * stop, as in "O'Neil", "Smith-Jones", "J. Smith"), not only initials ("A B"), no digits or
 * other symbols, no keyboard mash ("asdf", "qwerty", a 5-key row run), no letter three times
 * in a row or a word of one repeated letter ("aa"), no Latin word of 6+ letters without a
 * vowel (a, e, i, o, u, w, y), and no placeholder word ("test", "fraud", "dummy", ...).
 * Combining marks are allowed inside words (scripts that keep them after NFKC).
 */
export function nameImplausibility(name: string): string | undefined {
  const cleaned = name.normalize('NFKC').trim();
  if (/\p{N}/u.test(cleaned)) return 'contains digits';
  const words = cleaned.split(/\s+/u).filter((w) => w !== '');
  if (words.length < 2) return 'fewer than two words';
  for (const word of words) {
    if (!/^\p{L}[\p{L}\p{M}]*(?:['’-]\p{L}[\p{L}\p{M}]*)*\.?$/u.test(word)) return `"${word}" is not a word of letters`;
  }
  const plain = words.map((w) =>
    w
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/['’.-]/g, ''),
  );
  if (!plain.some((w) => [...w].length >= 2)) return 'initials only';
  for (const word of plain) {
    if (PLACEHOLDER_WORDS.has(word)) return `placeholder word "${word}"`;
    if (MASH_FRAGMENTS.some((f) => word.includes(f)) || hasKeyboardRun(word)) return `keyboard mash "${word}"`;
    if (/(\p{L})\1\1/u.test(word)) return `repeated letters in "${word}"`;
    const chars = [...word];
    if (chars.length >= 2 && chars.every((c) => c === chars[0])) return `repeated letter "${word}"`;
    if (/^[a-z]+$/.test(word) && word.length >= 6 && !/[aeiouwy]/.test(word)) return `no vowels in "${word}"`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Built-in rules provider
// ---------------------------------------------------------------------------------------------

export type BlocklistKind = 'name' | 'address' | 'postcode' | 'email' | 'phone';

export interface BlocklistEntry {
  kind: BlocklistKind;
  /**
   * name: any spelling (normalised with normaliseText); address: a normaliseAddressKey() key;
   * postcode: any spacing/case; email: any case; phone: any formatting (see phonesMatch).
   */
  value: string;
}

/** Built by the rules provider from `config.fraud.velocityLimit` (infra/config.ts). */
export interface FraudRulesPolicy {
  /** Refer when this many recent orders (or more) went to the same normalised address. */
  velocityLimit: number;
  /** The window the caller counts recentOrdersToAddress over (informational here). */
  velocityWindowHours: number;
}

export interface FraudRulesInput {
  delivery: DeliveryContact;
  /**
   * Orders to the same normaliseAddressKey() within the policy window, from any account,
   * excluding the order being checked.
   */
  recentOrdersToAddress: number;
}

export interface FraudRulesResult {
  decision: FraudDecision;
  reasons: string[];
}

export const FRAUD_REJECT_REASONS = [
  'ADDRESS_INCOMPLETE',
  'POSTCODE_INVALID',
  'BLOCKLISTED_NAME',
  'BLOCKLISTED_ADDRESS',
  'BLOCKLISTED_POSTCODE',
  'BLOCKLISTED_EMAIL',
  'BLOCKLISTED_PHONE',
] as const;
export const FRAUD_REFER_REASONS = ['NAME_IMPLAUSIBLE', 'VELOCITY_EXCEEDED'] as const;
export type FraudRuleReason = (typeof FRAUD_REJECT_REASONS)[number] | (typeof FRAUD_REFER_REASONS)[number];

const REJECT_SET: ReadonlySet<string> = new Set(FRAUD_REJECT_REASONS);

/**
 * reject if any reason is a rejection, else refer if there is any reason at all (an unknown
 * reason code is treated as a referral, never silently accepted), else accept.
 */
export function decisionFor(reasons: readonly string[]): FraudDecision {
  if (reasons.some((r) => REJECT_SET.has(r))) return 'reject';
  return reasons.length > 0 ? 'refer' : 'accept';
}

/** Complete: a non-empty address line, a city, a postcode and a two-letter country code. */
export function addressComplete(address: Address): boolean {
  return (
    address.lines.some((l) => l.trim() !== '') && address.city.trim() !== '' && address.postcode.trim() !== '' && /^[A-Za-z]{2}$/.test(address.country.trim())
  );
}

function blocklisted(kind: BlocklistKind, entries: readonly BlocklistEntry[], delivery: DeliveryContact): boolean {
  const values = entries.filter((e) => e.kind === kind).map((e) => e.value);
  if (values.length === 0) return false;
  switch (kind) {
    case 'name': {
      const n = normaliseText(delivery.name);
      return n !== '' && values.some((v) => normaliseText(v) === n);
    }
    case 'address': {
      const key = normaliseAddressKey(delivery.address);
      return values.some((v) => normaliseAddressKeyString(v) === key);
    }
    case 'postcode': {
      const p = normalisePostcode(delivery.address.postcode);
      return p !== '' && values.some((v) => normalisePostcode(v) === p);
    }
    case 'email': {
      const e = delivery.email?.trim().toLowerCase() ?? '';
      return e !== '' && values.some((v) => v.trim().toLowerCase() === e);
    }
    case 'phone': {
      const phone = delivery.phone ?? '';
      return values.some((v) => phonesMatch(v, phone));
    }
  }
}

/** Re-normalises a stored address key (tolerates case/spacing drift in hand-edited lists). */
function normaliseAddressKeyString(value: string): string {
  const [country = '', postcode = '', city = '', lines = ''] = value.split('|');
  return [country.trim().toUpperCase(), normalisePostcode(postcode), normaliseText(city), normaliseText(lines)].join('|');
}

/**
 * The built-in rules provider. Reasons come in a fixed order (rejections, then referrals):
 * ADDRESS_INCOMPLETE, POSTCODE_INVALID, BLOCKLISTED_NAME/ADDRESS/POSTCODE/EMAIL/PHONE,
 * NAME_IMPLAUSIBLE, VELOCITY_EXCEEDED. The postcode is only format-checked when present (an
 * empty one is ADDRESS_INCOMPLETE) and the country is a two-letter code.
 */
export function evaluateFraudRules(input: FraudRulesInput, lists: readonly BlocklistEntry[], policy: FraudRulesPolicy): FraudRulesResult {
  const { delivery } = input;
  const address = delivery.address;
  const reasons: FraudRuleReason[] = [];

  if (!addressComplete(address)) reasons.push('ADDRESS_INCOMPLETE');
  const country = address.country.trim();
  if (address.postcode.trim() !== '' && /^[A-Za-z]{2}$/.test(country) && !validPostcode(country, address.postcode)) {
    reasons.push('POSTCODE_INVALID');
  }
  const kinds: [BlocklistKind, FraudRuleReason][] = [
    ['name', 'BLOCKLISTED_NAME'],
    ['address', 'BLOCKLISTED_ADDRESS'],
    ['postcode', 'BLOCKLISTED_POSTCODE'],
    ['email', 'BLOCKLISTED_EMAIL'],
    ['phone', 'BLOCKLISTED_PHONE'],
  ];
  for (const [kind, reason] of kinds) {
    if (blocklisted(kind, lists, delivery)) reasons.push(reason);
  }
  if (nameImplausibility(delivery.name) !== undefined) reasons.push('NAME_IMPLAUSIBLE');
  if (input.recentOrdersToAddress >= policy.velocityLimit) reasons.push('VELOCITY_EXCEEDED');

  return { decision: decisionFor(reasons), reasons };
}

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Address, DeliveryContact, FraudDecision } from '../../domain/types';
import {
  FRAUD_CHECK_REASONS,
  FRAUD_REJECT_REASONS,
  addressComplete,
  decideFraudCheck,
  decisionFor,
  evaluateFraudRules,
  nameImplausibility,
  normaliseAddressKey,
  normalisePostcode,
  phonesMatch,
  validPostcode,
  type BlocklistEntry,
  type FraudCheckInput,
  type FraudPolicy,
  type FraudRulesPolicy,
} from '../../domain/fraud';
import { loadConfig } from '../../infra/config';

const billing: Address = { lines: ['10 Downing Street'], city: 'London', postcode: 'SW1A 2AA', country: 'GB' };
const contact = (overrides: Partial<DeliveryContact> = {}, address: Partial<Address> = {}): DeliveryContact => ({
  name: 'Jane Smith',
  phone: '+44 7700 900123',
  email: 'jane.smith@example.co.uk',
  ...overrides,
  address: { ...billing, ...address },
});

/** The configuration with no environment: what a deployment gets unless it sets FRAUD_*. */
const configured = loadConfig({}).fraud;
// The rules are tested with every check on, whatever the configured defaults are.
const everyCheck: FraudPolicy = { enabled: true, valueThreshold: 100_000, allowedCountries: ['GB'], checkFirstOrder: true, checkAddressMismatch: true };
const policy = (overrides: Partial<FraudPolicy> = {}): FraudPolicy => ({ ...everyCheck, ...overrides });
const rules: FraudRulesPolicy = { velocityLimit: configured.velocityLimit, velocityWindowHours: 24 * 7 };
const checkInput = (overrides: Partial<FraudCheckInput> = {}): FraudCheckInput => ({
  delivery: contact(),
  billingAddress: billing,
  orderGross: 50_000,
  hasPreviousOrders: true,
  ...overrides,
});

const RANK: Record<FraudDecision, number> = { accept: 0, refer: 1, reject: 2 };

// ---------------------------------------------------------------------------------------------

describe('normaliseAddressKey', () => {
  it('ignores case, whitespace, punctuation, accents and postcode spacing', () => {
    const a: Address = { lines: ['Flat 1, 12 High St.', "St. John's Wood"], city: 'London', postcode: 'NW8 7AB', country: 'GB' };
    const b: Address = { lines: ['  flat 1 12   HIGH st', 'st johns wood  '], city: 'LONDON ', postcode: 'nw87ab', country: 'gb' };
    expect(normaliseAddressKey(a)).toBe(normaliseAddressKey(b));
    expect(normaliseAddressKey(a)).toBe('GB|NW87AB|london|flat 1 12 high st st johns wood');
    const accent: Address = { lines: ['1 Rue de la Paix'], city: 'Orléans', postcode: '45000', country: 'FR' };
    expect(normaliseAddressKey(accent)).toBe(normaliseAddressKey({ ...accent, city: 'ORLEANS' }));
  });

  it('does not depend on where the line breaks fall, drops empty lines and ignores region', () => {
    const a: Address = { lines: ['Flat 1', '12 High Street', ''], city: 'Leeds', region: 'West Yorkshire', postcode: 'LS1 4AP', country: 'GB' };
    const b: Address = { lines: ['Flat 1 12 High Street'], city: 'Leeds', postcode: 'LS14AP', country: 'GB' };
    expect(normaliseAddressKey(a)).toBe(normaliseAddressKey(b));
  });

  it('distinguishes genuinely different addresses', () => {
    expect(normaliseAddressKey(billing)).not.toBe(normaliseAddressKey({ ...billing, lines: ['11 Downing Street'] }));
    expect(normaliseAddressKey(billing)).not.toBe(normaliseAddressKey({ ...billing, postcode: 'SW1A 2AB' }));
    expect(normaliseAddressKey(billing)).not.toBe(normaliseAddressKey({ ...billing, country: 'IE' }));
    expect(normaliseAddressKey(billing)).not.toBe(normaliseAddressKey({ ...billing, city: 'Londonderry' }));
  });

  it('property: invariant under case changes, extra spaces and trailing punctuation', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);
    fc.assert(
      fc.property(
        fc.array(fc.array(word, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        word,
        fc.stringMatching(/^[A-Z0-9]{2,4}[0-9][A-Z]{2}$/),
        fc.constantFrom('GB', 'FR', 'US'),
        fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
        (lineWords, city, postcode, country, flips) => {
          let i = 0;
          const mangle = (s: string): string => [...s].map((c) => (flips[i++ % flips.length] ? c.toUpperCase() : c.toLowerCase())).join('');
          const a: Address = { lines: lineWords.map((ws) => ws.join(' ')), city, postcode, country };
          const b: Address = {
            lines: lineWords.map((ws) => `  ${ws.map(mangle).join(flips[0] ? ',  ' : ' ')}.`),
            city: ` ${mangle(city)} `,
            postcode: `${mangle(postcode.slice(0, -3))} ${mangle(postcode.slice(-3))}`,
            country: mangle(country),
          };
          expect(normaliseAddressKey(b)).toBe(normaliseAddressKey(a));
        },
      ),
    );
  });
});

describe('normalisePostcode / phonesMatch', () => {
  it('normalises postcodes', () => {
    expect(normalisePostcode(' sw1a  2aa ')).toBe('SW1A2AA');
  });

  it.each([
    ['+44 7700 900123', '07700 900123', true],
    ['0044 7700 900123', '+44 (0)7700 900123'.replace('(0)', ''), true],
    ['07700900123', '07700-900-123', true],
    ['+44 7700 900123', '+44 7700 900124', false],
    ['123', '0123', false], // too short to compare on the national part
    ['', '', false],
    ['+1 415 555 0100', '(415) 555-0100', true],
  ])('phonesMatch(%s, %s) = %s', (a, b, expected) => {
    expect(phonesMatch(a, b)).toBe(expected);
    expect(phonesMatch(b, a)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------

describe('decideFraudCheck', () => {
  it('needs no check for a repeat, low-value, domestic order to the billing address', () => {
    expect(decideFraudCheck(checkInput(), policy())).toEqual({ required: false, reasons: [] });
    expect(decideFraudCheck(checkInput(), configured)).toEqual({ required: false, reasons: [] });
  });

  it('treats a differently formatted copy of the billing address as the same address', () => {
    const delivery = contact({}, { lines: [' 10, DOWNING street. '], city: 'london', postcode: 'sw1a2aa', country: 'gb', region: 'Greater London' });
    expect(decideFraudCheck(checkInput({ delivery }), policy()).reasons).not.toContain('DELIVERY_ADDRESS_DIFFERS');
  });

  it('flags a delivery address that differs from billing, unless the policy says not to', () => {
    const delivery = contact({}, { lines: ['1 Other Road'], city: 'Leeds', postcode: 'LS1 4AP' });
    expect(decideFraudCheck(checkInput({ delivery }), policy())).toEqual({ required: true, reasons: ['DELIVERY_ADDRESS_DIFFERS'] });
    expect(decideFraudCheck(checkInput({ delivery }), policy({ checkAddressMismatch: false }))).toEqual({ required: false, reasons: [] });
  });

  it('flags orders strictly above the value threshold', () => {
    expect(decideFraudCheck(checkInput({ orderGross: 100_000 }), policy()).required).toBe(false);
    expect(decideFraudCheck(checkInput({ orderGross: 100_001 }), policy())).toEqual({ required: true, reasons: ['ORDER_VALUE_ABOVE_THRESHOLD'] });
    expect(decideFraudCheck(checkInput({ orderGross: 5_000 }), policy({ valueThreshold: 4_999 })).reasons).toEqual(['ORDER_VALUE_ABOVE_THRESHOLD']);
  });

  it('flags the first order on an account when configured', () => {
    expect(decideFraudCheck(checkInput({ hasPreviousOrders: false }), policy())).toEqual({ required: true, reasons: ['FIRST_ORDER_ON_ACCOUNT'] });
    expect(decideFraudCheck(checkInput({ hasPreviousOrders: true }), policy()).required).toBe(false);
    expect(decideFraudCheck(checkInput({ hasPreviousOrders: false }), policy({ checkFirstOrder: false })).required).toBe(false);
  });

  it('flags delivery countries outside the allowed list (case-insensitive); an empty list allows all', () => {
    const toFrance = contact({}, { country: 'FR', postcode: '75008', city: 'Paris', lines: ['1 Rue de Rivoli'] });
    const billingFr: Address = toFrance.address;
    expect(decideFraudCheck(checkInput({ delivery: toFrance, billingAddress: billingFr }), policy())).toEqual({
      required: true,
      reasons: ['DELIVERY_COUNTRY_NOT_ALLOWED'],
    });
    expect(decideFraudCheck(checkInput({ delivery: toFrance, billingAddress: billingFr }), policy({ allowedCountries: ['gb', 'fr'] })).required).toBe(false);
    expect(decideFraudCheck(checkInput({ delivery: toFrance, billingAddress: billingFr }), policy({ allowedCountries: [] })).required).toBe(false);
    expect(decideFraudCheck(checkInput({ delivery: contact({}, { country: 'gb' }) }), policy()).reasons).toEqual([]);
  });

  it('lists every reason, in a fixed order', () => {
    const delivery = contact({}, { lines: ['1 Main St'], city: 'Dublin', postcode: 'D02 X285', country: 'IE' });
    expect(decideFraudCheck({ delivery, billingAddress: billing, orderGross: 1_000_000, hasPreviousOrders: false }, policy())).toEqual({
      required: true,
      reasons: ['DELIVERY_ADDRESS_DIFFERS', 'ORDER_VALUE_ABOVE_THRESHOLD', 'FIRST_ORDER_ON_ACCOUNT', 'DELIVERY_COUNTRY_NOT_ALLOWED'],
    });
  });

  it('checks nothing when disabled', () => {
    const delivery = contact({}, { lines: ['1 Main St'], city: 'Dublin', postcode: 'D02 X285', country: 'IE' });
    expect(decideFraudCheck({ delivery, billingAddress: billing, orderGross: 1_000_000, hasPreviousOrders: false }, policy({ enabled: false }))).toEqual({
      required: false,
      reasons: [],
    });
  });

  it('property: required iff there are reasons; reasons are distinct, known and in canonical order', () => {
    const arbAddress = fc.record({
      lines: fc.constantFrom<string[]>(['10 Downing Street'], ['1 Other Road'], ['10 downing street.']),
      city: fc.constantFrom('London', 'LONDON', 'Leeds'),
      postcode: fc.constantFrom('SW1A 2AA', 'sw1a2aa', 'LS1 4AP'),
      country: fc.constantFrom('GB', 'gb', 'FR', 'IE'),
    });
    const arbPolicy = fc.record({
      enabled: fc.boolean(),
      valueThreshold: fc.integer({ min: 0, max: 200_000 }),
      allowedCountries: fc.subarray(['GB', 'FR', 'IE', 'us']),
      checkFirstOrder: fc.boolean(),
      checkAddressMismatch: fc.boolean(),
    });
    fc.assert(
      fc.property(arbAddress, arbAddress, fc.integer({ min: 0, max: 300_000 }), fc.boolean(), arbPolicy, (delivery, bill, gross, previous, pol) => {
        const result = decideFraudCheck({ delivery: contact({}, delivery), billingAddress: bill, orderGross: gross, hasPreviousOrders: previous }, pol);
        expect(result.required).toBe(result.reasons.length > 0);
        if (!pol.enabled) expect(result.required).toBe(false);
        const indexes = result.reasons.map((r) => (FRAUD_CHECK_REASONS as readonly string[]).indexOf(r));
        expect(indexes.every((i) => i >= 0)).toBe(true);
        expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
        expect(new Set(indexes).size).toBe(indexes.length);
        if (pol.enabled) expect(result.reasons.includes('ORDER_VALUE_ABOVE_THRESHOLD')).toBe(gross > pol.valueThreshold);
      }),
    );
  });

  it('property: switching a check off never adds reasons', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 300_000 }), (mismatch, first, previous, gross) => {
        const delivery = contact({}, mismatch ? { lines: ['1 Other Road'] } : {});
        const input = { delivery, billingAddress: billing, orderGross: gross, hasPreviousOrders: previous };
        const strict = decideFraudCheck(input, policy());
        const relaxed = decideFraudCheck(input, policy({ checkAddressMismatch: !mismatch, checkFirstOrder: !first, valueThreshold: 300_000 }));
        expect(relaxed.reasons.every((r) => strict.reasons.includes(r))).toBe(true);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('validPostcode', () => {
  it.each([
    // GB: every outward format, the special GIR 0AA, any spacing and case.
    ['GB', 'SW1A 1AA'],
    ['GB', 'EC1A 1BB'],
    ['GB', 'W1A 0AX'],
    ['GB', 'M1 1AE'],
    ['GB', 'B33 8TH'],
    ['GB', 'CR2 6XH'],
    ['GB', 'DN55 1PT'],
    ['GB', 'GIR 0AA'],
    ['GB', 'sw1a1aa'],
    ['GB', '  M1   1AE '],
    ['gb', 'LS1 4AP'],
    ['US', '90210'],
    ['US', '90210-1234'],
    ['DE', '10115'],
    ['FR', '75008'],
    ['ES', '28013'],
    ['IE', 'D02 X285'],
    ['IE', 'A65F4E2'],
    ['IE', 'D6W 1234'],
    ['NL', '1012 AB'],
    ['NL', '1012ab'],
    ['CA', 'K1A 0B6'],
    ['PL', '00-950'],
    ['JP', '100-0001'],
    ['SE', '114 55'],
    ['BE', '10'],
  ])('%s %s is valid', (country, postcode) => {
    expect(validPostcode(country, postcode)).toBe(true);
  });

  it.each([
    ['GB', 'SW1A 1A'],
    ['GB', 'QW1 1AA'], // Q never first
    ['GB', 'V1 1AA'], // V never first
    ['GB', 'XX1 1AA'], // X never first
    ['GB', 'AI1 1AA'], // I never second
    ['GB', 'SW1A 1CA'], // C never in the inward code
    ['GB', 'M1 1AEE'],
    ['GB', 'AAA 1AA'],
    ['GB', '12345'],
    ['GB', 'SW1A-1AA'],
    ['GB', 'GIR 0AB'],
    ['US', '9021'],
    ['US', '90210-12'],
    ['US', 'ABCDE'],
    ['DE', '1011'],
    ['DE', '101155'],
    ['FR', '7500A'],
    ['ES', '2801'],
    ['IE', 'B12 3456'], // B is not a routing-key letter
    ['IE', 'D02 X28'],
    ['NL', '0123 AB'],
    ['NL', '1012 A1'],
    ['NL', '101 AB'],
    ['CA', 'A'],
    ['CA', '12345678901'],
    ['PL', '00--950'],
    ['PL', '00_950'],
    ['PL', '-00950'],
  ])('%s %s is invalid', (country, postcode) => {
    expect(validPostcode(country, postcode)).toBe(false);
  });

  it('property: every well-formed UK postcode is accepted, with or without the space, in any case', () => {
    const first = 'ABCDEFGHIJKLMNOPRSTUWYZ';
    const second = 'ABCDEFGHKLMNOPQRSTUVWXY';
    const third = 'ABCDEFGHJKPSTUW';
    const fourth = 'ABEHMNPRVWXY';
    const inward = 'ABDEFGHJLNPQRSTUWXYZ';
    const ch = (set: string) => fc.constantFrom(...set.split(''));
    const digit = fc.integer({ min: 0, max: 9 }).map(String);
    const outward = fc.oneof(
      fc.tuple(ch(first), digit).map((p) => p.join('')),
      fc.tuple(ch(first), digit, digit).map((p) => p.join('')),
      fc.tuple(ch(first), digit, ch(third)).map((p) => p.join('')),
      fc.tuple(ch(first), ch(second), digit).map((p) => p.join('')),
      fc.tuple(ch(first), ch(second), digit, digit).map((p) => p.join('')),
      fc.tuple(ch(first), ch(second), digit, ch(fourth)).map((p) => p.join('')),
    );
    fc.assert(
      fc.property(outward, digit, ch(inward), ch(inward), fc.constantFrom('', ' ', '  '), fc.boolean(), (out, d, a, b, space, lower) => {
        const code = `${out}${space}${d}${a}${b}`;
        expect(validPostcode('GB', lower ? code.toLowerCase() : code)).toBe(true);
      }),
    );
  });

  it('property: a UK postcode with a forbidden first letter or inward letter is rejected', () => {
    fc.assert(
      fc.property(fc.constantFrom('Q', 'V', 'X'), fc.constantFrom('C', 'I', 'K', 'M', 'O', 'V'), (badFirst, badInward) => {
        expect(validPostcode('GB', `${badFirst}1 1AA`)).toBe(false);
        expect(validPostcode('GB', `M1 1${badInward}A`)).toBe(false);
        expect(validPostcode('GB', `M1 1A${badInward}`)).toBe(false);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('nameImplausibility', () => {
  it.each([
    'Jane Smith',
    "Siobhán O'Neill",
    'Mary-Jane Smith-Jones',
    'J. Smith',
    'Dr. John Watson',
    'José García',
    'Zoë Brontë',
    'Nguyen Van Anh',
    'Ng Wei',
    'Bo Li',
    'Ian Lee',
    'Anna Trewin',
    'Otto Wertz',
    'Rhys Llwyd',
    '王 小明',
    'Jane   Smith',
    'Renée Zellweger',
    'Hans Schmidt',
  ])('%s is plausible', (name) => {
    expect(nameImplausibility(name)).toBeUndefined();
  });

  it.each([
    ['', 'no words'],
    ['Jane', 'one word'],
    ['J0hn Smith', 'digit'],
    ['John Smith 2', 'digit'],
    ['John Smith!', 'symbol'],
    ['john@smith com', 'symbol'],
    ['asdf asdf', 'mash'],
    ['Qwerty Smith', 'mash'],
    ['John Asdfgh', 'mash'],
    ['Hjkl Smith', 'mash'],
    ['Lkjhg Smith', 'reverse row run'],
    ['Zxcvb Jones', 'bottom row run'],
    ['aaa bbb', 'repeated letters'],
    ['Jooohn Smith', 'triple letter'],
    ['Xx Smith', 'one repeated letter'],
    ['Test User', 'placeholder'],
    ['Fraud Person', 'placeholder'],
    ['John Dummy', 'placeholder'],
    ['Bcdfgh Jones', 'no vowels'],
    ['X Y', 'initials only'],
    ['-John Smith', 'leading hyphen'],
  ])('%s is implausible (%s)', (name) => {
    expect(nameImplausibility(name)).toBeTypeOf('string');
  });
});

// ---------------------------------------------------------------------------------------------

describe('evaluateFraudRules', () => {
  const clean = { delivery: contact(), recentOrdersToAddress: 0 };

  it('accepts a clean order', () => {
    expect(evaluateFraudRules(clean, [], rules)).toEqual({ decision: 'accept', reasons: [] });
  });

  it('refers an implausible name', () => {
    expect(evaluateFraudRules({ ...clean, delivery: contact({ name: 'asdf qwerty' }) }, [], rules)).toEqual({
      decision: 'refer',
      reasons: ['NAME_IMPLAUSIBLE'],
    });
  });

  it.each<[string, Partial<Address>]>([
    ['no address lines', { lines: [] }],
    ['only blank lines', { lines: ['  ', ''] }],
    ['no city', { city: ' ' }],
    ['no country', { country: '' }],
    ['a country that is not a two-letter code', { country: 'GBR' }],
  ])('rejects an incomplete address: %s', (_name, address) => {
    expect(evaluateFraudRules({ ...clean, delivery: contact({}, address) }, [], rules)).toEqual({ decision: 'reject', reasons: ['ADDRESS_INCOMPLETE'] });
  });

  it('reports a missing postcode as incomplete, not invalid', () => {
    expect(evaluateFraudRules({ ...clean, delivery: contact({}, { postcode: '  ' }) }, [], rules)).toEqual({
      decision: 'reject',
      reasons: ['ADDRESS_INCOMPLETE'],
    });
    expect(addressComplete({ ...billing, postcode: '' })).toBe(false);
    expect(addressComplete(billing)).toBe(true);
  });

  it('rejects a postcode that is malformed for the country', () => {
    expect(evaluateFraudRules({ ...clean, delivery: contact({}, { postcode: '12345' }) }, [], rules)).toEqual({
      decision: 'reject',
      reasons: ['POSTCODE_INVALID'],
    });
    expect(evaluateFraudRules({ ...clean, delivery: contact({}, { country: 'US', postcode: '12345' }) }, [], rules).decision).toBe('accept');
  });

  describe('blocklists', () => {
    const cases: [string, BlocklistEntry, string][] = [
      ['name, any case/accents/punctuation', { kind: 'name', value: '  JANE  smith. ' }, 'BLOCKLISTED_NAME'],
      ['address by key', { kind: 'address', value: normaliseAddressKey(billing) }, 'BLOCKLISTED_ADDRESS'],
      ['address key with case/spacing drift', { kind: 'address', value: 'gb|SW1A 2AA|LONDON|10  Downing Street' }, 'BLOCKLISTED_ADDRESS'],
      ['postcode, any spacing', { kind: 'postcode', value: 'sw1a2aa' }, 'BLOCKLISTED_POSTCODE'],
      ['email, any case', { kind: 'email', value: ' Jane.Smith@EXAMPLE.co.uk' }, 'BLOCKLISTED_EMAIL'],
      ['phone, national format', { kind: 'phone', value: '07700 900123' }, 'BLOCKLISTED_PHONE'],
    ];
    it.each(cases)('rejects a blocklisted %s', (_name, entry, reason) => {
      expect(evaluateFraudRules(clean, [entry], rules)).toEqual({ decision: 'reject', reasons: [reason] });
    });

    it('does not match entries for other values or other kinds', () => {
      const lists: BlocklistEntry[] = [
        { kind: 'name', value: 'John Smith' },
        { kind: 'address', value: normaliseAddressKey({ ...billing, lines: ['11 Downing Street'] }) },
        { kind: 'postcode', value: 'SW1A 2AB' },
        { kind: 'email', value: 'jane.smith@example.com' },
        { kind: 'phone', value: '07700 900124' },
        { kind: 'email', value: 'Jane Smith' }, // a name on the email list is not a name match
      ];
      expect(evaluateFraudRules(clean, lists, rules)).toEqual({ decision: 'accept', reasons: [] });
    });

    it('ignores email and phone lists when the contact has none', () => {
      const delivery: DeliveryContact = { name: 'Jane Smith', address: billing };
      const lists: BlocklistEntry[] = [
        { kind: 'email', value: '' },
        { kind: 'phone', value: '' },
      ];
      expect(evaluateFraudRules({ delivery, recentOrdersToAddress: 0 }, lists, rules).decision).toBe('accept');
    });
  });

  it('refers when the address velocity reaches the limit', () => {
    const limit = rules.velocityLimit;
    expect(evaluateFraudRules({ ...clean, recentOrdersToAddress: limit - 1 }, [], rules).decision).toBe('accept');
    expect(evaluateFraudRules({ ...clean, recentOrdersToAddress: limit }, [], rules)).toEqual({ decision: 'refer', reasons: ['VELOCITY_EXCEEDED'] });
    expect(evaluateFraudRules({ ...clean, recentOrdersToAddress: 1 }, [], { velocityLimit: 1, velocityWindowHours: 1 }).reasons).toEqual(['VELOCITY_EXCEEDED']);
  });

  it('rejects rather than refers when both kinds of reason are present, listing all in a fixed order', () => {
    const delivery = contact({ name: 'Test Test', email: 'bad@example.com' }, { postcode: 'ZZ' });
    const result = evaluateFraudRules({ delivery, recentOrdersToAddress: 10 }, [{ kind: 'email', value: 'BAD@example.com' }], rules);
    expect(result).toEqual({ decision: 'reject', reasons: ['POSTCODE_INVALID', 'BLOCKLISTED_EMAIL', 'NAME_IMPLAUSIBLE', 'VELOCITY_EXCEEDED'] });
  });

  it('decisionFor: reject beats refer beats accept; an unknown reason refers', () => {
    expect(decisionFor([])).toBe('accept');
    expect(decisionFor(['NAME_IMPLAUSIBLE'])).toBe('refer');
    expect(decisionFor(['SOMETHING_NEW'])).toBe('refer');
    expect(decisionFor(['NAME_IMPLAUSIBLE', 'BLOCKLISTED_PHONE'])).toBe('reject');
    for (const r of FRAUD_REJECT_REASONS) expect(decisionFor([r])).toBe('reject');
  });

  // ---- properties: decision ordering ----

  const arbDelivery = fc.record({
    name: fc.constantFrom('Jane Smith', 'asdf qwerty', 'Test User', 'José García', 'Jane'),
    email: fc.option(fc.constantFrom('jane@example.com', 'x@example.com'), { nil: undefined }),
    phone: fc.option(fc.constantFrom('07700 900123', '+1 415 555 0100'), { nil: undefined }),
    address: fc.record({
      lines: fc.constantFrom<string[]>(['10 Downing Street'], [], ['1 Main St', 'Flat 2']),
      city: fc.constantFrom('London', '', 'Dublin'),
      postcode: fc.constantFrom('SW1A 2AA', 'D02 X285', '12345', '', 'ZZ'),
      country: fc.constantFrom('GB', 'IE', 'US', 'FR', ''),
    }),
  });
  const arbEntry: fc.Arbitrary<BlocklistEntry> = fc.oneof(
    fc.record({ kind: fc.constant('name' as const), value: fc.constantFrom('jane smith', 'John Doe') }),
    fc.record({ kind: fc.constant('postcode' as const), value: fc.constantFrom('sw1a 2aa', 'D02X285') }),
    fc.record({ kind: fc.constant('email' as const), value: fc.constantFrom('JANE@example.com', 'y@example.com') }),
    fc.record({ kind: fc.constant('phone' as const), value: fc.constantFrom('+44 7700 900123', '555') }),
    fc.record({ kind: fc.constant('address' as const), value: fc.constantFrom(normaliseAddressKey(billing), 'IE|D02X285|dublin|1 main st flat 2') }),
  );
  const arbPolicy = fc.record({ velocityLimit: fc.integer({ min: 1, max: 5 }), velocityWindowHours: fc.constant(24) });

  it('property: decision is reject iff a reject reason, else refer iff any reason, else accept', () => {
    fc.assert(
      fc.property(arbDelivery, fc.nat(8), fc.array(arbEntry, { maxLength: 6 }), arbPolicy, (delivery, recent, lists, pol) => {
        const { decision, reasons } = evaluateFraudRules({ delivery, recentOrdersToAddress: recent }, lists, pol);
        const rejects = reasons.filter((r) => (FRAUD_REJECT_REASONS as readonly string[]).includes(r));
        if (rejects.length > 0) expect(decision).toBe('reject');
        else if (reasons.length > 0) expect(decision).toBe('refer');
        else expect(decision).toBe('accept');
        expect(new Set(reasons).size).toBe(reasons.length);
        expect(reasons.includes('VELOCITY_EXCEEDED')).toBe(recent >= pol.velocityLimit);
      }),
    );
  });

  it('property: more blocklist entries or more recent orders never soften the decision', () => {
    fc.assert(
      fc.property(
        arbDelivery,
        fc.nat(8),
        fc.nat(3),
        fc.array(arbEntry, { maxLength: 4 }),
        fc.array(arbEntry, { maxLength: 4 }),
        arbPolicy,
        (delivery, recent, more, lists, extra, pol) => {
          const base = evaluateFraudRules({ delivery, recentOrdersToAddress: recent }, lists, pol);
          const worse = evaluateFraudRules({ delivery, recentOrdersToAddress: recent + more }, [...lists, ...extra], pol);
          expect(RANK[worse.decision]).toBeGreaterThanOrEqual(RANK[base.decision]);
          expect(base.reasons.every((r) => worse.reasons.includes(r))).toBe(true);
        },
      ),
    );
  });

  it('property: the result does not depend on the order of the blocklist', () => {
    fc.assert(
      fc.property(arbDelivery, fc.array(arbEntry, { maxLength: 6 }), (delivery, lists) => {
        const input = { delivery, recentOrdersToAddress: 0 };
        expect(evaluateFraudRules(input, [...lists].reverse(), rules)).toEqual(evaluateFraudRules(input, lists, rules));
      }),
    );
  });
});

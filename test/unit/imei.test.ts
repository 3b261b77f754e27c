import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isValidImei, luhnCheckDigit } from '../../domain/imei';

describe('luhnCheckDigit', () => {
  it('computes the check digit of published examples', () => {
    expect(luhnCheckDigit('49015420323751')).toBe(8); // IMEI 490154203237518
    expect(luhnCheckDigit('35391110123456')).toBe(6);
    expect(luhnCheckDigit('7992739871')).toBe(3); // the classic Luhn example 79927398713
    expect(luhnCheckDigit('00000000000000')).toBe(0);
  });

  it('rejects non-digit payloads', () => {
    expect(() => luhnCheckDigit('')).toThrow(TypeError);
    expect(() => luhnCheckDigit('1234a')).toThrow(TypeError);
    expect(() => luhnCheckDigit(' 123')).toThrow(TypeError);
  });

  it('always returns a digit that makes the whole number Luhn-valid', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{14}$/), (payload) => {
        const d = luhnCheckDigit(payload);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(9);
        expect(isValidImei(payload + d)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('isValidImei', () => {
  it('accepts valid IMEIs', () => {
    expect(isValidImei('490154203237518')).toBe(true);
    expect(isValidImei('353911101234566')).toBe(true);
    expect(isValidImei('000000000000000')).toBe(true);
  });

  it('rejects a wrong check digit', () => {
    expect(isValidImei('490154203237519')).toBe(false);
    expect(isValidImei('353911101234567')).toBe(false);
  });

  it('rejects the wrong length or non-digits', () => {
    expect(isValidImei('')).toBe(false);
    expect(isValidImei('49015420323751')).toBe(false); // 14 digits
    expect(isValidImei('4901542032375180')).toBe(false); // 16 digits
    expect(isValidImei('49015420323751X')).toBe(false);
    expect(isValidImei(' 490154203237518')).toBe(false);
    expect(isValidImei('490154203237518 ')).toBe(false);
    expect(isValidImei('49015420-3237518')).toBe(false);
    expect(isValidImei('４９0154203237518')).toBe(false); // full-width digits
    expect(isValidImei(490154203237518 as unknown as string)).toBe(false);
  });

  it('detects every single-digit substitution', () => {
    const valid = '490154203237518';
    for (let i = 0; i < 15; i++) {
      for (let d = 0; d <= 9; d++) {
        const mutated = valid.slice(0, i) + d + valid.slice(i + 1);
        expect(isValidImei(mutated)).toBe(mutated === valid);
      }
    }
  });

  it('detects adjacent transpositions (except 0<->9, which Luhn cannot)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{14}$/), fc.integer({ min: 0, max: 13 }), (payload, i) => {
        const imei = payload + luhnCheckDigit(payload);
        const a = imei[i];
        const b = imei[i + 1];
        const swapped = imei.slice(0, i) + b + a + imei.slice(i + 2);
        const undetectable = a === b || (a === '0' && b === '9') || (a === '9' && b === '0');
        expect(isValidImei(swapped)).toBe(undetectable);
      }),
      { numRuns: 300 },
    );
  });
});

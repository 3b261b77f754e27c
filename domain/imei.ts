// IMEI validation (3GPP TS 23.003): 15 decimal digits, the last being a Luhn check digit
// computed over the first 14 (TAC + serial). Pure: safe to import from workflow code.

const DIGITS = /^[0-9]+$/;

/**
 * The Luhn check digit for a string of decimal digits (for an IMEI: its first 14 digits).
 * Starting from the rightmost payload digit, every other digit is doubled (9 subtracted when
 * the result exceeds 9); the check digit brings the sum to a multiple of 10.
 * Throws a TypeError when `payload` is empty or not all decimal digits.
 */
export function luhnCheckDigit(payload: string): number {
  if (!DIGITS.test(payload)) {
    throw new TypeError('luhnCheckDigit: payload must be a non-empty string of decimal digits');
  }
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    // Position counted from the right of the payload: 0 is the digit next to the check digit.
    const fromRight = payload.length - 1 - i;
    let d = payload.charCodeAt(i) - 48;
    if (fromRight % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when `s` is exactly 15 decimal digits whose last digit is the Luhn check digit of the first 14. */
export function isValidImei(s: string): boolean {
  if (typeof s !== 'string' || s.length !== 15) return false;
  // One pass, no slice or regex (it runs for every unit of a warehouse file): the Luhn sum over
  // all 15 digits, check digit included, is a multiple of 10 exactly when the check digit is right.
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    // The payload digits doubled by luhnCheckDigit (even distance from its right end) sit at odd i.
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

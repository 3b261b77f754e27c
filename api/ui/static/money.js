// formatMoney for the browser, with the same rules as domain/money.ts (integer minor units, two
// decimals, £/€/$ in front, other codes after, comma thousands, no Intl). The browser tests check
// it against the domain function, so the two cannot drift apart unnoticed.
const SYMBOLS = { GBP: '£', EUR: '€', USD: '$' };

export function formatMoney(minor, currency) {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`amount must be a safe integer number of minor units, got ${String(minor)}`);
  const code = String(currency).trim().toUpperCase();
  const abs = Math.abs(minor);
  const grouped = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const number = `${grouped}.${String(abs % 100).padStart(2, '0')}`;
  const body = SYMBOLS[code] !== undefined ? `${SYMBOLS[code]}${number}` : `${number} ${code}`;
  return minor < 0 ? `-${body}` : body;
}

// Stable, machine-readable error codes shared by the workflow (update validators), activities and
// the API. The API maps each code to its HTTP status in one place (api/errors.ts).
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  ACCOUNT_NOT_FOUND: 404,
  LINE_NOT_FOUND: 404,
  PRODUCT_NOT_FOUND: 404,
  PRODUCT_INACTIVE: 422,
  INVALID_TRANSITION: 409,
  /** Resubmit: every unit of the order shipped or is still with a warehouse. */
  NOTHING_TO_RESUBMIT: 409,
  /** Resubmit of an order the fraud check rejected: only with a corrected delivery address. */
  DELIVERY_CHANGE_REQUIRED: 409,
  ORDER_HAS_NO_LINES: 422,
  DELIVERY_ADDRESS_INVALID: 422,
  CURRENCY_MISMATCH: 422,
  ENROLMENT_NOT_SUPPORTED: 422,
  ORDER_EDIT_LIMIT: 422,
  /** An order holds at most MAX_NOTES_PER_ORDER notes (domain/order-history.ts). */
  ORDER_NOTE_LIMIT: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  // Resolving an adaptor exception (POST /adaptor/exceptions/{id}/resolve).
  EXCEPTION_NOT_FOUND: 404,
  EXCEPTION_RESOLVED_OTHERWISE: 409,
  SUB_ORDER_UNKNOWN: 409,
  ORDER_NOT_AWAITING_DISPATCH: 409,
  NO_SUB_ORDER_AT_WAREHOUSE: 409,
  ROW_DOES_NOT_FIT: 409,
  // Returns (POST /orders/{id}/returns, /returns/{rmaId}/receive).
  RETURN_NOT_FOUND: 404,
  /** A named unit is not a charged unit of the order (or cannot be named: no IMEI, serial or licence key). */
  UNIT_NOT_RETURNABLE: 422,
  /** A named unit is already returned, or held by an open return. */
  UNIT_ALREADY_RETURNED: 409,
  /** The reason's window (RETURN_WINDOW_UNWANTED, RETURN_WINDOW_FAULTY) has closed for a unit. */
  RETURN_WINDOW_CLOSED: 422,
  /** An exchange only for faulty or wrongItem returns. */
  EXCHANGE_NOT_ALLOWED: 422,
  /** Receipt of a return that is not waiting for its units (received, credited or expired). */
  RETURN_NOT_AWAITING_RECEIPT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STOCK_CHECK_UNAVAILABLE: 503,
  DEPENDENCY_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, x);
}

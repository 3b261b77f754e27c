// Every refusal leaves the API as { error: { code, message, details? } } with the status that the
// code maps to (domain/errors.ts). Temporal failures are translated here, in one place.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, ERROR_CODES, isErrorCode, type ErrorCode } from '../domain/errors';
import { isDatabaseUnavailable, isInvalidInput } from '../infra/db';
import { errorFields, log } from '../infra/log';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const apiError = (code: ErrorCode, message: string, details?: unknown) =>
  new ApiError(ERROR_CODES[code] as ContentfulStatusCode, code, message, details);

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  // hono/timeout's answer when a request outlives REQUEST_TIMEOUT_MS (api/app.ts).
  503: 'DEPENDENCY_UNAVAILABLE',
};

const isWorkflowServiceUnavailable = (err: unknown) => isGrpcServiceError(err) || (err as Error)?.name === 'ServiceError';

/** Temporal or the database cannot be reached now: not the request's (or the file's) fault. */
export const isDependencyUnavailable = (err: unknown) => isWorkflowServiceUnavailable(err) || isDatabaseUnavailable(err);

/** Turns anything thrown by a handler into the error shape; unknown errors are logged, never leaked. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DomainError) return apiError(err.code, err.message, err.details);
  // hono's own refusals (malformed JSON, a media type the route does not take) are the client's
  // fault; its timeout is a dependency's.
  if (err instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[err.status];
    if (code) return apiError(code, err.message || code);
    if (err.status < 500) return new ApiError(err.status, `HTTP_${err.status}`, err.message);
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const type = err.cause.type ?? '';
    if (isErrorCode(type)) return apiError(type, err.cause.message, err.cause.details?.[0]);
    return new ApiError(409, type || 'UPDATE_REFUSED', err.cause.message);
  }
  if (err instanceof WorkflowNotFoundError) return apiError('ORDER_NOT_FOUND', 'no such order');
  if (isWorkflowServiceUnavailable(err)) return apiError('DEPENDENCY_UNAVAILABLE', 'the workflow service is unavailable; try again');
  if (isDatabaseUnavailable(err)) return apiError('DEPENDENCY_UNAVAILABLE', 'the database is unavailable; try again');
  if (isInvalidInput(err)) return apiError('VALIDATION_FAILED', 'the request has a value the database cannot take');
  return apiError('INTERNAL', 'internal error');
}

export function sendError(c: Context, err: unknown) {
  const e = toApiError(err);
  if (e.status >= 500 && e.code === 'INTERNAL')
    log.error({ component: 'api', requestId: c.get('requestId'), method: c.req.method, ...errorFields(err) }, 'unhandled error');
  return c.json(errorBody(e.code, e.message, e.details), e.status);
}

// The manufacturers' reseller interfaces for zero-touch enrolment, behind one ManufacturerGateway:
// - Apple device enrolment (reseller API): bulk enrol with our transaction id, orders (enrol 'OR',
//   return 'RE'), deliveries and devices; a status check says in progress / complete / complete
//   with errors, per device.
// - Android zero-touch (reseller API): claimAsync / unclaimAsync return a long-running operation;
//   it reports pending / in progress / processed, then a status per device in request order.
// - Samsung Knox Deployment: upload / delete with our transaction id; the transaction's status
//   lists a result per device.
// Each adapter has its own batch limit (configuration) and maps its own error codes to ours.
// Every exchange is handed to an audit sink before the answer is interpreted.
import type { DeviceErrorCode, DeviceOutcome, EnrolmentAction, EnrolmentDevice } from '../domain/enrolment';
import type { Manufacturer } from '../domain/types';
import type { Config } from './config';
import {
  CredentialsRefusedError,
  TransientGatewayError,
  describeTlsRefusal,
  httpRequest,
  loadManufacturerCredentials,
  PROGRAMME_NAMES,
  type HttpAnswer,
  type ProgrammeCredentials,
} from './manufacturer-auth';

export { CredentialsRefusedError, TransientGatewayError };

export interface GatewayDevice extends EnrolmentDevice {
  /** Apple order number (our order id to enrol, a return number to unenrol). */
  orderNumber: string;
}

export interface GatewayTransaction {
  transactionId: string;
  action: EnrolmentAction;
  customerId: string;
  /** When the transaction was first recorded (YYYY-MM-DD is used as the order date). */
  createdAt: string;
  devices: GatewayDevice[];
  /** The manufacturer's own id, once it accepted the transaction. */
  reference?: string;
}

export type SubmitResult =
  | { accepted: true; reference: string }
  /** A refusal of the whole transaction that retrying cannot fix. */
  | { accepted: false; code: DeviceErrorCode; manufacturerCode: string; message: string };

export type StatusResult = { state: 'processing'; detail: string } | { state: 'complete'; devices: DeviceOutcome[] };

export interface ManufacturerGateway {
  readonly manufacturer: Manufacturer;
  /** Most devices one transaction may carry. */
  readonly batchLimit: number;
  /** Sends a transaction. Sending the same transaction id again is safe: it is the same transaction. */
  submit(tx: GatewayTransaction): Promise<SubmitResult>;
  status(tx: GatewayTransaction & { reference: string }): Promise<StatusResult>;
}

export interface AuditEntry {
  manufacturer: Manufacturer;
  transactionId: string;
  operation: string;
  method: string;
  url: string;
  request?: unknown;
  httpStatus?: number;
  response?: unknown;
  error?: string;
  at: string;
}
export type AuditSink = (entry: AuditEntry) => Promise<void>;

interface Exchange {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- foreign JSON, read field by field
}

class Http {
  constructor(
    private readonly manufacturer: Manufacturer,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly audit: AuditSink,
    private readonly credentials: ProgrammeCredentials = {},
  ) {}

  private refused(reason: string, message: string): CredentialsRefusedError {
    return new CredentialsRefusedError(this.manufacturer, reason, `${PROGRAMME_NAMES[this.manufacturer]} refused our credentials: ${message}`);
  }

  async call(
    transactionId: string,
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Exchange> {
    const url = `${this.baseUrl}${path}`;
    const entry: AuditEntry = {
      manufacturer: this.manufacturer,
      transactionId,
      operation,
      method,
      url,
      ...(body === undefined ? {} : { request: body }),
      at: new Date().toISOString(),
    };
    const { tokens, agent } = this.credentials;
    const send = async (): Promise<{ answer: HttpAnswer; token?: string }> => {
      // A token endpoint's refusal or outage is thrown from here, before anything reaches the API.
      const token = tokens ? await tokens.get() : undefined;
      try {
        const answer = await httpRequest({
          method,
          url,
          headers: {
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...headers,
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          timeoutMs: this.timeoutMs,
          ...(agent ? { agent } : {}),
        });
        return { answer, ...(token ? { token } : {}) };
      } catch (err) {
        await this.audit({ ...entry, error: String(err) });
        const tls = describeTlsRefusal(err);
        if (tls) throw this.refused(tls.reason, `${operation}: ${tls.message}`);
        throw new TransientGatewayError(`${this.manufacturer} ${operation}: ${String(err)}`);
      }
    };
    let { answer, token } = await send();
    if (answer.status === 401 && tokens && token) {
      // An expired or revoked token: one fresh token, one retry.
      await this.audit({ ...entry, httpStatus: 401, response: parse(answer.text) });
      tokens.invalidate(token);
      entry.at = new Date().toISOString();
      ({ answer, token } = await send());
      if (answer.status === 401) {
        await this.audit({ ...entry, httpStatus: 401, response: parse(answer.text) });
        throw this.refused('TOKEN_REFUSED', `${operation}: HTTP 401 with a token just issued`);
      }
    }
    const parsed = parse(answer.text);
    await this.audit({ ...entry, httpStatus: answer.status, response: parsed });
    // Apple has no token to refresh: a 401 or 403 is its verdict on our certificate.
    if (!tokens && this.manufacturer === 'apple' && (answer.status === 401 || answer.status === 403)) {
      const b = parsed as { errorCode?: unknown; errorMessage?: unknown } | null;
      throw this.refused(String(b?.errorCode ?? `HTTP_${answer.status}`), `${operation}: HTTP ${answer.status} ${String(b?.errorMessage ?? '')}`.trim());
    }
    if (answer.status === 401) throw this.refused(`HTTP_401`, `${operation}: HTTP 401 (no credentials configured?)`);
    if (answer.status >= 500 || answer.status === 429 || answer.status === 408) {
      throw new TransientGatewayError(`${this.manufacturer} ${operation}: HTTP ${answer.status}`);
    }
    return { status: answer.status, body: parsed };
  }
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text; // not JSON: kept as text
  }
}

const day = (iso: string) => iso.slice(0, 10);

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) out.set(key(t), [...(out.get(key(t)) ?? []), t]);
  return out;
}

function unexpected(manufacturer: Manufacturer, operation: string, ex: Exchange): never {
  // A 4xx we do not know is a bug on one side or the other: fail loudly, keep retrying (audited).
  throw new Error(`${manufacturer} ${operation}: unexpected answer HTTP ${ex.status} ${JSON.stringify(ex.body).slice(0, 300)}`);
}

// ---- Apple device enrolment (reseller API) ----

/** Apple's error codes (per transaction and per device), in our words. */
export const APPLE_ERRORS: Record<string, { code: DeviceErrorCode; elsewhere?: boolean }> = {
  'DEP-ERR-3001': { code: 'INVALID_CUSTOMER_ID' },
  'DEP-ERR-3003': { code: 'TRANSACTION_REJECTED' }, // too many devices in one transaction
  'DEP-ERR-4010': { code: 'INVALID_DEVICE_ID' },
  'DEP-ERR-4011': { code: 'ASSIGNED_TO_ANOTHER_CUSTOMER', elsewhere: true },
  'DEP-ERR-4012': { code: 'PERMISSION_DENIED' }, // sold by another reseller
  'DEP-ERR-4020': { code: 'NOT_ENROLLED' },
};

export class AppleDeviceEnrolmentGateway implements ManufacturerGateway {
  readonly manufacturer = 'apple' as const;
  constructor(
    private readonly http: Http,
    private readonly resellerId: string,
    readonly batchLimit: number,
  ) {}

  /** Apple identifies devices by serial number; IMEI where no serial was captured. */
  private static appleId(d: EnrolmentDevice): string {
    return d.serialNumber ?? d.imei ?? d.deviceId;
  }

  private context() {
    return { shipTo: this.resellerId, timeZone: '0', langCode: 'en' };
  }

  async submit(tx: GatewayTransaction): Promise<SubmitResult> {
    const orders = [...groupBy(tx.devices, (d) => d.orderNumber)].map(([orderNumber, devices]) => ({
      orderNumber,
      orderDate: `${day(tx.createdAt)}T00:00:00Z`,
      orderType: tx.action === 'enrol' ? 'OR' : 'RE',
      customerId: tx.customerId,
      poNumber: orderNumber,
      deliveries: [...groupBy(devices, (d) => d.deliveryNumber)].map(([deliveryNumber, ds]) => ({
        deliveryNumber,
        shipDate: `${ds[0].shipDate ?? day(tx.createdAt)}T00:00:00Z`,
        devices: ds.map((d) => ({ deviceId: AppleDeviceEnrolmentGateway.appleId(d), assetTag: d.imei ?? '' })),
      })),
    }));
    const ex = await this.http.call(tx.transactionId, 'bulk-enroll-devices', 'POST', '/enroll-service/1.0/bulk-enroll-devices', {
      requestContext: this.context(),
      transactionId: tx.transactionId,
      depResellerId: this.resellerId,
      orders,
    });
    const b = ex.body ?? {};
    if (ex.status === 200 && b.enrollDevicesResponse?.statusCode === 'SUCCESS' && b.deviceEnrollmentTransactionId) {
      return { accepted: true, reference: String(b.deviceEnrollmentTransactionId) };
    }
    const known = APPLE_ERRORS[b.errorCode];
    if (known) return { accepted: false, code: known.code, manufacturerCode: b.errorCode, message: String(b.errorMessage ?? b.errorCode) };
    return unexpected('apple', 'bulk-enroll-devices', ex);
  }

  async status(tx: GatewayTransaction & { reference: string }): Promise<StatusResult> {
    const ex = await this.http.call(tx.transactionId, 'check-transaction-status', 'POST', '/enroll-service/1.0/check-transaction-status', {
      requestContext: this.context(),
      depResellerId: this.resellerId,
      deviceEnrollmentTransactionId: tx.reference,
    });
    const b = ex.body ?? {};
    if (ex.status !== 200) return unexpected('apple', 'check-transaction-status', ex);
    if (b.transactionStatus === 'IN_PROGRESS') return { state: 'processing', detail: 'IN_PROGRESS' };
    if (b.transactionStatus !== 'COMPLETE' && b.transactionStatus !== 'COMPLETE_WITH_ERRORS') return unexpected('apple', 'check-transaction-status', ex);
    const byAppleId = new Map(tx.devices.map((d) => [AppleDeviceEnrolmentGateway.appleId(d), d.deviceId]));
    const devices: DeviceOutcome[] = [];
    for (const order of b.orders ?? []) {
      for (const delivery of order.deliveries ?? []) {
        for (const dev of delivery.devices ?? []) {
          const deviceId = byAppleId.get(String(dev.deviceId));
          if (!deviceId) continue;
          if (dev.devicePostStatus === 'COMPLETE') {
            devices.push({ deviceId, outcome: 'succeeded' });
            continue;
          }
          const known = APPLE_ERRORS[dev.errorCode];
          devices.push({
            deviceId,
            outcome: known?.elsewhere ? 'enrolledElsewhere' : 'failed',
            code: known?.code ?? 'UNKNOWN',
            manufacturerCode: String(dev.errorCode ?? ''),
            message: String(dev.devicePostStatusMessage ?? 'device not enrolled'),
          });
        }
      }
    }
    return { state: 'complete', devices };
  }
}

// ---- Android zero-touch (reseller API) ----

export const GOOGLE_DEVICE_STATUSES: Record<string, { outcome: DeviceOutcome['outcome']; code?: DeviceErrorCode }> = {
  SINGLE_DEVICE_STATUS_SUCCESS: { outcome: 'succeeded' },
  SINGLE_DEVICE_STATUS_INVALID_DEVICE_IDENTIFIER: { outcome: 'failed', code: 'INVALID_DEVICE_ID' },
  SINGLE_DEVICE_STATUS_SECTION_NOT_YOURS: { outcome: 'enrolledElsewhere', code: 'ASSIGNED_TO_ANOTHER_CUSTOMER' },
  SINGLE_DEVICE_STATUS_PERMISSION_DENIED: { outcome: 'failed', code: 'PERMISSION_DENIED' },
  SINGLE_DEVICE_STATUS_INVALID_SECTION_TYPE: { outcome: 'failed', code: 'UNKNOWN' },
  SINGLE_DEVICE_STATUS_OTHER_ERROR: { outcome: 'failed', code: 'UNKNOWN' },
  SINGLE_DEVICE_STATUS_UNKNOWN_ERROR: { outcome: 'failed', code: 'UNKNOWN' },
};

/**
 * A zero-touch operation's name (`operations/<id>`, as Google returns it) as a path of ours: the
 * upstream's value picks an operation, never a path (`../`, `?`, `#`) elsewhere on the API.
 */
export function googleOperationPath(name: string): string {
  const m = /^operations\/([A-Za-z0-9._~-]{1,200})$/.exec(name);
  if (!m) throw new Error(`google: not an operation name: ${JSON.stringify(name.slice(0, 100))}`);
  return `/v1/operations/${encodeURIComponent(m[1])}`;
}

export class GoogleZeroTouchGateway implements ManufacturerGateway {
  readonly manufacturer = 'google' as const;
  constructor(
    private readonly http: Http,
    private readonly partnerId: string,
    readonly batchLimit: number,
  ) {}

  private static identifier(d: EnrolmentDevice) {
    return d.imei ? { imei: d.imei } : { serialNumber: d.serialNumber ?? d.deviceId, manufacturer: 'Google' };
  }

  async submit(tx: GatewayTransaction): Promise<SubmitResult> {
    const claim = tx.action === 'enrol';
    const body = claim
      ? {
          claims: tx.devices.map((d) => ({
            customerId: tx.customerId,
            deviceIdentifier: GoogleZeroTouchGateway.identifier(d),
            sectionType: 'SECTION_TYPE_ZERO_TOUCH',
          })),
        }
      : { unclaims: tx.devices.map((d) => ({ deviceIdentifier: GoogleZeroTouchGateway.identifier(d), sectionType: 'SECTION_TYPE_ZERO_TOUCH' })) };
    const op = claim ? 'claimAsync' : 'unclaimAsync';
    // The request id makes a resent transaction the same operation.
    const ex = await this.http.call(tx.transactionId, op, 'POST', `/v1/partners/${encodeURIComponent(this.partnerId)}/devices:${op}`, body, {
      'x-request-id': tx.transactionId,
    });
    const b = ex.body ?? {};
    if (ex.status === 200 && typeof b.name === 'string') {
      googleOperationPath(b.name); // refused now rather than followed later
      return { accepted: true, reference: b.name };
    }
    if (ex.status === 400 || ex.status === 403 || ex.status === 404) {
      const reason = String(b.error?.details?.[0]?.reason ?? b.error?.status ?? 'INVALID_ARGUMENT');
      const code: DeviceErrorCode = reason === 'INVALID_CUSTOMER' ? 'INVALID_CUSTOMER_ID' : ex.status === 403 ? 'PERMISSION_DENIED' : 'TRANSACTION_REJECTED';
      return { accepted: false, code, manufacturerCode: reason, message: String(b.error?.message ?? reason) };
    }
    return unexpected('google', op, ex);
  }

  async status(tx: GatewayTransaction & { reference: string }): Promise<StatusResult> {
    const ex = await this.http.call(tx.transactionId, 'operations.get', 'GET', googleOperationPath(tx.reference));
    const b = ex.body ?? {};
    if (ex.status !== 200) return unexpected('google', 'operations.get', ex);
    if (!b.done) return { state: 'processing', detail: String(b.metadata?.processingStatus ?? 'BATCH_PROCESS_PENDING') };
    if (b.error) {
      // The whole operation failed: every device carries that failure.
      return {
        state: 'complete',
        devices: tx.devices.map((d) => ({
          deviceId: d.deviceId,
          outcome: 'failed',
          code: 'TRANSACTION_REJECTED',
          manufacturerCode: String(b.error.status ?? b.error.code),
          message: String(b.error.message ?? 'operation failed'),
        })),
      };
    }
    // Results come in request order.
    const per: { result?: { status?: string; errorMessage?: string } }[] = b.response?.perDeviceStatus ?? [];
    const devices = tx.devices.flatMap((d, i): DeviceOutcome[] => {
      const r = per[i]?.result;
      if (!r?.status) return [];
      const known = GOOGLE_DEVICE_STATUSES[r.status] ?? { outcome: 'failed' as const, code: 'UNKNOWN' as const };
      if (known.outcome === 'succeeded') return [{ deviceId: d.deviceId, outcome: 'succeeded' }];
      // Unclaiming a device that is not claimed is reported as another error.
      const code =
        tx.action === 'unenrol' && r.status === 'SINGLE_DEVICE_STATUS_OTHER_ERROR' && /not claimed/i.test(r.errorMessage ?? '') ? 'NOT_ENROLLED' : known.code;
      return [{ deviceId: d.deviceId, outcome: known.outcome, ...(code ? { code } : {}), manufacturerCode: r.status, message: r.errorMessage ?? r.status }];
    });
    return { state: 'complete', devices };
  }
}

// ---- Samsung Knox Deployment (reseller API) ----

export const KNOX_ERRORS: Record<string, { code: DeviceErrorCode; elsewhere?: boolean }> = {
  KDP_INVALID_CUSTOMER: { code: 'INVALID_CUSTOMER_ID' },
  KDP_TOO_MANY_DEVICES: { code: 'TRANSACTION_REJECTED' },
  KDP_INVALID_DEVICE: { code: 'INVALID_DEVICE_ID' },
  KDP_DEVICE_OWNED_BY_OTHER: { code: 'ASSIGNED_TO_ANOTHER_CUSTOMER', elsewhere: true },
  KDP_DEVICE_NOT_FOUND: { code: 'NOT_ENROLLED' },
};

export class SamsungKnoxGateway implements ManufacturerGateway {
  readonly manufacturer = 'samsung' as const;
  constructor(
    private readonly http: Http,
    private readonly resellerId: string,
    readonly batchLimit: number,
  ) {}

  async submit(tx: GatewayTransaction): Promise<SubmitResult> {
    const op = tx.action === 'enrol' ? 'upload' : 'delete';
    const ex = await this.http.call(tx.transactionId, op, 'POST', `/kdp/v1/devices/${op}`, {
      transactionId: tx.transactionId,
      resellerId: this.resellerId,
      customerId: tx.customerId,
      type: op.toUpperCase(),
      devices: tx.devices.map((d) => ({ deviceUid: d.imei ?? d.serialNumber ?? d.deviceId, orderNumber: d.orderNumber, orderDate: day(tx.createdAt) })),
    });
    const b = ex.body ?? {};
    if ((ex.status === 200 || ex.status === 202) && b.status === 'ACCEPTED') return { accepted: true, reference: String(b.transactionId ?? tx.transactionId) };
    // Knox refuses a transaction id it has seen: it already has this transaction.
    if (ex.status === 409 && b.code === 'KDP_DUPLICATE_TRANSACTION') return { accepted: true, reference: tx.transactionId };
    const known = KNOX_ERRORS[b.code];
    if (known) return { accepted: false, code: known.code, manufacturerCode: b.code, message: String(b.message ?? b.code) };
    return unexpected('samsung', op, ex);
  }

  async status(tx: GatewayTransaction & { reference: string }): Promise<StatusResult> {
    const ex = await this.http.call(
      tx.transactionId,
      'transaction-status',
      'GET',
      `/kdp/v1/transactions/${encodeURIComponent(tx.reference)}?resellerId=${encodeURIComponent(this.resellerId)}`,
    );
    const b = ex.body ?? {};
    if (ex.status !== 200) return unexpected('samsung', 'transaction-status', ex);
    if (b.status === 'IN_PROGRESS' || b.status === 'PENDING_APPROVAL') return { state: 'processing', detail: String(b.status) };
    const byUid = new Map(tx.devices.map((d) => [d.imei ?? d.serialNumber ?? d.deviceId, d.deviceId]));
    const devices: DeviceOutcome[] = [];
    for (const dev of b.devices ?? []) {
      const deviceId = byUid.get(String(dev.deviceUid));
      if (!deviceId) continue;
      if (dev.result === 'SUCCESS') {
        devices.push({ deviceId, outcome: 'succeeded' });
        continue;
      }
      const known = KNOX_ERRORS[dev.errorCode];
      devices.push({
        deviceId,
        outcome: known?.elsewhere ? 'enrolledElsewhere' : 'failed',
        code: known?.code ?? 'UNKNOWN',
        manufacturerCode: String(dev.errorCode ?? ''),
        message: String(dev.errorMessage ?? dev.errorCode ?? 'failed'),
      });
    }
    return { state: 'complete', devices };
  }
}

export type ManufacturerGateways = Record<Manufacturer, ManufacturerGateway>;

/** The three programmes over HTTP(S), each with its own URL and credentials (the manufacturer simulator locally). */
export function createManufacturerGateways(config: Config, audit: AuditSink): ManufacturerGateways {
  const e = config.enrolment;
  const credentials = loadManufacturerCredentials(config);
  const http = (m: Manufacturer) => new Http(m, e.programmes[m].baseUrl, e.timeoutMs, audit, credentials[m]);
  return {
    apple: new AppleDeviceEnrolmentGateway(http('apple'), e.resellerIds.apple, e.batchLimits.apple),
    google: new GoogleZeroTouchGateway(http('google'), e.resellerIds.google, e.batchLimits.google),
    samsung: new SamsungKnoxGateway(http('samsung'), e.resellerIds.samsung, e.batchLimits.samsung),
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the simulator reads partner requests as loosely shaped JSON, as a partner would */
// A manufacturer simulator standing in for the three reseller interfaces the gateways speak
// (infra/manufacturer-gateways.ts): Apple device enrolment, Android zero-touch and Samsung Knox
// Deployment, over HTTP on localhost. Transactions are processed asynchronously (a status check
// answers "still processing" a configurable number of times first); per-device errors (invalid
// id, assigned to another customer) come from seeded rates or from explicit test settings, so a
// run repeats exactly. It remembers which customer holds each device, so unenrolment of a device
// that is not enrolled is refused as the real programmes would.
// With `auth` set for a programme it also enforces that programme's authentication: Apple only over
// mutual TLS (its own HTTPS listener, client certificates checked against a CA), Android zero-touch
// and Knox only with a bearer token it issued (Google's JWT-bearer grant, the JWT's signature checked
// against the service account's registered public key; Knox's client credentials), which expires.
// Tests revoke credentials and expire tokens through methods here, never over HTTP.
import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { createHash, createPublicKey, randomBytes, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Manufacturer } from '../domain/types';

export type DeviceFault = 'invalidId' | 'otherCustomer';

export interface ManufacturerSimulatorOptions {
  seed: number;
  invalidIdRate: number;
  otherCustomerRate: number;
  /** Status checks answered "still processing" before a transaction completes. */
  processingPolls: number;
  /** Most devices the simulator accepts in one transaction, per programme. */
  limits?: Partial<Record<Manufacturer, number>>;
  /** Authentication to enforce, per programme; a programme left out accepts anyone (as before). */
  auth?: SimulatorAuth;
}

export interface SimulatorAuth {
  /** Apple over HTTPS (`listenApple`): this server certificate, client certificates signed by `clientCa`. */
  apple?: { serverCert: string | Buffer; serverKey: string | Buffer; clientCa: string | Buffer };
  /** Service accounts by client_email, with the public key of their registered key (PEM). */
  google?: { serviceAccounts: Record<string, string>; scope?: string };
  /** Knox OAuth clients: secret by client id. */
  samsung?: { clients: Record<string, string> };
  /** Lifetime of an issued access token (default one hour). */
  tokenTtlSeconds?: number;
}

interface IssuedToken {
  programme: 'google' | 'samsung';
  /** The service account or client it was issued to. */
  subject: string;
  expiresAt: number;
}

interface SimResult {
  id: string;
  ok: boolean;
  fault?: DeviceFault | 'notEnrolled';
}

export interface SimTransaction {
  programme: Manufacturer;
  /** Our transaction id (Google: the request id). */
  transactionId: string;
  /** The manufacturer's id for it. */
  reference: string;
  action: 'enrol' | 'unenrol';
  customerId: string;
  /** Device ids in request order, as sent. */
  deviceIds: string[];
  /** Apple only: which order and delivery each device came in, and its IMEI (asset tag). */
  appleLayout?: { orderNumber: string; deliveryNumber: string; deviceId: string; assetTag: string }[];
  pollsBeforeComplete: number;
  polls: number;
  results?: SimResult[];
}

/** Deterministic 0..1 from the seed and a label. */
function chance(seed: number, label: string): number {
  return createHash('sha256').update(`${seed}:${label}`).digest().readUInt32BE(0) / 0x1_0000_0000;
}

const OTHER_CUSTOMER = 'SOMEONE-ELSE';

export class ManufacturerSimulator {
  /** Every transaction accepted, by `<programme>:<transactionId>`. */
  readonly transactions = new Map<string, SimTransaction>();
  /** Every submission received, in order, including resent ones. */
  readonly submissions: { programme: Manufacturer; transactionId: string; devices: number; duplicate: boolean }[] = [];
  /** Who holds each device, by `<programme>:<deviceId>`. */
  private readonly holders = new Map<string, string>();
  private readonly faults = new Map<string, DeviceFault>();
  private readonly failAfterAccept = new Map<Manufacturer, number>();
  private processingPolls: number;
  private seq = 0;
  private server?: ServerType;
  private appleServer?: ServerType;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly revoked = new Set<string>();
  private readonly publicKeys = new Map<string, KeyObject>();
  /** Tokens issued, in order (never the tokens themselves). */
  readonly tokensIssued: { programme: 'google' | 'samsung'; subject: string }[] = [];
  /** Every authentication the simulator refused, in order: who, and why. */
  readonly refusals: { programme: Manufacturer; reason: string }[] = [];

  constructor(private readonly o: ManufacturerSimulatorOptions) {
    this.processingPolls = o.processingPolls;
    for (const [email, pem] of Object.entries(o.auth?.google?.serviceAccounts ?? {})) this.publicKeys.set(email, createPublicKey(pem));
  }

  /**
   * Revokes credentials (tests): an Apple client certificate by subject CN, a Google service
   * account by client_email, a Knox client by id. Their tokens stop working too.
   */
  revokeCredentials(programme: Manufacturer, id: string): void {
    this.revoked.add(`${programme}:${id}`);
    for (const [token, t] of this.tokens) if (t.programme === programme && t.subject === id) this.tokens.delete(token);
  }

  /** Undoes `revokeCredentials` (tests). */
  reinstateCredentials(programme: Manufacturer, id: string): void {
    this.revoked.delete(`${programme}:${id}`);
  }

  /** Makes every token issued so far for the programme expired (tests). */
  expireTokens(programme: 'google' | 'samsung'): number {
    let n = 0;
    for (const t of this.tokens.values()) {
      if (t.programme !== programme || t.expiresAt === 0) continue;
      t.expiresAt = 0;
      n++;
    }
    return n;
  }

  /** Makes a device fail in every programme (tests); null clears it. */
  setDeviceFault(deviceId: string, fault: DeviceFault | null): void {
    if (fault) this.faults.set(deviceId, fault);
    else this.faults.delete(deviceId);
  }

  /** Status checks answered "still processing" for transactions accepted from now on. */
  setProcessingPolls(n: number): void {
    this.processingPolls = n;
  }

  /** The next `times` submissions to this programme are accepted, then answered 503 as if the answer were lost. */
  loseAnswerAfterAccepting(programme: Manufacturer, times = 1): void {
    this.failAfterAccept.set(programme, times);
  }

  holder(programme: Manufacturer, deviceId: string): string | undefined {
    return this.holders.get(`${programme}:${deviceId}`);
  }

  transactionsFor(programme: Manufacturer): SimTransaction[] {
    return [...this.transactions.values()].filter((t) => t.programme === programme);
  }

  private fault(programme: Manufacturer, id: string, alias?: string): DeviceFault | undefined {
    const set = this.faults.get(id) ?? (alias ? this.faults.get(alias) : undefined);
    if (set) return set;
    const x = chance(this.o.seed, `${programme}:${id}`);
    if (x < this.o.invalidIdRate) return 'invalidId';
    if (x < this.o.invalidIdRate + this.o.otherCustomerRate) return 'otherCustomer';
    return undefined;
  }

  /** Decides every device once, when processing finishes, and updates who holds what. */
  private complete(t: SimTransaction): SimResult[] {
    if (t.results) return t.results;
    t.results = t.deviceIds.map((id, n) => {
      const key = `${t.programme}:${id}`;
      const f = this.fault(t.programme, id, t.appleLayout?.[n]?.assetTag);
      if (f === 'invalidId') return { id, ok: false, fault: 'invalidId' };
      const holder = f === 'otherCustomer' ? OTHER_CUSTOMER : this.holders.get(key);
      if (t.action === 'enrol') {
        if (holder && holder !== t.customerId) return { id, ok: false, fault: 'otherCustomer' };
        this.holders.set(key, t.customerId);
        return { id, ok: true };
      }
      if (holder !== t.customerId) return { id, ok: false, fault: holder ? 'otherCustomer' : 'notEnrolled' };
      this.holders.delete(key);
      return { id, ok: true };
    });
    return t.results;
  }

  /** Counts a status check; true while the transaction is still processing. */
  private stillProcessing(t: SimTransaction): boolean {
    if (t.results) return false;
    t.polls++;
    if (t.polls <= t.pollsBeforeComplete) return true;
    this.complete(t);
    return false;
  }

  /**
   * Records a submission. Returns the transaction (existing one for a resend) and whether the
   * answer should be lost this time.
   */
  private accept(
    programme: Manufacturer,
    transactionId: string,
    init: () => Omit<SimTransaction, 'programme' | 'transactionId' | 'reference' | 'pollsBeforeComplete' | 'polls'>,
    reference: () => string,
  ) {
    const key = `${programme}:${transactionId}`;
    const existing = this.transactions.get(key);
    const t = existing ?? { programme, transactionId, reference: reference(), pollsBeforeComplete: this.processingPolls, polls: 0, ...init() };
    if (!existing) this.transactions.set(key, t);
    this.submissions.push({ programme, transactionId, devices: t.deviceIds.length, duplicate: !!existing });
    const lose = this.failAfterAccept.get(programme) ?? 0;
    if (lose > 0) this.failAfterAccept.set(programme, lose - 1);
    return { t, duplicate: !!existing, lose: lose > 0 };
  }

  private tooMany(programme: Manufacturer, n: number): boolean {
    const limit = this.o.limits?.[programme];
    return limit !== undefined && n > limit;
  }

  private refuse(programme: Manufacturer, reason: string): void {
    this.refusals.push({ programme, reason });
  }

  private issue(programme: 'google' | 'samsung', subject: string) {
    const ttl = this.o.auth?.tokenTtlSeconds ?? 3600;
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { programme, subject, expiresAt: Date.now() + ttl * 1000 });
    this.tokensIssued.push({ programme, subject });
    return { access_token: token, token_type: 'Bearer', expires_in: ttl };
  }

  /** Google's JWT-bearer grant: the assertion's signature, issuer, audience, lifetime and scope. */
  private googleGrant(
    form: Record<string, string>,
    tokenUrl: string,
  ): { ok: true; subject: string } | { ok: false; status: 400 | 401; error: string; why: string } {
    const bad = (why: string) => ({ ok: false as const, status: 400 as const, error: 'invalid_grant', why });
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return { ok: false, status: 400, error: 'unsupported_grant_type', why: 'grant_type' };
    const parts = (form.assertion ?? '').split('.');
    if (parts.length !== 3) return bad('Invalid JWT.');
    let header: any, claims: any;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch {
      return bad('Invalid JWT.');
    }
    if (header?.alg !== 'RS256') return bad('Invalid JWT: alg must be RS256.');
    const key = this.publicKeys.get(String(claims?.iss));
    if (!key) return bad('Invalid grant: account not found');
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], 'base64url'))) return bad('Invalid JWT Signature.');
    if (this.revoked.has(`google:${claims.iss}`)) return { ok: false, status: 401, error: 'invalid_client', why: 'The OAuth client was disabled.' };
    const now = Date.now() / 1000;
    if (claims.aud !== tokenUrl) return bad(`Invalid JWT: audience must be ${tokenUrl}.`);
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp < now || claims.iat > now + 60 || claims.exp - claims.iat > 3600)
      return bad('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    const scope = this.o.auth?.google?.scope ?? 'https://www.googleapis.com/auth/androidworkprovisioning';
    if (
      !String(claims.scope ?? '')
        .split(' ')
        .includes(scope)
    )
      return bad(`Invalid JWT: scope must include ${scope}.`);
    return { ok: true, subject: String(claims.iss) };
  }

  /** Knox client credentials, from HTTP Basic or the form. */
  private knoxGrant(
    form: Record<string, string>,
    authorization: string | undefined,
  ): { ok: true; subject: string } | { ok: false; error: string; why: string } {
    if (form.grant_type !== 'client_credentials') return { ok: false, error: 'unsupported_grant_type', why: 'grant_type' };
    let id = form.client_id ?? '';
    let secret = form.client_secret ?? '';
    const basic = /^Basic (.+)$/i.exec(authorization ?? '')?.[1];
    if (basic) {
      const [u, p = ''] = Buffer.from(basic, 'base64').toString().split(':');
      id = decodeURIComponent(u);
      secret = decodeURIComponent(p);
    }
    const expected = this.o.auth?.samsung?.clients[id];
    const same = expected !== undefined && expected.length === secret.length && timingSafeEqual(Buffer.from(expected), Buffer.from(secret));
    if (!same) return { ok: false, error: 'invalid_client', why: 'Client authentication failed.' };
    if (this.revoked.has(`samsung:${id}`)) return { ok: false, error: 'invalid_client', why: 'The client was revoked.' };
    return { ok: true, subject: id };
  }

  /** The bearer token's check on a programme's routes: null when it may pass. */
  private bearerRefusal(programme: 'google' | 'samsung', authorization: string | undefined): string | null {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) return 'no bearer token';
    const t = this.tokens.get(token);
    if (!t || t.programme !== programme) return 'unknown token';
    if (t.expiresAt <= Date.now()) return 'token expired';
    if (this.revoked.has(`${programme}:${t.subject}`)) return 'credentials revoked';
    return null;
  }

  /** Apple's mutual TLS: only over the HTTPS listener, with a verified certificate that is not revoked. */
  private appleRefusal(c: Context<{ Bindings: HttpBindings }>): string | null {
    const socket = c.env?.incoming?.socket as TLSSocket | undefined;
    if (!socket?.encrypted) return 'mutual TLS required';
    if (!socket.authorized) return `client certificate not accepted (${String(socket.authorizationError ?? 'none given')})`;
    const cn = socket.getPeerCertificate()?.subject?.CN;
    if (typeof cn !== 'string' || this.revoked.has(`apple:${cn}`)) return 'client certificate revoked';
    return null;
  }

  app(): Hono<{ Bindings: HttpBindings }> {
    const app = new Hono<{ Bindings: HttpBindings }>();
    const lost = (c: { json: (b: unknown, s: 503) => Response }) => c.json({ error: 'upstream timeout' }, 503);
    const auth = this.o.auth;

    // ---- authentication ----
    const formOf = async (c: Context) => Object.fromEntries(new URLSearchParams(await c.req.text())) as Record<string, string>;
    if (auth?.google) {
      app.post('/google/oauth2/token', async (c) => {
        const grant = this.googleGrant(await formOf(c), c.req.url.split('?')[0]);
        if (!grant.ok) {
          this.refuse('google', grant.why);
          return c.json({ error: grant.error, error_description: grant.why }, grant.status);
        }
        return c.json(this.issue('google', grant.subject));
      });
      app.use('/google/v1/*', async (c, next) => {
        const why = this.bearerRefusal('google', c.req.header('authorization'));
        if (!why) return next();
        this.refuse('google', why);
        c.header('www-authenticate', 'Bearer error="invalid_token"');
        return c.json({ error: { code: 401, status: 'UNAUTHENTICATED', message: `Request had invalid authentication credentials (${why}).` } }, 401);
      });
    }
    if (auth?.samsung) {
      app.post('/samsung/oauth2/token', async (c) => {
        const grant = this.knoxGrant(await formOf(c), c.req.header('authorization'));
        if (!grant.ok) {
          this.refuse('samsung', grant.why);
          return c.json({ error: grant.error, error_description: grant.why }, grant.error === 'invalid_client' ? 401 : 400);
        }
        return c.json(this.issue('samsung', grant.subject));
      });
      app.use('/samsung/kdp/*', async (c, next) => {
        const why = this.bearerRefusal('samsung', c.req.header('authorization'));
        if (!why) return next();
        this.refuse('samsung', why);
        c.header('www-authenticate', 'Bearer error="invalid_token"');
        return c.json({ code: 'KDP_UNAUTHORIZED', message: `invalid access token (${why})` }, 401);
      });
    }
    if (auth?.apple) {
      app.use('/apple/*', async (c, next) => {
        const why = this.appleRefusal(c);
        if (!why) return next();
        this.refuse('apple', why);
        return c.json({ errorCode: 'DEP-ERR-1002', errorMessage: why }, 403);
      });
    }

    // ---- Apple device enrolment ----
    app.post('/apple/enroll-service/1.0/bulk-enroll-devices', async (c) => {
      const b = (await c.req.json().catch(() => null)) as any;
      if (!b?.transactionId || !Array.isArray(b.orders)) return c.json({ errorCode: 'DEP-ERR-1001', errorMessage: 'malformed request' }, 400);
      const layout = (b.orders as any[]).flatMap((o) =>
        (o.deliveries ?? []).flatMap((d: any) =>
          (d.devices ?? []).map((x: any) => ({
            orderNumber: String(o.orderNumber),
            deliveryNumber: String(d.deliveryNumber),
            deviceId: String(x.deviceId),
            assetTag: String(x.assetTag ?? ''),
          })),
        ),
      );
      const customerId = String(b.orders[0]?.customerId ?? '');
      if (customerId.startsWith('INVALID')) return c.json({ errorCode: 'DEP-ERR-3001', errorMessage: `invalid customer id ${customerId}` });
      if (this.tooMany('apple', layout.length))
        return c.json({ errorCode: 'DEP-ERR-3003', errorMessage: `a transaction holds at most ${this.o.limits!.apple} devices` });
      const action = b.orders[0]?.orderType === 'RE' ? 'unenrol' : 'enrol';
      const { t, lose } = this.accept(
        'apple',
        String(b.transactionId),
        () => ({ action, customerId, deviceIds: layout.map((l) => l.deviceId), appleLayout: layout }),
        () => `DET-${++this.seq}`,
      );
      if (lose) return lost(c);
      return c.json({
        deviceEnrollmentTransactionId: t.reference,
        enrollDevicesResponse: { statusCode: 'SUCCESS', statusMessage: 'Transaction posted successfully' },
      });
    });
    app.post('/apple/enroll-service/1.0/check-transaction-status', async (c) => {
      const b = (await c.req.json().catch(() => null)) as { deviceEnrollmentTransactionId?: string } | null;
      const t = this.transactionsFor('apple').find((x) => x.reference === b?.deviceEnrollmentTransactionId);
      if (!t) return c.json({ errorCode: 'DEP-ERR-2001', errorMessage: 'unknown transaction' }, 404);
      if (this.stillProcessing(t)) return c.json({ deviceEnrollmentTransactionID: t.reference, transactionStatus: 'IN_PROGRESS' });
      const results = new Map(t.results!.map((r) => [r.id, r]));
      const errors = t.results!.some((r) => !r.ok);
      const orders = [...new Set(t.appleLayout!.map((l) => l.orderNumber))].map((orderNumber) => ({
        orderNumber,
        orderPostStatus: 'COMPLETE',
        deliveries: [...new Set(t.appleLayout!.filter((l) => l.orderNumber === orderNumber).map((l) => l.deliveryNumber))].map((deliveryNumber) => ({
          deliveryNumber,
          deliveryPostStatus: 'COMPLETE',
          devices: t
            .appleLayout!.filter((l) => l.orderNumber === orderNumber && l.deliveryNumber === deliveryNumber)
            .map((l) => {
              const r = results.get(l.deviceId)!;
              if (r.ok) return { deviceId: l.deviceId, devicePostStatus: 'COMPLETE', devicePostStatusMessage: 'SUCCESS' };
              const [errorCode, message] =
                r.fault === 'invalidId'
                  ? ['DEP-ERR-4010', 'Device not found in Apple records']
                  : r.fault === 'otherCustomer'
                    ? ['DEP-ERR-4011', 'Device is assigned to another organisation']
                    : ['DEP-ERR-4020', 'Device is not enrolled'];
              return { deviceId: l.deviceId, devicePostStatus: 'ERROR', errorCode, devicePostStatusMessage: message };
            }),
        })),
      }));
      return c.json({ deviceEnrollmentTransactionID: t.reference, transactionStatus: errors ? 'COMPLETE_WITH_ERRORS' : 'COMPLETE', orders });
    });

    // ---- Android zero-touch ----
    const claimOrUnclaim = (action: 'enrol' | 'unenrol') => async (c: any) => {
      const b = (await c.req.json().catch(() => null)) as any;
      const items: any[] = (action === 'enrol' ? b?.claims : b?.unclaims) ?? [];
      const requestId = c.req.header('x-request-id') ?? `anon-${++this.seq}`;
      if (!items.length) return c.json({ error: { code: 400, status: 'INVALID_ARGUMENT', message: 'no devices' } }, 400);
      const customerId = String(items[0]?.customerId ?? c.req.header('x-customer-id') ?? '');
      if (action === 'enrol' && customerId.startsWith('INVALID'))
        return c.json(
          { error: { code: 400, status: 'INVALID_ARGUMENT', message: `customer ${customerId} not found`, details: [{ reason: 'INVALID_CUSTOMER' }] } },
          400,
        );
      if (this.tooMany('google', items.length))
        return c.json(
          {
            error: {
              code: 400,
              status: 'INVALID_ARGUMENT',
              message: `at most ${this.o.limits!.google} devices per request`,
              details: [{ reason: 'TOO_MANY_DEVICES' }],
            },
          },
          400,
        );
      // An unclaim names no customer: the simulator unclaims for whoever we claimed it for.
      const ids = items.map((i) => String(i.deviceIdentifier?.imei ?? i.deviceIdentifier?.serialNumber ?? ''));
      const unclaimFor = action === 'unenrol' ? (this.holders.get(`google:${ids[0]}`) ?? '') : customerId;
      const { t, lose } = this.accept(
        'google',
        requestId,
        () => ({ action, customerId: unclaimFor, deviceIds: ids }),
        () => `operations/${++this.seq}`,
      );
      if (lose) return lost(c);
      return c.json({ name: t.reference, done: false, metadata: { processingStatus: 'BATCH_PROCESS_PENDING', devicesCount: ids.length } });
    };
    app.post('/google/v1/partners/:partnerId/devices:claimAsync', claimOrUnclaim('enrol'));
    app.post('/google/v1/partners/:partnerId/devices:unclaimAsync', claimOrUnclaim('unenrol'));
    app.get('/google/v1/operations/:id', (c) => {
      const name = `operations/${c.req.param('id')}`;
      const t = this.transactionsFor('google').find((x) => x.reference === name);
      if (!t) return c.json({ error: { code: 404, status: 'NOT_FOUND', message: 'no such operation' } }, 404);
      if (this.stillProcessing(t)) {
        return c.json({
          name,
          done: false,
          metadata: {
            processingStatus: t.polls === 1 ? 'BATCH_PROCESS_PENDING' : 'BATCH_PROCESS_IN_PROGRESS',
            progress: Math.min(90, t.polls * 20),
            devicesCount: t.deviceIds.length,
          },
        });
      }
      const perDeviceStatus = t.results!.map((r, i) => ({
        result: r.ok
          ? { status: 'SINGLE_DEVICE_STATUS_SUCCESS', deviceId: String(1_000_000 + i) }
          : r.fault === 'invalidId'
            ? { status: 'SINGLE_DEVICE_STATUS_INVALID_DEVICE_IDENTIFIER', errorMessage: 'IMEI is not valid' }
            : r.fault === 'otherCustomer'
              ? { status: 'SINGLE_DEVICE_STATUS_SECTION_NOT_YOURS', errorMessage: 'device is claimed by another customer' }
              : { status: 'SINGLE_DEVICE_STATUS_OTHER_ERROR', errorMessage: 'device is not claimed' },
      }));
      return c.json({
        name,
        done: true,
        metadata: { processingStatus: 'BATCH_PROCESS_PROCESSED', progress: 100, devicesCount: t.deviceIds.length },
        response: { perDeviceStatus, successCount: t.results!.filter((r) => r.ok).length },
      });
    });

    // ---- Samsung Knox Deployment ----
    const uploadOrDelete = (action: 'enrol' | 'unenrol') => async (c: any) => {
      const b = (await c.req.json().catch(() => null)) as any;
      if (!b?.transactionId || !Array.isArray(b.devices)) return c.json({ code: 'KDP_BAD_REQUEST', message: 'malformed request' }, 400);
      const customerId = String(b.customerId ?? '');
      if (customerId.startsWith('INVALID'))
        return c.json({ code: 'KDP_INVALID_CUSTOMER', message: `customer ${customerId} is not a Knox customer of this reseller` }, 400);
      if (this.tooMany('samsung', b.devices.length))
        return c.json({ code: 'KDP_TOO_MANY_DEVICES', message: `at most ${this.o.limits!.samsung} devices per transaction` }, 400);
      const ids = (b.devices as { deviceUid: string }[]).map((d) => String(d.deviceUid));
      const { t, duplicate, lose } = this.accept(
        'samsung',
        String(b.transactionId),
        () => ({ action, customerId, deviceIds: ids }),
        () => String(b.transactionId),
      );
      if (lose) return lost(c);
      if (duplicate) return c.json({ code: 'KDP_DUPLICATE_TRANSACTION', message: `transaction ${t.transactionId} was already received` }, 409);
      return c.json({ transactionId: t.reference, status: 'ACCEPTED' }, 202);
    };
    app.post('/samsung/kdp/v1/devices/upload', uploadOrDelete('enrol'));
    app.post('/samsung/kdp/v1/devices/delete', uploadOrDelete('unenrol'));
    app.get('/samsung/kdp/v1/transactions/:id', (c) => {
      const t = this.transactions.get(`samsung:${c.req.param('id')}`);
      if (!t) return c.json({ code: 'KDP_TRANSACTION_NOT_FOUND', message: 'no such transaction' }, 404);
      if (this.stillProcessing(t)) return c.json({ transactionId: t.transactionId, status: 'IN_PROGRESS' });
      const devices = t.results!.map((r) =>
        r.ok
          ? { deviceUid: r.id, result: 'SUCCESS' }
          : r.fault === 'invalidId'
            ? { deviceUid: r.id, result: 'FAIL', errorCode: 'KDP_INVALID_DEVICE', errorMessage: 'device id is not a Samsung device' }
            : r.fault === 'otherCustomer'
              ? { deviceUid: r.id, result: 'FAIL', errorCode: 'KDP_DEVICE_OWNED_BY_OTHER', errorMessage: 'device belongs to another Knox customer' }
              : { deviceUid: r.id, result: 'FAIL', errorCode: 'KDP_DEVICE_NOT_FOUND', errorMessage: 'device is not registered to this customer' },
      );
      return c.json({ transactionId: t.transactionId, status: t.results!.every((r) => r.ok) ? 'COMPLETED' : 'COMPLETED_WITH_ERRORS', devices });
    });

    app.get('/healthz', (c) => c.json({ ok: true }));
    return app;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => {
      this.server = serve({ fetch: this.app().fetch, port, hostname: '127.0.0.1' }, () => resolve());
    });
  }

  /**
   * Apple's HTTPS listener with mutual TLS (needs `auth.apple`). A certificate the CA did not sign
   * (or none) is answered 403, as API gateways do: Node's TLS server would otherwise drop the
   * connection without a TLS alert, which a client cannot tell from a network failure.
   */
  listenApple(port: number): Promise<void> {
    const a = this.o.auth?.apple;
    if (!a) throw new Error('listenApple needs auth.apple');
    return new Promise((resolve) => {
      this.appleServer = serve(
        {
          fetch: this.app().fetch,
          port,
          hostname: '127.0.0.1',
          createServer: https.createServer,
          serverOptions: { cert: a.serverCert, key: a.serverKey, ca: a.clientCa, requestCert: true, rejectUnauthorized: false },
        },
        () => resolve(),
      );
      this.appleServer.on('tlsClientError', (err: NodeJS.ErrnoException) => this.refuse('apple', `TLS handshake: ${err.code ?? err.message}`));
    });
  }

  async stop(): Promise<void> {
    const close = (s?: ServerType) => new Promise<void>((r) => (s ? s.close(() => r()) : r()));
    await Promise.all([close(this.server), close(this.appleServer)]);
  }
}

// One typed configuration for every process (worker, API, adaptor, simulators, tools).
// Local defaults need no environment at all; production refuses to start on dev defaults.
import { msToNumber, type Duration } from '@temporalio/common';
import { z } from 'zod';
import path from 'node:path';
import { logLevels, type LogLevel } from './log';
import { WarehouseConfigError, loadWarehouseExchanges, type WarehouseExchange } from './warehouse-config';

export const DEV_TOKENS = { agent: 'agent-dev-token', adaptor: 'adaptor-dev-token', ops: 'ops-dev-token', admin: 'admin-dev-token' } as const;
/** The fixed person behind each published dev token: who its calls are recorded as. */
export const DEV_TOKEN_ACTORS: Record<keyof typeof DEV_TOKENS, { subject: string; name: string }> = {
  agent: { subject: 'dev-agent', name: 'Dev Agent' },
  adaptor: { subject: 'dev-adaptor', name: 'Dev Adaptor' },
  ops: { subject: 'dev-ops', name: 'Dev Ops' },
  admin: { subject: 'dev-admin', name: 'Dev Admin' },
};
/** The development identity provider's issuer path (scripts/dev-idp.ts), refused in production. */
export const devIdpPath = '/dev-idp';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** A Temporal duration ('1h', '14 days', '90s'), at least `minMs`: a typo fails at start, not in a workflow. */
const duration = (minMs: number) =>
  z.string().refine(
    (v) => {
      try {
        return msToNumber(v as Duration) >= minMs;
      } catch {
        return false;
      }
    },
    { message: `a duration such as '1h' or '14 days', at least ${minMs / 1000} s` },
  );

// Every variable is listed in docs/configuration.md (test/unit/config-reference.test.ts checks it).
const EnvSchema = z.object({
  /** Unset is not development: the published dev tokens need NODE_ENV=development or test, said out loud. */
  NODE_ENV: z.enum(['development', 'test', 'production']).optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** The API's listening address: loopback unless a deployment says otherwise (the container: 0.0.0.0). */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The worker's and adaptor's probes and metrics port (unset: none; 0: any free port). */
  OPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  /** host:port of Core's Prometheus exporter in a worker (empty: off). */
  WORKER_CORE_METRICS_ADDRESS: z
    .string()
    .regex(/^$|^[^\s:]+:\d{1,5}$/, 'host:port')
    .default(''),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('hardware-orders'),
  TEMPORAL_UI_URL: z.string().url().default('http://localhost:8233'),
  /** JSON key file sealing payloads in Temporal (see infra/payload-codec.ts); required in production. */
  TEMPORAL_PAYLOAD_KEYS_FILE: z.string().optional(),
  /** mTLS to Temporal's frontend: this process's client certificate and key (PEM files), both or neither. */
  TEMPORAL_TLS_CERT_FILE: z.string().default(''),
  TEMPORAL_TLS_KEY_FILE: z.string().default(''),
  /** The CA that signed the frontend's certificate; empty = the system's trusted CAs. */
  TEMPORAL_TLS_CA_FILE: z.string().default(''),
  /** The name the frontend's certificate must carry, when TEMPORAL_ADDRESS's host is not it. */
  TEMPORAL_TLS_SERVER_NAME: z.string().default(''),
  /** A file holding the token (a JWT) Temporal's authorizer checks, sent as `Authorization: Bearer`; empty = none. */
  TEMPORAL_API_KEY_FILE: z.string().default(''),
  MONGODB_URI: z.string().default('mongodb://127.0.0.1:27017/hardware_orders'),
  DATA_DIR: z.string().default('data'),
  AGENT_TOKENS: list.optional(),
  ADAPTOR_TOKENS: list.optional(),
  OPS_TOKENS: list.optional(),
  /** Reference-data administrators (products, prices, accounts, fraud blocklist); none unless set. */
  ADMIN_TOKENS: list.optional(),
  /** The OpenID provider whose access tokens (JWTs) the API accepts; empty = none (static tokens only, development). */
  OIDC_ISSUER: z.union([z.literal(''), z.string().url()]).default(''),
  /** The `aud` an access token must carry for this API. */
  OIDC_AUDIENCE: z.string().min(1).default('hardware-orders'),
  /** The claim holding the caller's roles (a string or a list; dots reach into objects, e.g. `realm_access.roles`). */
  OIDC_ROLE_CLAIM: z.string().min(1).default('roles'),
  /** Machine clients with the adaptor role limited to some warehouses: `client-id:WH-NORTH` entries (client id = `azp` or `client_id`). */
  OIDC_ADAPTOR_CLIENTS: list.default([]),
  /** AgentView's own address as people's browsers reach it: its sign-in callback is `<AGENTVIEW_URL>/auth/callback`. Empty: http://localhost:<PORT>. */
  AGENTVIEW_URL: z.union([z.literal(''), z.string().url()]).default(''),
  /** AgentView's client at OIDC_ISSUER (authorisation code + PKCE). */
  AGENTVIEW_CLIENT_ID: z.string().min(1).default('agentview'),
  /** A file holding that client's secret, when the provider registers it as confidential; unset: a public client. */
  AGENTVIEW_CLIENT_SECRET_FILE: z.string().optional(),
  /** The scopes AgentView asks for: an access token for this API (its audience OIDC_AUDIENCE) must come back. */
  AGENTVIEW_SCOPE: z.string().min(1).default('openid profile api'),
  /** Comma list of warehouse ids in preference order. */
  WAREHOUSES: list.default(['WH-NORTH', 'WH-SOUTH']),
  /** Base URL of the warehouses' stock interface; empty = this deployment is not connected to a warehouse. */
  WAREHOUSE_STOCK_URL: z.string().default('http://127.0.0.1:3101'),
  WAREHOUSE_STOCK_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  /** YAML or JSON file: per warehouse, folder / SFTP / HTTP for sales orders and response files (infra/warehouse-config.ts); empty = folders. */
  WAREHOUSES_FILE: z.string().default(''),
  WAREHOUSE_SIMULATOR_PORT: z.coerce.number().int().default(3101),
  WAREHOUSE_SIMULATOR_SEED: z.coerce.number().int().default(42),
  WAREHOUSE_SIMULATOR_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
  WAREHOUSE_SIMULATOR_OUT_OF_STOCK_RATE: z.coerce.number().min(0).max(1).default(0),
  /** What happens to a line no warehouse can fill: held until stock arrives, or sent anyway (the warehouse answers out of stock). */
  ALLOCATION_SHORTAGE: z.enum(['backorder', 'send']).default('backorder'),
  BACKORDER_RECHECK: duration(1000).default('1h'),
  BACKORDER_MAX_WAIT: duration(1000).default('14 days'),
  /** An order in Error stays open this long for ops to resubmit or close it; then it closes as Error. */
  ERROR_RESOLUTION_WINDOW: duration(1000).default('30 days'),
  /** An order Awaiting Dispatch this long after its sales order went out is flagged dispatchOverdue (per warehouse: WAREHOUSES_FILE dispatchSla). */
  DISPATCH_SLA: duration(1000).default('3 days'),
  /** A cancellation the warehouse has not answered this long after it went out is flagged cancellationUnanswered. */
  CANCEL_ANSWER_TIMEOUT: duration(1000).default('2 days'),
  /** Returns: an unwanted unit within this long of its ship date; faulty (and wrongItem, damagedInTransit) within RETURN_WINDOW_FAULTY. */
  RETURN_WINDOW_UNWANTED: duration(1000).default('14 days'),
  RETURN_WINDOW_FAULTY: duration(1000).default('365 days'),
  /** A return whose units the warehouse (or ops) has not received this long after authorisation expires. */
  RETURN_RECEIPT_WAIT: duration(1000).default('30 days'),
  /** A return still `authorised` with no workflow this long after it was numbered (the API crashed between the two) is started by the orphaned returns job, which runs this often. */
  RETURN_START_GRACE: duration(1000).default('2 minutes'),
  /** Kept from the price of a unit returned as unwanted (0-100, two decimals at most). */
  RESTOCKING_FEE_PERCENT: z.coerce.number().min(0).max(100).default(0),
  /** Units of each sku the warehouse simulator receives per warehouse each minute (0 = none). */
  WAREHOUSE_SIMULATOR_REPLENISH_PER_MINUTE: z.coerce.number().int().nonnegative().default(0),
  ADAPTOR_POLL_MS: z.coerce.number().int().positive().default(500),
  /** Data rows in one response file; a larger file is quarantined whole (the work of one file stays bounded). */
  ADAPTOR_MAX_FILE_ROWS: z.coerce.number().int().positive().default(500_000),
  /** Activities (and local activities) one worker runs at once: bounded so the database is not swamped. */
  WORKER_ACTIVITY_CONCURRENCY: z.coerce.number().int().positive().default(32),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().default(250),
  FRAUD_POLICY_ENABLED: bool.default(true),
  FRAUD_VALUE_THRESHOLD: z.coerce.number().int().nonnegative().default(150_000),
  FRAUD_ALLOWED_COUNTRIES: list.default(['GB', 'IE']),
  FRAUD_CHECK_FIRST_ORDER: bool.default(false),
  FRAUD_CHECK_ADDRESS_MISMATCH: bool.default(true),
  FRAUD_VELOCITY_LIMIT: z.coerce.number().int().positive().default(5),
  FRAUD_REVIEW_DEADLINE: z.string().default('48h'),
  /** An external HTTP fraud provider instead of the built-in rules; empty = the built-in rules. */
  FRAUD_PROVIDER_URL: z.union([z.literal(''), z.string().url()]).default(''),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  // Device enrolment (manufacturers' zero-touch programmes).
  MANUFACTURER_API_URL: z.string().default('http://127.0.0.1:3102'),
  MANUFACTURER_API_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  // Each programme's own base URL (empty: MANUFACTURER_API_URL) and authentication, secrets in files.
  APPLE_API_URL: z.string().default(''),
  APPLE_CLIENT_CERT_FILE: z.string().default(''),
  APPLE_CLIENT_KEY_FILE: z.string().default(''),
  APPLE_CA_FILE: z.string().default(''),
  GOOGLE_API_URL: z.string().default(''),
  GOOGLE_SERVICE_ACCOUNT_FILE: z.string().default(''),
  GOOGLE_OAUTH_SCOPE: z.string().min(1).default('https://www.googleapis.com/auth/androidworkprovisioning'),
  SAMSUNG_API_URL: z.string().default(''),
  SAMSUNG_TOKEN_URL: z.string().default(''),
  SAMSUNG_CLIENT_ID: z.string().default(''),
  SAMSUNG_CLIENT_SECRET_FILE: z.string().default(''),
  APPLE_RESELLER_ID: z.string().default('DEV-RESELLER-APPLE'),
  GOOGLE_PARTNER_ID: z.string().default('1000001'),
  SAMSUNG_RESELLER_ID: z.string().default('DEV-RESELLER-KNOX'),
  ENROLMENT_BATCH_LIMIT_APPLE: z.coerce.number().int().positive().default(1000),
  ENROLMENT_BATCH_LIMIT_GOOGLE: z.coerce.number().int().positive().default(500),
  ENROLMENT_BATCH_LIMIT_SAMSUNG: z.coerce.number().int().positive().default(1000),
  ENROLMENT_REQUEST_JOB_INTERVAL: z.string().default('1 minute'),
  ENROLMENT_RESPONSE_JOB_INTERVAL: z.string().default('1 minute'),
  MANUFACTURER_SIMULATOR_PORT: z.coerce.number().int().default(3102),
  /** The development identity provider's port (`npm start`; issuer http://127.0.0.1:<port>/dev-idp). */
  DEV_IDP_PORT: z.coerce.number().int().min(0).max(65535).default(3103),
  MANUFACTURER_SIMULATOR_SEED: z.coerce.number().int().default(42),
  MANUFACTURER_SIMULATOR_INVALID_ID_RATE: z.coerce.number().min(0).max(1).default(0),
  MANUFACTURER_SIMULATOR_OTHER_CUSTOMER_RATE: z.coerce.number().min(0).max(1).default(0),
  MANUFACTURER_SIMULATOR_PROCESSING_POLLS: z.coerce.number().int().nonnegative().default(1),
  /** Temporal Schedule interval of the order view reconciliation job, e.g. '5 minutes'. */
  ORDER_VIEW_RECONCILIATION_INTERVAL: z.string().default('5 minutes'),
});

/** Every environment variable the configuration reads. */
export const CONFIG_VARIABLES = Object.keys(EnvSchema.shape) as (keyof typeof EnvSchema.shape)[];

export type Role = 'agent' | 'adaptor' | 'ops' | 'admin';

export interface Config {
  /** 'unset' when NODE_ENV is not given: development defaults except the dev tokens. */
  env: 'development' | 'test' | 'production' | 'unset';
  port: number;
  host: string;
  /** The worker's and adaptor's ops port (/healthz, /readyz, /metrics); null: not served. */
  ops: { port: number; host: string } | null;
  workerCoreMetricsAddress: string | null;
  temporal: TemporalSettings & { namespace: string; taskQueue: string; uiUrl: string; payloadKeysFile: string | null };
  mongodbUri: string;
  dataDir: string;
  tokens: Record<Role, string[]>;
  /**
   * Adaptor tokens limited to some warehouses (`ADAPTOR_TOKENS=token:WH-NORTH,...`): a partner's
   * machine credential files and reads only its own warehouse's batches. A token given without a
   * warehouse (as before) may act for every warehouse.
   */
  adaptorScopes: Record<string, string[]>;
  /** Access tokens (JWTs) from an OpenID provider (api/auth.ts); null: none accepted. */
  oidc: OidcSettings | null;
  /** AgentView's own sign-in at `oidc`'s issuer (api/agentview-session.ts); used only when `oidc` is set. */
  agentView: { url: string; clientId: string; clientSecretFile: string | null; scope: string; secureCookie: boolean };
  warehouses: {
    ids: string[];
    stockUrl: string | null;
    stockTimeoutMs: number;
    /** Per warehouse id: how sales orders go out and response files come in (every id present). */
    exchanges: Record<string, WarehouseExchange>;
  };
  /** Durations are Temporal duration strings, read by the order workflow through the allocation step. */
  allocation: { shortage: 'backorder' | 'send'; backorderRecheck: string; backorderMaxWait: string };
  /** The order's exception paths (Temporal duration strings): the resolution window of an Error, stuck-order deadlines. */
  exceptions: { errorResolutionWindow: string; dispatchSla: string; cancelAnswerTimeout: string };
  /** Returns: the windows from shipment and the receipt wait (Temporal duration strings), the restocking fee for unwanted units. */
  returns: { windowUnwanted: string; windowFaulty: string; receiptWait: string; restockingFeePercent: number; startGrace: string };
  warehouseSimulator: { port: number; seed: number; errorRate: number; outOfStockRate: number; replenishPerMinute: number };
  adaptorPollMs: number;
  adaptorMaxFileRows: number;
  workerActivityConcurrency: number;
  /** Open workflows kept in worker memory (about 0.4 MB each); the others replay on their next event. */
  workerMaxCachedWorkflows: number;
  fraud: {
    enabled: boolean;
    valueThreshold: number;
    allowedCountries: string[];
    checkFirstOrder: boolean;
    checkAddressMismatch: boolean;
    velocityLimit: number;
    reviewDeadline: string;
    /** null: the built-in rules decide (infra/fraud-providers.ts). */
    providerUrl: string | null;
  };
  logLevel: LogLevel;
  enrolment: {
    timeoutMs: number;
    resellerIds: { apple: string; google: string; samsung: string };
    /** Devices per transaction, per programme. */
    batchLimits: { apple: number; google: number; samsung: number };
    /** Temporal Schedule intervals of the Device Enrolment Request and Response jobs, e.g. '1 minute'. */
    requestJobInterval: string;
    responseJobInterval: string;
    /** Each programme's base URL and authentication (null: none configured; refused by a production worker). */
    programmes: ManufacturerProgrammes;
  };
  manufacturerSimulator: { port: number; seed: number; invalidIdRate: number; otherCustomerRate: number; processingPolls: number };
  /** The development identity provider's port (scripts/dev-idp.ts). */
  devIdpPort: number;
  /** Closed orders' read models checked against their workflows (workflows/order-view-reconciliation.ts). */
  orderViewReconciliation: { interval: string };
}

export interface OidcSettings {
  issuer: string;
  audience: string;
  /** Dotted path of the roles claim. */
  roleClaim: string;
  /** Machine clients (by client id) whose adaptor role acts only for these warehouses; others: every warehouse. */
  adaptorClientScopes: Record<string, string[]>;
}

/** Where and how a process connects to Temporal's frontend (infra/temporal-connection.ts). */
export interface TemporalSettings {
  address: string;
  /** null: plaintext gRPC. Any TEMPORAL_TLS_* setting turns TLS on. */
  tls: TemporalTlsSettings | null;
  /** The file of the bearer token for Temporal's authorizer (docs/security.md); null = none. */
  apiKeyFile?: string | null;
}

export interface TemporalTlsSettings {
  /** Client certificate and key files for mTLS; both null for TLS without a client certificate. */
  certFile: string | null;
  keyFile: string | null;
  /** null: the system's trusted CAs verify the frontend. */
  caFile: string | null;
  serverName: string | null;
}

/** Apple's reseller API: mutual TLS with our client certificate and key. */
export interface AppleAuth {
  certFile: string;
  keyFile: string;
}
/** Android zero-touch: a service account's key file (JSON), a signed JWT exchanged for an OAuth token at its token_uri. */
export interface GoogleAuth {
  serviceAccountFile: string;
  scope: string;
}
/** Knox: OAuth client credentials exchanged at `tokenUrl`. */
export interface KnoxAuth {
  tokenUrl: string;
  clientId: string;
  clientSecretFile: string;
}
export interface ManufacturerProgrammes {
  /** `caFile`: the CA we trust for Apple's server (null: the system's). */
  apple: { baseUrl: string; caFile: string | null; auth: AppleAuth | null };
  google: { baseUrl: string; auth: GoogleAuth | null };
  samsung: { baseUrl: string; auth: KnoxAuth | null };
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const adaptor = e.ADAPTOR_TOKENS && parseAdaptorTokens(e.ADAPTOR_TOKENS, e.WAREHOUSES, 'ADAPTOR_TOKENS');
  // The dev tokens are published in the README: only a development or test run may accept them.
  const devTokens = e.NODE_ENV === 'development' || e.NODE_ENV === 'test';
  if (production) {
    const missing = (['TEMPORAL_ADDRESS', 'TEMPORAL_PAYLOAD_KEYS_FILE', 'MONGODB_URI', 'OIDC_ISSUER', 'OIDC_AUDIENCE'] as const).filter((k) => !env[k]);
    if (missing.length) throw new ConfigError(`NODE_ENV=production requires ${missing.join(', ')}`);
    // People sign in as themselves: a token shared by a role names nobody in an audit.
    const statics = (['AGENT_TOKENS', 'ADAPTOR_TOKENS', 'OPS_TOKENS', 'ADMIN_TOKENS'] as const).filter((k) => env[k]);
    if (statics.length) throw new ConfigError(`NODE_ENV=production refuses static tokens (${statics.join(', ')}): callers sign in with OIDC_ISSUER`);
    // The development provider (scripts/dev-idp.ts) serves plain http on this machine; an operator's IdP is https.
    if (!e.OIDC_ISSUER.startsWith('https://') || new URL(e.OIDC_ISSUER).pathname.startsWith(devIdpPath)) {
      throw new ConfigError(
        `NODE_ENV=production refuses the development identity provider: OIDC_ISSUER must be the operator's https issuer, not ${e.OIDC_ISSUER}`,
      );
    }
  }
  const adaptorClients = parseAdaptorTokens(e.OIDC_ADAPTOR_CLIENTS, e.WAREHOUSES, 'OIDC_ADAPTOR_CLIENTS');
  if (!e.TEMPORAL_TLS_CERT_FILE !== !e.TEMPORAL_TLS_KEY_FILE) {
    throw new ConfigError('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together: set both (mTLS) or neither');
  }
  const tlsSet = e.TEMPORAL_TLS_CERT_FILE || e.TEMPORAL_TLS_CA_FILE || e.TEMPORAL_TLS_SERVER_NAME;
  let exchanges: Record<string, WarehouseExchange>;
  try {
    exchanges = loadWarehouseExchanges(e.WAREHOUSES_FILE || undefined, e.WAREHOUSES, production);
  } catch (err) {
    if (err instanceof WarehouseConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return {
    env: e.NODE_ENV ?? 'unset',
    port: e.PORT,
    host: e.HOST,
    ops: e.OPS_PORT === undefined ? null : { port: e.OPS_PORT, host: e.OPS_HOST },
    workerCoreMetricsAddress: e.WORKER_CORE_METRICS_ADDRESS || null,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      tls: tlsSet
        ? {
            certFile: e.TEMPORAL_TLS_CERT_FILE || null,
            keyFile: e.TEMPORAL_TLS_KEY_FILE || null,
            caFile: e.TEMPORAL_TLS_CA_FILE || null,
            serverName: e.TEMPORAL_TLS_SERVER_NAME || null,
          }
        : null,
      apiKeyFile: e.TEMPORAL_API_KEY_FILE || null,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
      payloadKeysFile: e.TEMPORAL_PAYLOAD_KEYS_FILE || null,
    },
    mongodbUri: e.MONGODB_URI,
    dataDir: path.resolve(e.DATA_DIR),
    tokens: {
      agent: e.AGENT_TOKENS ?? (devTokens ? [DEV_TOKENS.agent] : []),
      adaptor: adaptor ? adaptor.tokens : devTokens ? [DEV_TOKENS.adaptor] : [],
      ops: e.OPS_TOKENS ?? (devTokens ? [DEV_TOKENS.ops] : []),
      admin: e.ADMIN_TOKENS ?? (devTokens ? [DEV_TOKENS.admin] : []),
    },
    adaptorScopes: adaptor ? adaptor.scopes : {},
    agentView: {
      url: (e.AGENTVIEW_URL || `http://localhost:${e.PORT}`).replace(/\/$/, ''),
      clientId: e.AGENTVIEW_CLIENT_ID,
      clientSecretFile: e.AGENTVIEW_CLIENT_SECRET_FILE || null,
      scope: e.AGENTVIEW_SCOPE,
      // A session cookie never travels over plain HTTP in production, whatever the URL says.
      secureCookie: production || (e.AGENTVIEW_URL ?? '').startsWith('https://'),
    },
    oidc: e.OIDC_ISSUER ? { issuer: e.OIDC_ISSUER, audience: e.OIDC_AUDIENCE, roleClaim: e.OIDC_ROLE_CLAIM, adaptorClientScopes: adaptorClients.scopes } : null,
    warehouses: {
      ids: e.WAREHOUSES,
      stockUrl: e.WAREHOUSE_STOCK_URL ? e.WAREHOUSE_STOCK_URL.replace(/\/$/, '') : null,
      stockTimeoutMs: e.WAREHOUSE_STOCK_TIMEOUT_MS,
      exchanges,
    },
    allocation: { shortage: e.ALLOCATION_SHORTAGE, backorderRecheck: e.BACKORDER_RECHECK, backorderMaxWait: e.BACKORDER_MAX_WAIT },
    exceptions: { errorResolutionWindow: e.ERROR_RESOLUTION_WINDOW, dispatchSla: e.DISPATCH_SLA, cancelAnswerTimeout: e.CANCEL_ANSWER_TIMEOUT },
    returns: {
      windowUnwanted: e.RETURN_WINDOW_UNWANTED,
      windowFaulty: e.RETURN_WINDOW_FAULTY,
      receiptWait: e.RETURN_RECEIPT_WAIT,
      restockingFeePercent: e.RESTOCKING_FEE_PERCENT,
      startGrace: e.RETURN_START_GRACE,
    },
    warehouseSimulator: {
      port: e.WAREHOUSE_SIMULATOR_PORT,
      seed: e.WAREHOUSE_SIMULATOR_SEED,
      errorRate: e.WAREHOUSE_SIMULATOR_ERROR_RATE,
      outOfStockRate: e.WAREHOUSE_SIMULATOR_OUT_OF_STOCK_RATE,
      replenishPerMinute: e.WAREHOUSE_SIMULATOR_REPLENISH_PER_MINUTE,
    },
    adaptorPollMs: e.ADAPTOR_POLL_MS,
    adaptorMaxFileRows: e.ADAPTOR_MAX_FILE_ROWS,
    workerActivityConcurrency: e.WORKER_ACTIVITY_CONCURRENCY,
    workerMaxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    fraud: {
      enabled: e.FRAUD_POLICY_ENABLED,
      valueThreshold: e.FRAUD_VALUE_THRESHOLD,
      allowedCountries: e.FRAUD_ALLOWED_COUNTRIES,
      checkFirstOrder: e.FRAUD_CHECK_FIRST_ORDER,
      checkAddressMismatch: e.FRAUD_CHECK_ADDRESS_MISMATCH,
      velocityLimit: e.FRAUD_VELOCITY_LIMIT,
      reviewDeadline: e.FRAUD_REVIEW_DEADLINE,
      providerUrl: e.FRAUD_PROVIDER_URL || null,
    },
    logLevel: e.LOG_LEVEL,
    enrolment: {
      timeoutMs: e.MANUFACTURER_API_TIMEOUT_MS,
      resellerIds: { apple: e.APPLE_RESELLER_ID, google: e.GOOGLE_PARTNER_ID, samsung: e.SAMSUNG_RESELLER_ID },
      batchLimits: { apple: e.ENROLMENT_BATCH_LIMIT_APPLE, google: e.ENROLMENT_BATCH_LIMIT_GOOGLE, samsung: e.ENROLMENT_BATCH_LIMIT_SAMSUNG },
      requestJobInterval: e.ENROLMENT_REQUEST_JOB_INTERVAL,
      responseJobInterval: e.ENROLMENT_RESPONSE_JOB_INTERVAL,
      programmes: manufacturerProgrammes(e),
    },
    devIdpPort: e.DEV_IDP_PORT,
    manufacturerSimulator: {
      port: e.MANUFACTURER_SIMULATOR_PORT,
      seed: e.MANUFACTURER_SIMULATOR_SEED,
      invalidIdRate: e.MANUFACTURER_SIMULATOR_INVALID_ID_RATE,
      otherCustomerRate: e.MANUFACTURER_SIMULATOR_OTHER_CUSTOMER_RATE,
      processingPolls: e.MANUFACTURER_SIMULATOR_PROCESSING_POLLS,
    },
    orderViewReconciliation: { interval: e.ORDER_VIEW_RECONCILIATION_INTERVAL },
  };
}

/** Each programme's URL and authentication; a half-configured programme is refused here, the files are read by the worker. */
function manufacturerProgrammes(e: z.infer<typeof EnvSchema>): ManufacturerProgrammes {
  // Each programme's root (paths such as /enroll-service/1.0/… or /v1/partners/… follow it); by
  // default its own folder under MANUFACTURER_API_URL, as the manufacturer simulator serves them.
  const url = (name: string, v: string, folder: string) => {
    const u = (v || `${e.MANUFACTURER_API_URL.replace(/\/$/, '')}/${folder}`).replace(/\/$/, '');
    if (!/^https?:\/\/[^/]/.test(u)) throw new ConfigError(`${name}: not an http(s) URL: ${u}`);
    return u;
  };
  const apple = url('APPLE_API_URL', e.APPLE_API_URL, 'apple');
  const google = url('GOOGLE_API_URL', e.GOOGLE_API_URL, 'google');
  const samsung = url('SAMSUNG_API_URL', e.SAMSUNG_API_URL, 'samsung');
  const both = (a: [string, string], b: [string, string]) => {
    if (!a[1] !== !b[1]) throw new ConfigError(`${a[1] ? a[0] : b[0]} is set but ${a[1] ? b[0] : a[0]} is not: set both or neither`);
    return !!a[1];
  };
  const appleAuth = both(['APPLE_CLIENT_CERT_FILE', e.APPLE_CLIENT_CERT_FILE], ['APPLE_CLIENT_KEY_FILE', e.APPLE_CLIENT_KEY_FILE]);
  if (appleAuth && !apple.startsWith('https:')) throw new ConfigError(`APPLE_CLIENT_CERT_FILE needs an https APPLE_API_URL (mutual TLS), not ${apple}`);
  const knoxAuth = both(['SAMSUNG_CLIENT_ID', e.SAMSUNG_CLIENT_ID], ['SAMSUNG_CLIENT_SECRET_FILE', e.SAMSUNG_CLIENT_SECRET_FILE]);
  return {
    apple: {
      baseUrl: apple,
      caFile: e.APPLE_CA_FILE || null,
      auth: appleAuth ? { certFile: e.APPLE_CLIENT_CERT_FILE, keyFile: e.APPLE_CLIENT_KEY_FILE } : null,
    },
    google: {
      baseUrl: google,
      auth: e.GOOGLE_SERVICE_ACCOUNT_FILE ? { serviceAccountFile: e.GOOGLE_SERVICE_ACCOUNT_FILE, scope: e.GOOGLE_OAUTH_SCOPE } : null,
    },
    samsung: {
      baseUrl: samsung,
      auth: knoxAuth
        ? {
            tokenUrl: url('SAMSUNG_TOKEN_URL', e.SAMSUNG_TOKEN_URL || `${samsung}/oauth2/token`, ''),
            clientId: e.SAMSUNG_CLIENT_ID,
            clientSecretFile: e.SAMSUNG_CLIENT_SECRET_FILE,
          }
        : null,
    },
  };
}

/** `token` (every warehouse) or `token:WAREHOUSE` entries; a token may be listed once per warehouse. */
function parseAdaptorTokens(entries: string[], warehouses: string[], setting: string): { tokens: string[]; scopes: Record<string, string[]> } {
  const everywhere = new Set<string>();
  const scoped = new Map<string, Set<string>>();
  for (const entry of entries) {
    const m = /^(.+):([A-Za-z0-9_-]+)$/.exec(entry);
    if (!m) {
      everywhere.add(entry);
      continue;
    }
    const [, token, warehouse] = m;
    if (!warehouses.includes(warehouse)) throw new ConfigError(`${setting}: ${warehouse} is not one of WAREHOUSES (${warehouses.join(', ')})`);
    scoped.set(token, (scoped.get(token) ?? new Set()).add(warehouse));
  }
  const scopes = Object.fromEntries([...scoped].filter(([t]) => !everywhere.has(t)).map(([t, w]) => [t, [...w]]));
  return { tokens: [...new Set([...everywhere, ...scoped.keys()])], scopes };
}

/** Folders of one warehouse's file exchange: outbox (sales orders to it), inbox (its response files). */
export function warehouseFolders(dataDir: string, warehouseId: string) {
  const root = path.join(dataDir, 'warehouses', warehouseId);
  return {
    root,
    outbox: path.join(root, 'outbox'),
    inbox: path.join(root, 'inbox'),
    processing: path.join(root, 'processing'),
    archive: path.join(root, 'archive'),
    quarantine: path.join(root, 'quarantine'),
  };
}

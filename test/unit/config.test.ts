import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../infra/config';

describe('configuration', () => {
  it('works with no environment at all, on local defaults, listening on loopback only', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.temporal.address).toBe('127.0.0.1:7233');
    expect(c.warehouses.ids).toEqual(['WH-NORTH', 'WH-SOUTH']);
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('accepts the published dev tokens only when NODE_ENV is explicitly development or test', () => {
    const dev = { agent: ['agent-dev-token'], adaptor: ['adaptor-dev-token'], ops: ['ops-dev-token'], admin: ['admin-dev-token'] };
    expect(loadConfig({ NODE_ENV: 'development' }).tokens).toEqual(dev);
    expect(loadConfig({ NODE_ENV: 'test' }).tokens).toEqual(dev);
    expect(loadConfig({}).tokens).toEqual({ agent: [], adaptor: [], ops: [], admin: [] });
    expect(loadConfig({ AGENT_TOKENS: 'x'.repeat(20) }).tokens).toEqual({ agent: ['x'.repeat(20)], adaptor: [], ops: [], admin: [] });
  });

  const production = {
    NODE_ENV: 'production',
    TEMPORAL_ADDRESS: 't:7233',
    TEMPORAL_PAYLOAD_KEYS_FILE: '/run/secrets/temporal-payload-keys',
    MONGODB_URI: 'mongodb://m/x',
    OIDC_ISSUER: 'https://login.example.com/realms/operator',
    OIDC_AUDIENCE: 'hardware-orders',
  };

  it('refuses production without an OpenID issuer and audience, Temporal address, payload keys and MongoDB URI', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    const c = loadConfig(production);
    expect(c.env).toBe('production');
    expect(c.oidc).toEqual({ issuer: production.OIDC_ISSUER, audience: 'hardware-orders', roleClaim: 'roles', adaptorClientScopes: {} });
    expect(c.tokens).toEqual({ agent: [], adaptor: [], ops: [], admin: [] });
    for (const k of ['OIDC_ISSUER', 'OIDC_AUDIENCE', 'TEMPORAL_PAYLOAD_KEYS_FILE'] as const) expect(() => loadConfig({ ...production, [k]: '' }), k).toThrow(k);
  });

  it('refuses static tokens in production, however long, and the dev ones by name', () => {
    for (const k of ['AGENT_TOKENS', 'ADAPTOR_TOKENS', 'OPS_TOKENS', 'ADMIN_TOKENS']) {
      expect(() => loadConfig({ ...production, [k]: 'x'.repeat(40) }), k).toThrow(new RegExp(`refuses static tokens \\(${k}\\)`));
    }
    expect(() => loadConfig({ ...production, AGENT_TOKENS: 'agent-dev-token' })).toThrow(/static tokens/);
  });

  it('refuses the development identity provider in production', () => {
    expect(() => loadConfig({ ...production, OIDC_ISSUER: 'http://127.0.0.1:3003/dev-idp' })).toThrow(/development identity provider/);
    expect(() => loadConfig({ ...production, OIDC_ISSUER: 'https://idp.example.com/dev-idp' })).toThrow(/development identity provider/);
    expect(() => loadConfig({ ...production, OIDC_ISSUER: 'http://idp.example.com/realms/x' })).toThrow(/https issuer/);
    expect(loadConfig({ NODE_ENV: 'development', OIDC_ISSUER: 'http://127.0.0.1:3003/dev-idp' }).oidc?.issuer).toBe('http://127.0.0.1:3003/dev-idp');
  });

  it("derives AgentView's sign-in address and keeps its session cookie Secure over https and in production", () => {
    expect(loadConfig({ NODE_ENV: 'development', PORT: '3005' }).agentView).toEqual({
      url: 'http://localhost:3005',
      clientId: 'agentview',
      clientSecretFile: null,
      scope: 'openid profile api',
      secureCookie: false,
    });
    expect(loadConfig({ NODE_ENV: 'development', AGENTVIEW_URL: 'https://agents.example.com/' }).agentView).toMatchObject({
      url: 'https://agents.example.com',
      secureCookie: true,
    });
    // Production: Secure whatever the URL says (a cookie over plain HTTP is then never sent back).
    expect(loadConfig({ ...production, AGENTVIEW_URL: 'http://agents.internal' }).agentView.secureCookie).toBe(true);
    const confidential = loadConfig({
      ...production,
      AGENTVIEW_CLIENT_ID: 'av',
      AGENTVIEW_CLIENT_SECRET_FILE: '/run/secrets/av',
      AGENTVIEW_SCOPE: 'openid api://x/.default',
    });
    expect(confidential.agentView).toMatchObject({ clientId: 'av', clientSecretFile: '/run/secrets/av', scope: 'openid api://x/.default' });
    expect(() => loadConfig({ AGENTVIEW_URL: 'not a url' })).toThrow(/AGENTVIEW_URL/);
  });

  it('reads the role claim and the machine clients scoped to warehouses', () => {
    expect(loadConfig({}).oidc).toBeNull();
    const c = loadConfig({
      ...production,
      OIDC_ROLE_CLAIM: 'realm_access.roles',
      OIDC_ADAPTOR_CLIENTS: 'north-integration:WH-NORTH,both:WH-NORTH,both:WH-SOUTH',
    });
    expect(c.oidc).toMatchObject({
      roleClaim: 'realm_access.roles',
      adaptorClientScopes: { 'north-integration': ['WH-NORTH'], both: ['WH-NORTH', 'WH-SOUTH'] },
    });
    expect(() => loadConfig({ OIDC_ADAPTOR_CLIENTS: 'x:WH-EAST' })).toThrow(/OIDC_ADAPTOR_CLIENTS: WH-EAST/);
  });

  it('scopes adaptor tokens to warehouses with token:WAREHOUSE, and keeps plain tokens for every warehouse', () => {
    const c = loadConfig({ ADAPTOR_TOKENS: 'all-warehouses-token,north-token-00000:WH-NORTH,two-token-000000:WH-NORTH,two-token-000000:WH-SOUTH' });
    expect(c.tokens.adaptor.sort()).toEqual(['all-warehouses-token', 'north-token-00000', 'two-token-000000']);
    expect(c.adaptorScopes).toEqual({ 'north-token-00000': ['WH-NORTH'], 'two-token-000000': ['WH-NORTH', 'WH-SOUTH'] });
    expect(() => loadConfig({ ADAPTOR_TOKENS: 'x-token:WH-EAST' })).toThrow(/WH-EAST/);
  });

  it('reports bad values by name', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ FRAUD_POLICY_ENABLED: 'maybe' })).toThrow(/FRAUD_POLICY_ENABLED/);
  });

  it('treats an empty stock URL as not connected to a warehouse', () => {
    expect(loadConfig({ WAREHOUSE_STOCK_URL: '' }).warehouses.stockUrl).toBeNull();
  });

  it('uses the built-in fraud rules unless FRAUD_PROVIDER_URL names a provider', () => {
    expect(loadConfig({}).fraud.providerUrl).toBeNull();
    expect(loadConfig({ FRAUD_PROVIDER_URL: '' }).fraud.providerUrl).toBeNull();
    expect(loadConfig({ FRAUD_PROVIDER_URL: 'https://fraud.example.com/check' }).fraud.providerUrl).toBe('https://fraud.example.com/check');
    expect(() => loadConfig({ FRAUD_PROVIDER_URL: 'fraud-provider' })).toThrow(/FRAUD_PROVIDER_URL/);
  });

  it('listens on loopback unless HOST says otherwise', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('refuses a backorder duration that is not one, or under a second', () => {
    expect(loadConfig({ BACKORDER_RECHECK: '90s' }).allocation.backorderRecheck).toBe('90s');
    expect(() => loadConfig({ BACKORDER_RECHECK: 'hourly' })).toThrow(/BACKORDER_RECHECK/);
    expect(() => loadConfig({ BACKORDER_MAX_WAIT: '0' })).toThrow(/BACKORDER_MAX_WAIT/);
  });
});

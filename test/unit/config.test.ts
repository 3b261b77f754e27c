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

  it('refuses production without real tokens, Temporal address, payload keys and MongoDB URI', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    const full = {
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 't:7233',
      TEMPORAL_PAYLOAD_KEYS_FILE: '/run/secrets/temporal-payload-keys',
      MONGODB_URI: 'mongodb://m/x',
      AGENT_TOKENS: 'a'.repeat(20),
      ADAPTOR_TOKENS: 'b'.repeat(20),
      OPS_TOKENS: 'c'.repeat(20),
    };
    expect(loadConfig(full).env).toBe('production');
    expect(() => loadConfig({ ...full, AGENT_TOKENS: 'agent-dev-token' })).toThrow(/development tokens/);
    expect(() => loadConfig({ ...full, OPS_TOKENS: 'short' })).toThrow(ConfigError);
    // Admin tokens are optional in production, but held to the same rules when given.
    expect(loadConfig({ ...full, ADMIN_TOKENS: 'd'.repeat(20) }).tokens.admin).toEqual(['d'.repeat(20)]);
    expect(() => loadConfig({ ...full, ADMIN_TOKENS: 'admin-dev-token' })).toThrow(/development tokens/);
    expect(() => loadConfig({ ...full, ADMIN_TOKENS: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...full, TEMPORAL_PAYLOAD_KEYS_FILE: '' })).toThrow(/TEMPORAL_PAYLOAD_KEYS_FILE/);
  });

  it('scopes adaptor tokens to warehouses with token:WAREHOUSE, and keeps plain tokens for every warehouse', () => {
    const c = loadConfig({ ADAPTOR_TOKENS: 'all-warehouses-token,north-token-00000:WH-NORTH,two-token-000000:WH-NORTH,two-token-000000:WH-SOUTH' });
    expect(c.tokens.adaptor.sort()).toEqual(['all-warehouses-token', 'north-token-00000', 'two-token-000000']);
    expect(c.adaptorScopes).toEqual({ 'north-token-00000': ['WH-NORTH'], 'two-token-000000': ['WH-NORTH', 'WH-SOUTH'] });
    expect(() => loadConfig({ ADAPTOR_TOKENS: 'x-token:WH-EAST' })).toThrow(/WH-EAST/);
    const prod = {
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 't:7233',
      TEMPORAL_PAYLOAD_KEYS_FILE: '/k',
      MONGODB_URI: 'mongodb://m/x',
      AGENT_TOKENS: 'a'.repeat(20),
      OPS_TOKENS: 'c'.repeat(20),
    };
    expect(() => loadConfig({ ...prod, ADAPTOR_TOKENS: 'short:WH-NORTH' })).toThrow(/shorter than 16/);
    expect(loadConfig({ ...prod, ADAPTOR_TOKENS: `${'b'.repeat(20)}:WH-NORTH` }).adaptorScopes).toEqual({ ['b'.repeat(20)]: ['WH-NORTH'] });
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

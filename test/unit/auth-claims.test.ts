// The roles claim as IdPs shape it: a list (`roles`), a space-separated string, or nested
// (Keycloak's `realm_access.roles`), found by OIDC_ROLE_CLAIM's dotted path.
import { describe, expect, it } from 'vitest';
import { claimValues, principalOf } from '../../api/auth';
import { loadConfig } from '../../infra/config';

describe('claimValues', () => {
  it('reads a list, a space-separated string, and a nested path', () => {
    expect(claimValues({ roles: ['agent', 'ops'] }, 'roles')).toEqual(['agent', 'ops']);
    expect(claimValues({ roles: 'agent  ops' }, 'roles')).toEqual(['agent', 'ops']);
    expect(claimValues({ realm_access: { roles: ['ops', 'offline_access'] } }, 'realm_access.roles')).toEqual(['ops', 'offline_access']);
  });

  it('finds nothing where the claim is missing or not strings', () => {
    expect(claimValues({}, 'roles')).toEqual([]);
    expect(claimValues({ roles: 5 }, 'roles')).toEqual([]);
    expect(claimValues({ roles: ['agent', 5, null] }, 'roles')).toEqual(['agent']);
    expect(claimValues({ realm_access: 'ops' }, 'realm_access.roles')).toEqual([]);
    expect(claimValues({ 'realm_access.roles': ['ops'] }, 'realm_access.roles')).toEqual([]);
  });
});

describe('static tokens', () => {
  it('record a fixed person: the dev identity for a dev token, the place in the list for another', async () => {
    const config = loadConfig({ NODE_ENV: 'test', OPS_TOKENS: 'first-ops-token-0000,second-ops-token-000' });
    expect(await principalOf(config, 'Bearer agent-dev-token')).toEqual({ subject: 'dev-agent', name: 'Dev Agent', roles: ['agent'], warehouses: null });
    expect(await principalOf(config, 'Bearer second-ops-token-000')).toMatchObject({ subject: 'ops-token-2', name: null, roles: ['ops'] });
    // Without an issuer a JWT-shaped token is simply not a token.
    expect(await principalOf(config, 'Bearer a.b.c')).toBeNull();
    expect(await principalOf(config, 'Basic agent-dev-token')).toBeNull();
  });
});

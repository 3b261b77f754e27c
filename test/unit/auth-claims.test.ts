// The roles claim as IdPs shape it: a list (`roles`), a space-separated string, or nested
// (Keycloak's `realm_access.roles`), found by OIDC_ROLE_CLAIM's dotted path.
import { describe, expect, it } from 'vitest';
import { claimValues } from '../../api/auth';

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

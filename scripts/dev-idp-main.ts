// The development identity provider process (`npm start`): demo people and clients in README.md.
import { loadConfig } from '../infra/config';
import { logReady } from '../infra/log';
import { AGENTVIEW_CLIENT_ID, DEV_MACHINE_CLIENTS, DEV_USERS, startDevIdp } from './dev-idp';

const config = loadConfig();
const idp = await startDevIdp({
  port: config.devIdpPort,
  audience: config.oidc?.audience ?? 'hardware-orders',
  // AgentView's client, for a browser sign-in against this provider (README "Sign-in").
  redirectUris: [`http://localhost:${config.port}/auth/callback`, `http://127.0.0.1:${config.port}/auth/callback`],
});
logReady('dev-idp', {
  issuer: idp.issuer,
  users: Object.keys(DEV_USERS).join(', '),
  clients: [AGENTVIEW_CLIENT_ID, ...Object.keys(DEV_MACHINE_CLIENTS)].join(', '),
});
const stop = () => void idp.stop().finally(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

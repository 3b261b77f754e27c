// The manufacturer simulator process (Apple, Android zero-touch and Knox reseller interfaces).
import { loadConfig } from '../infra/config';
import { ManufacturerSimulator } from './manufacturer';
import { logReady } from '../infra/log';

const config = loadConfig();
const s = config.manufacturerSimulator;
const sim = new ManufacturerSimulator({
  seed: s.seed,
  invalidIdRate: s.invalidIdRate,
  otherCustomerRate: s.otherCustomerRate,
  processingPolls: s.processingPolls,
  limits: config.enrolment.batchLimits,
});
await sim.listen(s.port);
// dev: no authentication enforced here (no mTLS for Apple, no OAuth tokens); the tests run the
// simulator with each programme's authentication (test/integration/manufacturer-auth.test.ts).
logReady('manufacturer-simulator', { url: `http://127.0.0.1:${s.port}`, apis: 'apple, google, samsung reseller APIs (dev: no authentication, no mTLS)' });
const stop = () => void sim.stop().finally(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

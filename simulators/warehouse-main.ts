// The warehouse simulator process (started by `npm start`).
import { loadConfig } from '../infra/config';
import { WarehouseSimulator } from './warehouse';
import { logReady } from '../infra/log';

const config = loadConfig();
const sim = new WarehouseSimulator({
  dataDir: config.dataDir,
  warehouseIds: config.warehouses.ids,
  seed: config.warehouseSimulator.seed,
  errorRate: config.warehouseSimulator.errorRate,
  outOfStockRate: config.warehouseSimulator.outOfStockRate,
  replenishPerMinute: config.warehouseSimulator.replenishPerMinute,
  pollMs: 1000,
});
await sim.listen(config.warehouseSimulator.port);
sim.start();
logReady('warehouse-simulator', { warehouses: config.warehouses.ids, stockApi: `http://127.0.0.1:${config.warehouseSimulator.port}` });
const stop = () => void sim.stop().finally(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

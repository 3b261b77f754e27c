// The order process's side effects: thin, typed, idempotent adapters over MongoDB, the warehouses,
// the fraud provider, billing and Temporal itself. Built from their dependencies by the worker.
import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { FraudProvider } from '../infra/fraud-providers';
import type { StockClient } from '../infra/stock-client';
import type { WarehouseTransport } from '../infra/warehouse-transport';
import { billingActivities, MongoLedger } from './billing';
import { dispatchActivities } from './dispatch';
import { enrolmentActivities } from './enrolment';
import { fraudActivities } from './fraud';
import { orderViewWriter } from '../infra/store/order-views';
import { orderActivities } from './orders';
import { reconciliationActivities } from './reconciliation';
import { salesOrderRequestActivities } from './sales-order-request';
import { returnActivities } from './returns';
import { warehouseActivities } from './warehouse';

export interface ActivityDeps {
  config: Config;
  db: Db;
  temporal: Client;
  fraudProvider: FraudProvider;
  transport: WarehouseTransport;
  /** null when this deployment is not connected to warehouses. */
  stock: StockClient | null;
}

export function createActivities(deps: ActivityDeps) {
  // One writer: the reconciliation's repairs queue behind the order workflows' own projection writes.
  const writeOrderView = orderViewWriter(deps.db);
  const ledger = new MongoLedger(deps.db);
  // The fraud policy is asked only with the stock (prepareSalesOrderRequest), not as a step of its own.
  const { assessFraudRisk, ...fraudChecks } = fraudActivities(deps);
  const warehouse = warehouseActivities(deps);
  return {
    ...orderActivities(deps, writeOrderView, ledger),
    ...fraudChecks,
    ...warehouse,
    ...salesOrderRequestActivities(assessFraudRisk, warehouse),
    ...dispatchActivities(deps),
    ...enrolmentActivities(deps),
    ...billingActivities(deps, ledger),
    ...returnActivities(deps),
    ...reconciliationActivities(deps, writeOrderView),
  };
}

export type Activities = ReturnType<typeof createActivities>;

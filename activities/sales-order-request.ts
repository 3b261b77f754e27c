// The Sales Order Request job's first step: the fraud policy's verdict and the warehouses' stock,
// asked together, in one local activity where there were two. The workflow uses the stock answer
// once the fraud check has passed (workflows/order/sales-order-request.ts).
import type { AllocationLine } from '../domain/allocation';
import type { fraudActivities } from './fraud';
import type { warehouseActivities } from './warehouse';

type AssessFraudRisk = ReturnType<typeof fraudActivities>['assessFraudRisk'];

export function salesOrderRequestActivities(assessFraudRisk: AssessFraudRisk, warehouse: ReturnType<typeof warehouseActivities>) {
  return {
    /** The fraud policy (when the job checks fraud) and the allocation from stock (when lines go to a warehouse). */
    async prepareSalesOrderRequest(input: { fraudRisk: Parameters<AssessFraudRisk>[0] | null; lines: AllocationLine[] }) {
      const [fraudPolicy, allocation] = await Promise.all([
        input.fraudRisk ? assessFraudRisk(input.fraudRisk) : null,
        input.lines.length ? warehouse.allocateWarehouses({ lines: input.lines }) : null,
      ]);
      return { fraudPolicy, allocation };
    },
  };
}

// The warehouses' stock interface. The built-in client speaks the warehouse simulator's HTTP API;
// an operator plugs in their 3PL's stock API by implementing StockClient.
export interface WarehouseStock {
  warehouseId: string;
  /** Present when this warehouse answered. */
  items?: { sku: string; available: number }[];
  /** Present when it did not (timeout, down, bad answer). */
  error?: { code: 'WAREHOUSE_TIMEOUT' | 'WAREHOUSE_UNAVAILABLE'; message: string };
}

export interface StockClient {
  readonly warehouseIds: string[];
  check(skus: string[], warehouseIds?: string[]): Promise<WarehouseStock[]>;
}

export class HttpStockClient implements StockClient {
  constructor(
    private readonly baseUrl: string,
    readonly warehouseIds: string[],
    private readonly timeoutMs: number,
  ) {}

  async check(skus: string[], warehouseIds = this.warehouseIds): Promise<WarehouseStock[]> {
    return Promise.all(warehouseIds.map((id) => this.checkOne(id, skus)));
  }

  private async checkOne(warehouseId: string, skus: string[]): Promise<WarehouseStock> {
    const qs = new URLSearchParams(skus.map((s): [string, string] => ['sku', s]));
    const url = `${this.baseUrl}/warehouses/${encodeURIComponent(warehouseId)}/stock?${qs}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) return { warehouseId, error: { code: 'WAREHOUSE_UNAVAILABLE', message: `warehouse ${warehouseId} answered HTTP ${res.status}` } };
      const body = (await res.json()) as { items?: { sku: string; available: number }[] };
      if (!Array.isArray(body.items))
        return { warehouseId, error: { code: 'WAREHOUSE_UNAVAILABLE', message: `warehouse ${warehouseId} sent an unreadable stock answer` } };
      return { warehouseId, items: body.items.filter((i) => typeof i.sku === 'string' && Number.isInteger(i.available)) };
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return timeout
        ? { warehouseId, error: { code: 'WAREHOUSE_TIMEOUT', message: `warehouse ${warehouseId} did not answer within ${this.timeoutMs} ms` } }
        : { warehouseId, error: { code: 'WAREHOUSE_UNAVAILABLE', message: `warehouse ${warehouseId} is unreachable` } };
    }
  }
}

// Moved to infra/store/dispatch-rows.ts; kept for chaos/harness.ts until it imports from there.
export { readDispatchRows } from './store/dispatch-rows';

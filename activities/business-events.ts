// Business events worth an alert, counted through Temporal's metric meter: Core exports them on
// the worker's Prometheus endpoint (WORKER_CORE_METRICS_ADDRESS) next to the SDK's own metrics,
// tagged with the activity type and task queue. Counted where the event takes effect (a charge
// stored, not one found stored by a retry), so a retried activity does not count twice.
import { Context } from '@temporalio/activity';

function count(name: string, description: string, tags: Record<string, string>, n = 1): void {
  if (n <= 0) return;
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return; // called outside an activity (a test driving the ledger directly): nothing to export to
  }
  context.metricMeter.createCounter(name, 'events', description).add(n, tags);
}

export const businessEvents = {
  chargesRecorded: (n: number, billingMode: string) => count('charges_recorded', 'Charges stored, by billing mode', { billing_mode: billingMode }, n),
  invoiceIssued: (kind: string) => count('invoices_issued', 'Invoices issued, by kind (offCycle, cycle)', { kind }),
  creditNoteIssued: () => count('credit_notes_issued', 'Credit notes issued for received returns', {}),
  enrolmentResult: (action: string, status: string) =>
    count('enrolment_results', 'Device enrolment and unenrolment results from the manufacturers, by action and status', { action, status }),
};

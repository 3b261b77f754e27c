// AgentView's screens as server-rendered shells: headings, forms with labels and empty regions
// that the browser code (api/ui/client/) fills from the public API.
import type { FC } from 'hono/jsx';
import { RETURN_REASON_LABELS, STATUS_LABELS } from '../../domain/labels';
import { RETURN_REASONS } from '../../domain/returns';
import { ORDER_STATUSES } from '../../domain/types';
import { Field, Layout } from './layout';

const KINDS = [
  ['', 'All kinds'],
  ['handset', 'Handsets'],
  ['peripheral', 'Peripherals'],
  ['softwareLicence', 'Software licences'],
] as const;

const PROGRAMMES = [
  ['apple', 'Apple organisation id'],
  ['google', 'Android zero-touch customer id'],
  ['samsung', 'Samsung Knox customer id'],
] as const;

export const SignInPage: FC<{ oidc: boolean; next: string }> = ({ oidc, next }) => (
  <Layout title="Sign in" page="signin" data={oidc ? { 'oidc-sign-in': 'on' } : {}}>
    <section class="card narrow">
      <h1>Sign in</h1>
      {oidc && (
        <p>
          {/* A plain link: the provider's sign-in works before (and without) the page's script. */}
          <a id="oidc-sign-in" class="button" href={`/auth/signin?next=${encodeURIComponent(next)}`}>
            Sign in with your organisation account
          </a>
        </p>
      )}
      <p>
        {oidc ? 'Or paste' : 'Paste'} your access token (or, in development, a dev token such as <code>agent-dev-token</code>). It is kept only for this browser
        tab; the order history names the person the token belongs to.
      </p>
      {/* POST and no name on the token field: a submit before the script loads sends no token anywhere. */}
      <form id="signin-form" method="post" action="/signin" novalidate>
        <Field id="token" label="Access token">
          <input id="token" type="password" autocomplete="off" required />
        </Field>
        <button type="submit">Sign in</button>
      </form>
    </section>
  </Layout>
);

export const AccountsPage: FC = () => (
  <Layout title="Find an account" page="accounts" nav="accounts">
    <h1>Find an account</h1>
    <form id="account-search" class="inline card" role="search">
      <Field id="account-query" label="Account id or name">
        <input id="account-query" name="query" type="search" required maxlength={60} placeholder="ACC-1001 or Alice" />
      </Field>
      <button type="submit">Find</button>
    </form>
    <section aria-labelledby="results-h">
      <h2 id="results-h" class="visually-hidden">
        Matching accounts
      </h2>
      <div id="account-results"></div>
    </section>
  </Layout>
);

export const AccountPage: FC<{ accountId: string }> = ({ accountId }) => (
  <Layout title={accountId} page="account" nav="accounts" data={{ 'account-id': accountId }}>
    <div class="page-head">
      <h1>
        Account <span id="account-title">{accountId}</span>
      </h1>
      <button type="button" id="new-order">
        Start a new order
      </button>
    </div>
    <section class="card" aria-labelledby="acc-h">
      <h2 id="acc-h">Details</h2>
      <dl id="account-details" class="details"></dl>
    </section>
    <section class="card" aria-labelledby="orders-h">
      <div class="section-head">
        <h2 id="orders-h">Orders</h2>
        <Field id="status-filter" label="Status" class="compact">
          <select id="status-filter">
            <option value="">All statuses</option>
            {ORDER_STATUSES.map((s) => (
              <option value={s}>{STATUS_LABELS[s]}</option>
            ))}
          </select>
        </Field>
      </div>
      <table id="orders" class="data">
        <thead>
          <tr>
            <th scope="col">Order</th>
            <th scope="col">Created</th>
            <th scope="col">Status</th>
            <th scope="col">Lines</th>
            <th scope="col" class="num">
              Total
            </th>
          </tr>
        </thead>
        <tbody></tbody>
      </table>
      <p id="orders-empty" class="muted" hidden>
        No orders.
      </p>
      <button type="button" id="orders-more" class="secondary" hidden>
        Show older orders
      </button>
    </section>
    <section class="card" aria-labelledby="billing-h">
      <h2 id="billing-h">Charges, invoices and credits</h2>
      <div id="account-billing">
        <p class="muted">Loading…</p>
      </div>
    </section>
  </Layout>
);

export const OrderPage: FC<{ orderId: string }> = ({ orderId }) => (
  <Layout title={orderId} page="order" nav="accounts" data={{ 'order-id': orderId }}>
    <div class="page-head">
      <div>
        <h1>
          Order {orderId} <span id="order-status" class="badge"></span>
        </h1>
        <p id="order-meta" class="muted"></p>
      </div>
    </div>
    <div id="order-actions" class="action-bar" aria-label="Order actions" role="group">
      <button type="button" id="check-stock" class="secondary" hidden>
        Check stock
      </button>
      <button type="button" id="generate" hidden>
        Generate order
      </button>
      <form id="cancel-form" class="inline" hidden>
        <Field id="cancel-reason" label="Cancellation reason" class="inline-field">
          <input id="cancel-reason" name="reason" type="text" maxlength={200} value="customer changed their mind" required />
        </Field>
        <button type="submit" class="danger">
          Cancel order
        </button>
      </form>
      <a id="temporal-link" class="button secondary" hidden target="_blank" rel="noopener">
        Workflow in Temporal UI
      </a>
    </div>
    <div class="columns">
      <div class="col">
        <section class="card" aria-labelledby="lines-h">
          <h2 id="lines-h">Lines</h2>
          <table id="lines" class="data">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Product</th>
                <th scope="col">Quantity</th>
                <th scope="col">Enrolment</th>
                <th scope="col" class="num">
                  Unit price
                </th>
                <th scope="col" class="num">
                  Net
                </th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody></tbody>
          </table>
          <p id="lines-empty" class="muted" hidden>
            No lines yet: add products from the catalogue.
          </p>
          <dl id="totals" class="totals" aria-live="polite">
            <dt>Net</dt>
            <dd id="total-net"></dd>
            <dt>Tax</dt>
            <dd id="total-tax"></dd>
            <dt>Total</dt>
            <dd id="total-gross"></dd>
          </dl>
        </section>
        <section class="card" id="catalogue-section" aria-labelledby="cat-h" hidden>
          <h2 id="cat-h">Add products</h2>
          <form id="catalogue-search" class="inline" role="search">
            <Field id="catalogue-kind" label="Kind" class="compact">
              <select id="catalogue-kind" name="kind">
                {KINDS.map(([v, l]) => (
                  <option value={v}>{l}</option>
                ))}
              </select>
            </Field>
            <Field id="catalogue-q" label="Search the catalogue" class="compact">
              <input id="catalogue-q" name="q" type="search" maxlength={60} placeholder="SKU or name" />
            </Field>
            <button type="submit" class="secondary">
              Search
            </button>
          </form>
          <table id="catalogue" class="data">
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col" class="num">
                  Price
                </th>
                <th scope="col">Quantity</th>
                <th scope="col">Enrolment</th>
                <th scope="col">
                  <span class="visually-hidden">Add</span>
                </th>
              </tr>
            </thead>
            <tbody></tbody>
          </table>
        </section>
        <section class="card" id="stock-section" aria-labelledby="stock-h" hidden>
          <h2 id="stock-h">Stock</h2>
          <div id="stock-result"></div>
        </section>
      </div>
      <div class="col" id="side">
        <section class="card" aria-labelledby="progress-h">
          <h2 id="progress-h">Progress</h2>
          <p id="order-error" class="error-box" hidden></p>
          <p id="order-attention" class="warn" hidden></p>
          <form id="ops-actions" class="inline" hidden>
            <Field id="ops-action" label="Ops action" class="compact">
              <select id="ops-action" name="action"></select>
            </Field>
            <Field id="ops-reason" label="Reason" class="compact">
              <input id="ops-reason" name="reason" required maxlength={500} placeholder="why (kept in the history)" />
            </Field>
            <button type="submit" class="secondary">
              Apply
            </button>
          </form>
          <ol id="timeline" class="timeline"></ol>
          <form id="note-form" class="note-form">
            <Field id="note-text" label="Add a note (kept in the history with your name)">
              <textarea id="note-text" name="text" required maxlength={1000} rows={2} placeholder="e.g. customer called about delivery"></textarea>
            </Field>
            <button type="submit" class="secondary">
              Add note
            </button>
          </form>
        </section>
        <section class="card" aria-labelledby="fraud-h">
          <h2 id="fraud-h">Fraud check</h2>
          <div id="fraud"></div>
        </section>
        <section class="card" aria-labelledby="sub-h">
          <h2 id="sub-h">Warehouse sub-orders and dispatched units</h2>
          <div id="suborders"></div>
        </section>
        <section class="card" aria-labelledby="enrol-h" id="enrolment-section" hidden>
          <h2 id="enrol-h">Device enrolment</h2>
          <div id="enrolment"></div>
          <form id="enrolment-form" hidden>
            <p class="muted">The customer's id in each programme the lines ask for; needed before the order is generated.</p>
            {PROGRAMMES.map(([m, label]) => (
              <Field id={`enrol-${m}`} label={label}>
                <input id={`enrol-${m}`} name={m} maxlength={64} pattern="[A-Za-z0-9._:\-]{1,64}" />
              </Field>
            ))}
            <button type="submit" class="secondary">
              Save programme ids
            </button>
            <p id="enrolment-recorded" class="muted" role="status"></p>
          </form>
          <div id="enrolment-devices"></div>
          <form id="later-enrolment-form" hidden>
            <h3>Enrol shipped devices</h3>
            <p class="muted">The devices a line shipped, in a programme its product supports; devices already enrolled there are not asked for again.</p>
            <Field id="later-line" label="Line to enrol">
              <select id="later-line" name="line"></select>
            </Field>
            <fieldset id="later-devices">
              <legend>Devices</legend>
            </fieldset>
            <Field id="later-programme" label="Programme">
              <select id="later-programme" name="programme"></select>
            </Field>
            <Field id="later-customer-id" label="Customer id in the programme">
              <input id="later-customer-id" name="customerId" maxlength={64} pattern="[A-Za-z0-9._:\-]{1,64}" required />
            </Field>
            <button type="submit" class="secondary">
              Enrol devices
            </button>
          </form>
          <form id="unenrol-form" hidden>
            <h3>Unenrol a device</h3>
            <Field id="unenrol-device" label="Enrolled device">
              <select id="unenrol-device" name="device"></select>
            </Field>
            <Field id="unenrol-reason" label="Unenrolment reason">
              <input id="unenrol-reason" name="reason" maxlength={200} required placeholder="returned, sold, lost…" />
            </Field>
            <button type="submit" class="secondary">
              Unenrol device
            </button>
          </form>
        </section>
        <section class="card" aria-labelledby="returns-h" id="returns-section" hidden>
          <h2 id="returns-h">Returns</h2>
          <div id="returns"></div>
          <form id="return-form" hidden>
            <h3>Return units</h3>
            <p class="muted">Shipped devices (by IMEI or serial number) and licence keys not already in a return.</p>
            <fieldset id="return-units">
              <legend>Units coming back</legend>
            </fieldset>
            <Field id="return-reason" label="Return reason">
              <select id="return-reason" name="reason">
                {RETURN_REASONS.map((r) => (
                  <option value={r}>{RETURN_REASON_LABELS[r]}</option>
                ))}
              </select>
            </Field>
            <Field id="return-note" label="Return note">
              <input id="return-note" name="note" maxlength={1000} />
            </Field>
            <label class="radio">
              <input id="return-exchange" type="checkbox" name="exchange" /> Exchange: a replacement order with the same lines (faulty or wrong item only)
            </label>
            <button type="submit" class="secondary">
              Return units
            </button>
          </form>
        </section>
        <section class="card" aria-labelledby="charges-h">
          <h2 id="charges-h">Charges and invoice</h2>
          <div id="charges"></div>
        </section>
        <section class="card order-edit" aria-labelledby="delivery-h">
          <h2 id="delivery-h">Delivery</h2>
          <address id="delivery-summary" hidden></address>
          <form id="delivery-form">
            <fieldset id="delivery-fields">
              <legend class="visually-hidden">Delivery contact and address</legend>
              <div class="grid2">
                <Field id="d-name" label="Contact name">
                  <input id="d-name" name="name" required maxlength={100} autocomplete="name" />
                </Field>
                <Field id="d-phone" label="Phone">
                  <input id="d-phone" name="phone" type="tel" maxlength={32} autocomplete="tel" />
                </Field>
                <Field id="d-email" label="Email" class="span2">
                  <input id="d-email" name="email" type="email" maxlength={254} autocomplete="email" />
                </Field>
                <Field id="d-line1" label="Address line 1" class="span2">
                  <input id="d-line1" name="line1" required maxlength={100} autocomplete="address-line1" />
                </Field>
                <Field id="d-line2" label="Address line 2" class="span2">
                  <input id="d-line2" name="line2" maxlength={100} autocomplete="address-line2" />
                </Field>
                <Field id="d-city" label="Town or city">
                  <input id="d-city" name="city" required maxlength={60} autocomplete="address-level2" />
                </Field>
                <Field id="d-region" label="County or region">
                  <input id="d-region" name="region" maxlength={60} autocomplete="address-level1" />
                </Field>
                <Field id="d-postcode" label="Postcode">
                  <input id="d-postcode" name="postcode" required maxlength={16} autocomplete="postal-code" />
                </Field>
                <Field id="d-country" label="Country code">
                  <input id="d-country" name="country" required maxlength={2} pattern="[A-Za-z]{2}" autocomplete="country" />
                </Field>
              </div>
              <div class="actions">
                <button type="submit">Save delivery</button>
                <button type="button" id="delivery-from-account" class="secondary">
                  Use the account's contact
                </button>
              </div>
            </fieldset>
          </form>
        </section>
        <section class="card order-edit" aria-labelledby="billing-mode-h">
          <h2 id="billing-mode-h">Billing</h2>
          <fieldset id="billing-mode">
            <legend>When is the customer charged?</legend>
            <label class="radio">
              <input type="radio" name="billingMode" value="immediate" /> Bill immediately on completion
            </label>
            <label class="radio">
              <input type="radio" name="billingMode" value="nextInvoice" /> On the next regular invoice
            </label>
          </fieldset>
        </section>
      </div>
    </div>
  </Layout>
);

export const StockPage: FC = () => (
  <Layout title="Stock check" page="stock" nav="stock">
    <h1>Stock check</h1>
    <form id="stock-form" class="card">
      <Field id="stock-skus" label="SKUs" hint="One per line or comma separated; SKU or SKU:QUANTITY (quantity defaults to 1).">
        <textarea
          id="stock-skus"
          name="skus"
          rows={4}
          required
          aria-describedby="stock-skus-hint"
          placeholder={'HS-APL-IP16-128:2\nPR-APL-USBC-20W'}
        ></textarea>
      </Field>
      <Field id="stock-warehouse" label="Preferred warehouse (optional)">
        <input id="stock-warehouse" name="warehouse" maxlength={40} placeholder="WH-NORTH" />
      </Field>
      <button type="submit">Check stock</button>
    </form>
    <section class="card" aria-labelledby="stock-h">
      <h2 id="stock-h">Result</h2>
      <div id="stock-result">
        <p class="muted">No check run yet.</p>
      </div>
    </section>
  </Layout>
);

export const WorkQueuePage: FC = () => (
  <Layout title="Work queue" page="work-queue" nav="queue">
    <h1>Work queue</h1>
    <p class="muted">Everything waiting for ops, oldest first: flagged orders, adaptor exceptions and failed device enrolments.</p>
    <div id="queue-tabs" class="tabs" role="tablist" aria-label="Kinds of work"></div>
    <div id="queue-items" role="tabpanel"></div>
    <button type="button" id="queue-more" class="secondary" hidden>
      Show more
    </button>
  </Layout>
);

export const FraudReviewsPage: FC = () => (
  <Layout title="Fraud reviews" page="fraud-reviews" nav="fraud">
    <h1>Fraud review queue</h1>
    <p class="muted">Orders the fraud check referred for a human decision. Approving sends the order to the warehouse; rejecting ends it in Error.</p>
    <div id="fraud-queue"></div>
  </Layout>
);

export const ExceptionsPage: FC = () => (
  <Layout title="Adaptor exceptions" page="exceptions" nav="exceptions">
    <h1>Adaptor exceptions</h1>
    <p class="muted">
      Warehouse response rows that could not be applied to an order (unknown or closed orders). Reapply a row to its order (give the order id when the warehouse
      got it wrong), or dismiss it with a reason.
    </p>
    <p id="exc-batch" class="muted"></p>
    <form id="exceptions-filter" class="inline card">
      <Field id="exc-warehouse" label="Warehouse" class="compact">
        <input id="exc-warehouse" name="warehouseId" maxlength={40} placeholder="any" />
      </Field>
      <Field id="exc-state" label="Show" class="compact">
        <select id="exc-state" name="state">
          <option value="unresolved">Open</option>
          <option value="resolved">Resolved</option>
          <option value="all">All</option>
        </select>
      </Field>
      <button type="submit" class="secondary">
        Filter
      </button>
    </form>
    <div id="exceptions"></div>
    <button type="button" id="exceptions-more" class="secondary" hidden>
      More exceptions
    </button>
  </Layout>
);

export const BatchesPage: FC = () => (
  <Layout title="Warehouse batches" page="batches" nav="batches">
    <h1>Warehouse batches</h1>
    <p class="muted">Response files taken in from the warehouses, newest first. Open a batch's rejected rows, or its exceptions.</p>
    <form id="batches-filter" class="inline card">
      <Field id="batch-warehouse" label="Warehouse" class="compact">
        <input id="batch-warehouse" name="warehouseId" maxlength={40} placeholder="any" />
      </Field>
      <Field id="batch-outcome" label="Outcome" class="compact">
        <select id="batch-outcome" name="outcome">
          <option value="">any</option>
          <option value="running">running</option>
          <option value="applied">applied</option>
          <option value="partial">partial</option>
        </select>
      </Field>
      <button type="submit" class="secondary">
        Filter
      </button>
    </form>
    <section class="card">
      <div class="table-wrap">
        <table id="batches" class="data">
          <caption class="visually-hidden">Warehouse batches</caption>
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Warehouse</th>
              <th scope="col">File</th>
              <th scope="col">Outcome</th>
              <th scope="col" class="num">
                Rows
              </th>
              <th scope="col" class="num">
                Valid
              </th>
              <th scope="col" class="num">
                Rejected
              </th>
              <th scope="col" class="num">
                Exceptions
              </th>
              <th scope="col" class="num">
                Orders
              </th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>
      <p id="batches-empty" class="muted" hidden>
        No batches.
      </p>
      <button type="button" id="batches-more" class="secondary" hidden>
        More batches
      </button>
    </section>
    <section id="rejected-rows" class="card" aria-labelledby="rejected-h" hidden></section>
  </Layout>
);

export const AuditPage: FC = () => (
  <Layout title="Audit" page="audit" nav="audit">
    <h1>Audit</h1>
    <p class="muted">One person's actions on orders (edits, generations, cancellations, fraud reviews, resubmits, notes…), oldest first.</p>
    <form id="audit-filter" class="inline card">
      <Field id="audit-actor" label="Person (as the history names them)" class="compact">
        <input id="audit-actor" name="actor" required maxlength={200} placeholder="agent:csa-17" />
      </Field>
      <Field id="audit-from" label="From" class="compact">
        <input id="audit-from" name="from" type="date" />
      </Field>
      <Field id="audit-to" label="To" class="compact">
        <input id="audit-to" name="to" type="date" />
      </Field>
      <button type="submit" class="secondary">
        Show
      </button>
    </form>
    <section class="card">
      <div class="table-wrap">
        <table id="audit" class="data">
          <caption class="visually-hidden">Actions</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Order</th>
              <th scope="col">What</th>
              <th scope="col">Request</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>
      <p id="audit-empty" class="muted" hidden>
        No actions in this range.
      </p>
      <button type="button" id="audit-more" class="secondary" hidden>
        More
      </button>
    </section>
  </Layout>
);

// The page frame shared by every AgentView screen: header, navigation, the notice area where API
// refusals are shown, and the one client script. Pages hold no customer data: the browser fetches
// it from /api/v1 with the agent's own token, so the UI can never do what the API forbids.
import type { Child, FC, PropsWithChildren } from 'hono/jsx';

export const ASSET_VERSION = '1';

interface LayoutProps {
  title: string;
  /** Which client-side controller runs on this page. */
  page: string;
  /** Non-secret values the controller needs (ids from the URL), as data-* attributes. */
  data?: Record<string, string>;
  /** Marks the current navigation entry. */
  nav?: 'accounts' | 'stock' | 'queue' | 'fraud' | 'exceptions' | 'batches' | 'audit';
}

const NavLink: FC<{ href: string; current: boolean; opsOnly?: boolean; children: Child }> = ({ href, current, opsOnly, children }) => (
  <li {...(opsOnly ? { 'data-ops-only': '', hidden: true } : {})}>
    <a href={href} {...(current ? { 'aria-current': 'page' } : {})}>
      {children}
    </a>
  </li>
);

export const Layout: FC<PropsWithChildren<LayoutProps>> = ({ title, page, data = {}, nav, children }) => {
  const dataAttrs = Object.fromEntries(Object.entries(data).map(([k, v]) => [`data-${k}`, v]));
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · AgentView`}</title>
        <link rel="stylesheet" href={`/ui/agentview.css?v=${ASSET_VERSION}`} />
        <script type="module" src={`/ui/agentview.js?v=${ASSET_VERSION}`}></script>
      </head>
      <body data-page={page} {...dataAttrs}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/accounts">
            AgentView <span>hardware orders</span>
          </a>
          {page !== 'signin' && (
            <>
              <nav aria-label="Main">
                <ul>
                  <NavLink href="/accounts" current={nav === 'accounts'}>
                    Accounts
                  </NavLink>
                  <NavLink href="/stock" current={nav === 'stock'}>
                    Stock check
                  </NavLink>
                  <NavLink href="/ops/queue" current={nav === 'queue'} opsOnly>
                    Work queue
                  </NavLink>
                  <NavLink href="/ops/fraud-reviews" current={nav === 'fraud'} opsOnly>
                    Fraud reviews
                  </NavLink>
                  <NavLink href="/ops/exceptions" current={nav === 'exceptions'} opsOnly>
                    Adaptor exceptions
                  </NavLink>
                  <NavLink href="/ops/batches" current={nav === 'batches'} opsOnly>
                    Warehouse batches
                  </NavLink>
                  <NavLink href="/ops/audit" current={nav === 'audit'} opsOnly>
                    Audit
                  </NavLink>
                </ul>
              </nav>
              {/* Any order by what a customer reads out; the script goes straight to it (search.ts). */}
              <form id="order-search" class="order-search" role="search" action="/accounts">
                <label for="order-search-q" class="visually-hidden">
                  Find an order
                </label>
                <input
                  id="order-search-q"
                  name="q"
                  type="search"
                  required
                  maxlength={64}
                  autocomplete="off"
                  placeholder="Order, IMEI, serial, tracking or invoice number"
                />
                <button type="submit" class="secondary">
                  Go to order
                </button>
                <div id="order-search-results" class="order-search-results" role="region" aria-label="Orders found" hidden></div>
              </form>
              <div class="who">
                <span id="signed-in-as"></span>
                <button type="button" id="sign-out" class="secondary">
                  Sign out
                </button>
              </div>
            </>
          )}
        </header>
        <main id="main" tabindex={-1}>
          <div id="notice" class="notice" role="alert" hidden></div>
          <p id="busy" class="busy" role="status" aria-live="polite"></p>
          {children}
        </main>
      </body>
    </html>
  );
};

/** A labelled form control: the label is always tied to the control by id. */
export const Field: FC<PropsWithChildren<{ id: string; label: string; hint?: string; class?: string }>> = ({ id, label, hint, class: cls, children }) => (
  <div class={`field ${cls ?? ''}`}>
    <label for={id}>{label}</label>
    {children}
    {hint && (
      <small id={`${id}-hint`} class="hint">
        {hint}
      </small>
    )}
  </div>
);

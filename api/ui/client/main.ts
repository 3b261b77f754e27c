// AgentView's client: fills the server-rendered shells (api/ui/pages.tsx) from the public /api/v1
// routes with the agent's bearer token. Every business decision stays in the API: buttons follow
// the order's allowedActions and any refusal is shown as the API's message.
import { initFrame, requireSession } from './frame';
import { showNotice } from './notice';
import { initAccount } from './pages/account';
import { initAccounts } from './pages/accounts';
import { initAudit } from './pages/audit';
import { initBatches } from './pages/batches';
import { initExceptions } from './pages/exceptions';
import { initFraudReviews } from './pages/fraud-reviews';
import { initOrder } from './pages/order';
import { initSignIn } from './pages/signin';
import { initStock } from './pages/stock';
import { initWorkQueue } from './pages/work-queue';
import { session } from './session';

/** By the shell's data-page (Layout's `page`). */
const PAGES: Record<string, () => void | Promise<void>> = {
  accounts: initAccounts,
  account: initAccount,
  order: initOrder,
  stock: initStock,
  'fraud-reviews': initFraudReviews,
  exceptions: initExceptions,
  'work-queue': initWorkQueue,
  batches: initBatches,
  audit: initAudit,
};
const OPS_PAGES = ['work-queue', 'fraud-reviews', 'exceptions', 'batches', 'audit'];

const page = document.body.dataset.page ?? '';
if (page === 'signin') {
  void initSignIn();
} else if (requireSession()) {
  initFrame();
  if (OPS_PAGES.includes(page) && session.role !== 'ops') showNotice('This page is for the ops role.');
  else void PAGES[page]?.();
}

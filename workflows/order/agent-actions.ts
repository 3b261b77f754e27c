// What agents and ops do to an order: workflow updates whose validators ask the domain's rules, so
// a refused action leaves no trace in the history. Each handler changes the order and commits and
// answers with the order's view, which the API keeps for the agent's next read (keepAnswer).
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { DomainError } from '../../domain/errors';
import * as history from '../../domain/order-history';
import * as rules from '../../domain/order-state';
import { checkEnrolmentCustomerIds, checkRequestEnrolment, type EnrolmentCustomerIds } from '../../domain/enrolment';
import {
  addLineUpdate,
  addNoteUpdate,
  cancelUpdate,
  changeLineUpdate,
  fraudReviewUpdate,
  generateUpdate,
  getOrderQuery,
  removeLineUpdate,
  requestEnrolmentUpdate,
  setBillingModeUpdate,
  setDeliveryUpdate,
} from '../messages';
import type { OrderRecord } from './record';

/** The customer's manufacturer programme ids, given on a New order for the lines that ask for enrolment. */
export interface EnrolmentRequest {
  customerIds: EnrolmentCustomerIds;
  requestedBy: string;
}

/** Domain refusals become update failures with the stable code as the failure type. */
export function validate(check: () => unknown): void {
  try {
    check();
  } catch (err) {
    if (err instanceof DomainError) {
      throw ApplicationFailure.create({ type: err.code, message: err.message, details: err.details === undefined ? [] : [err.details], nonRetryable: true });
    }
    throw err;
  }
}

export function handleAgentActions(record: OrderRecord, enrolment: EnrolmentRequest, onCancelled: () => void): void {
  const { order } = record;
  const view = () => record.view();

  setHandler(getOrderQuery, view);

  // Each edit records what it changed, before → after, with who asked and the request.
  setHandler(
    addLineUpdate,
    (req) => {
      const line = rules.applyAddLine(order, req);
      record.commit(history.editEntry(req, history.lineChange(line.lineId, undefined, line)));
      return view();
    },
    { validator: (req) => validate(() => rules.checkAddLine(order, req)) },
  );
  setHandler(
    changeLineUpdate,
    (req) => {
      const before = { ...order.lines.find((l) => l.lineId === req.lineId)! };
      const after = rules.applyChangeLine(order, req);
      record.commit(history.editEntry(req, history.lineChange(req.lineId, before, after)));
      return view();
    },
    { validator: (req) => validate(() => rules.checkChangeLine(order, req)) },
  );
  setHandler(
    removeLineUpdate,
    (req) => {
      const before = order.lines.find((l) => l.lineId === req.lineId);
      rules.applyRemoveLine(order, req.lineId);
      record.commit(history.editEntry(req, history.lineChange(req.lineId, before, undefined)));
      return view();
    },
    { validator: ({ lineId }) => validate(() => rules.checkRemoveLine(order, lineId)) },
  );
  setHandler(
    setDeliveryUpdate,
    (req) => {
      const before = order.delivery;
      rules.applySetDelivery(order, req.delivery);
      record.commit(history.editEntry(req, history.deliveryChange(before, req.delivery)));
      return view();
    },
    { validator: ({ delivery }) => validate(() => rules.checkSetDelivery(order, delivery)) },
  );
  setHandler(
    setBillingModeUpdate,
    (req) => {
      const before = order.billingMode;
      rules.applySetBillingMode(order, req.billingMode);
      record.commit(history.editEntry(req, history.billingModeChange(before, req.billingMode)));
      return view();
    },
    { validator: (_req) => validate(() => rules.checkSetBillingMode(order)) },
  );
  setHandler(
    requestEnrolmentUpdate,
    (req) => {
      const before = { ...enrolment.customerIds };
      Object.assign(enrolment.customerIds, req.customerIds);
      enrolment.requestedBy = req.by;
      record.commit(history.editEntry(req, history.enrolmentIdsChange(before, enrolment.customerIds)));
      return { ...view(), enrolmentCustomerIds: { ...enrolment.customerIds } };
    },
    { validator: ({ customerIds }) => validate(() => checkRequestEnrolment(order, customerIds)) },
  );
  setHandler(
    generateUpdate,
    (req) => (record.move('generate', req.by, 'agent generated the order', history.requestOf(req)), view()),
    // Lines asking for enrolment need the customer's programme id before generation.
    { validator: (_req) => validate(() => (rules.checkGenerate(order), checkEnrolmentCustomerIds(order.lines, enrolment.customerIds))) },
  );
  setHandler(
    cancelUpdate,
    (req) => {
      const outcome = rules.checkCancel(order);
      if (outcome === 'cancelled') {
        record.move('cancel', req.by, req.reason, history.requestOf(req));
        onCancelled();
      } else {
        order.cancellationRequested = true;
        record.commit({ by: req.by, reason: `cancellation requested: ${req.reason}`, ...history.requestOf(req) });
      }
      return { outcome, order: view() };
    },
    { validator: (_req) => validate(() => rules.checkCancel(order)) },
  );
  // A note, in any status while the workflow runs: an entry of its own, status unchanged.
  setHandler(
    addNoteUpdate,
    (req) => {
      const { from: _from, to: _to, at: _at, ...entry } = history.noteEntry(order, req, req.text.trim(), record.now());
      record.commit(entry);
      return view();
    },
    { validator: ({ text }) => validate(() => history.checkAddNote(order.history, order.orderId, text)) },
  );
  setHandler(
    fraudReviewUpdate,
    (req) => {
      const { decision, by, reason } = req;
      order.fraud!.review = { decision, by, reason, at: record.now() };
      record.commit({ by, reason: `fraud review ${decision === 'approve' ? 'approved' : 'rejected'}: ${reason}`, ...history.requestOf(req) });
      return view();
    },
    {
      validator: (_req) =>
        validate(() => {
          if (!order.fraud?.awaitingReview || order.fraud.review || order.status !== 'AwaitingGeneration') {
            throw new DomainError('INVALID_TRANSITION', `order ${order.orderId} is not waiting for a fraud review`);
          }
        }),
    },
  );
}

// What agents and ops do to an order: workflow updates whose validators ask the domain's rules, so
// a refused action leaves no trace in the history. Each handler changes the order and commits;
// the update's answer reaches the agent with the workflow task, after the read model write.
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { DomainError } from '../../domain/errors';
import * as rules from '../../domain/order-state';
import { checkEnrolmentCustomerIds, checkRequestEnrolment, type EnrolmentCustomerIds } from '../../domain/enrolment';
import {
  addLineUpdate,
  cancelUpdate,
  changeLineUpdate,
  fraudReviewUpdate,
  generateUpdate,
  getOrderQuery,
  openedUpdate,
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
  setHandler(openedUpdate, async () => {
    await condition(() => record.hasBeenProjected(1));
    return view();
  });

  setHandler(addLineUpdate, (req) => (rules.applyAddLine(order, req), record.commit(), view()), {
    validator: (req) => validate(() => rules.checkAddLine(order, req)),
  });
  setHandler(changeLineUpdate, (req) => (rules.applyChangeLine(order, req), record.commit(), view()), {
    validator: (req) => validate(() => rules.checkChangeLine(order, req)),
  });
  setHandler(removeLineUpdate, ({ lineId }) => (rules.applyRemoveLine(order, lineId), record.commit(), view()), {
    validator: ({ lineId }) => validate(() => rules.checkRemoveLine(order, lineId)),
  });
  setHandler(setDeliveryUpdate, ({ delivery }) => (rules.applySetDelivery(order, delivery), record.commit(), view()), {
    validator: ({ delivery }) => validate(() => rules.checkSetDelivery(order, delivery)),
  });
  setHandler(setBillingModeUpdate, ({ billingMode }) => (rules.applySetBillingMode(order, billingMode), record.commit(), view()), {
    validator: (_req) => validate(() => rules.checkSetBillingMode(order)),
  });
  setHandler(
    requestEnrolmentUpdate,
    ({ customerIds, by }) => {
      Object.assign(enrolment.customerIds, customerIds);
      enrolment.requestedBy = by;
      record.commit();
      return { ...view(), enrolmentCustomerIds: { ...enrolment.customerIds } };
    },
    { validator: ({ customerIds }) => validate(() => checkRequestEnrolment(order, customerIds)) },
  );
  setHandler(
    generateUpdate,
    ({ by }) => (record.move('generate', by, 'agent generated the order'), view()),
    // Lines asking for enrolment need the customer's programme id before generation.
    { validator: (_req) => validate(() => (rules.checkGenerate(order), checkEnrolmentCustomerIds(order.lines, enrolment.customerIds))) },
  );
  setHandler(
    cancelUpdate,
    ({ by, reason }) => {
      const outcome = rules.checkCancel(order);
      if (outcome === 'cancelled') {
        record.move('cancel', by, reason);
        onCancelled();
      } else {
        order.cancellationRequested = true;
        record.commit({ by, reason: `cancellation requested: ${reason}` });
      }
      return { outcome, order: view() };
    },
    { validator: (_req) => validate(() => rules.checkCancel(order)) },
  );
  setHandler(
    fraudReviewUpdate,
    ({ decision, by, reason }) => {
      order.fraud!.review = { decision, by, reason, at: record.now() };
      record.commit({ by, reason: `fraud review ${decision === 'approve' ? 'approved' : 'rejected'}: ${reason}` });
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

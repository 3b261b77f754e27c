// The kinds of the ops work queue: the flags an order raises for ops (set by the order workflow from
// domain/order-exceptions.ts `needsAttention`, published as the NeedsAttention search attribute and
// the read model's `needsAttention`), unresolved adaptor exceptions and failed enrolments.
// A leaf module: AgentView's browser code imports it too.
export const ATTENTION_FLAGS = ['fraudReview', 'backordered', 'error', 'dispatchOverdue', 'cancellationUnanswered'] as const;
export type AttentionFlag = (typeof ATTENTION_FLAGS)[number];

/** Everything the ops work queue lists. */
export const WORK_QUEUE_KINDS = [...ATTENTION_FLAGS, 'adaptorException', 'enrolmentFailed'] as const;
export type WorkQueueKind = (typeof WORK_QUEUE_KINDS)[number];

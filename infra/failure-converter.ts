// Failure messages and stack traces go into Temporal as an encoded payload, so the payload codec
// seals them like any other data (a message may quote an address). Loaded by path: the workflow
// bundle and every client and worker use this same converter.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

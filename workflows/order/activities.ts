// How the order reaches its activities. A step that may wait on an outside system for long is an
// activity task; a short one on our database (or a quick stock answer) is a local activity, run
// by the worker inside the workflow task: one marker event, no round trip through the server.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { orderStep, projectionWrite } from '../retry-policies';

export const outsideSteps = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: orderStep });
export const localSteps = proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: orderStep });
export const readModel = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: projectionWrite });

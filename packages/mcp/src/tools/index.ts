/** Every tool of the server, in the order they are listed. @internal */
import { alarmCancel, alarmGet, alarmHistory, alarmList, alarmSet, timeParse } from './alarm-tools.js';
import { inboxAck, inboxRead } from './inbox-tools.js';
import type { ToolDef } from './tool.js';
import { workflowGet, workflowList, workflowSignal, workflowStart } from './workflow-tools.js';

export const TOOLS: readonly ToolDef[] = [
  alarmSet,
  alarmList,
  alarmGet,
  alarmCancel,
  alarmHistory,
  timeParse,
  workflowStart,
  workflowSignal,
  workflowGet,
  workflowList,
  inboxRead,
  inboxAck,
];

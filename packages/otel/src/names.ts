/**
 * The names of Vigil's spans, metrics and attributes: one place, so docs/OBSERVABILITY.md, the
 * dashboards built on them and the code cannot disagree.
 */

/** Instrumentation scope of the tracer and the meter. */
export const SCOPE = '@vigil/otel';

/** Span names. */
export const SPAN = {
  set: 'vigil.alarm.set',
  deliver: 'vigil.alarm.deliver',
  run: 'vigil.workflow.run',
  step: 'vigil.workflow.step',
} as const;

/** Metric names (units are given where each is created). */
export const METRIC = {
  lateness: 'vigil.alarm.lateness',
  pending: 'vigil.alarm.pending',
  delivered: 'vigil.alarm.delivered',
  failed: 'vigil.alarm.failed',
  retried: 'vigil.alarm.retried',
  missed: 'vigil.alarm.missed',
  superseded: 'vigil.alarm.superseded',
  restarts: 'vigil.actor.restarts',
  crashes: 'vigil.actor.crashes',
  mailboxDepth: 'vigil.actor.mailbox.depth',
  deadLetters: 'vigil.dead_letters',
} as const;

/** Attribute keys. */
export const ATTR = {
  alarmId: 'vigil.alarm.id',
  target: 'vigil.alarm.target',
  attempt: 'vigil.alarm.attempt',
  lateMs: 'vigil.alarm.lateness_ms',
  actor: 'vigil.actor.name',
  reason: 'vigil.reason',
  runId: 'vigil.workflow.run_id',
  workflow: 'vigil.workflow.name',
  step: 'vigil.workflow.step',
  seq: 'vigil.workflow.seq',
  outcome: 'vigil.workflow.outcome',
  status: 'vigil.workflow.status',
} as const;

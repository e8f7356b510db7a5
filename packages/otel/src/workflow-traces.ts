/**
 * Workflow spans: one trace per run. The run's trace id (and the span id of its virtual root)
 * are derived from the run id, so every step of a run lands in the same trace whichever process
 * life ran it, with nothing stored. Steps are spans under that root; the run span covers
 * `workflow.started` to `workflow.ended` when one process life saw both.
 *
 * The Scheduler's events carry the instant a step's outcome was committed, not when the step
 * began, so a step span starts at the previous event of its run seen by this process (the run's
 * start or the previous step) and ends at its commit: the time the run spent on that step.
 */
import { createHash } from 'node:crypto';
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Runtime } from '@vigil/runtime';
import '@vigil/workflow';
import { ATTR, SPAN } from './names.js';

/** The context of a run's virtual root span: same ids for the same run id, in any process. */
export function runContext(runId: string): Context {
  const hash = createHash('sha256').update(`vigil.workflow.run:${runId}`).digest('hex');
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: hash.slice(0, 32),
    spanId: hash.slice(32, 48),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

const FAILED_OUTCOMES = new Set(['fail', 'error']);

/** Starts the workflow spans; returns the function that removes the listeners. */
export function traceWorkflows(runtime: Runtime, tracer: Tracer): () => void {
  const runs = new Map<string, Span>();
  const lastAt = new Map<string, number>();
  const offs = [
    runtime.events.on('workflow.started', (e) => {
      const span = tracer.startSpan(
        SPAN.run,
        {
          kind: SpanKind.INTERNAL,
          startTime: e.at,
          attributes: { [ATTR.runId]: e.runId, [ATTR.workflow]: e.workflow },
        },
        runContext(e.runId),
      );
      runs.set(e.runId, span);
      lastAt.set(e.runId, e.at);
    }),
    runtime.events.on('workflow.stepped', (e) => {
      const span = tracer.startSpan(
        SPAN.step,
        {
          kind: SpanKind.INTERNAL,
          startTime: lastAt.get(e.runId) ?? e.at,
          attributes: {
            [ATTR.runId]: e.runId,
            [ATTR.workflow]: e.workflow,
            [ATTR.step]: e.step,
            [ATTR.seq]: e.seq,
            [ATTR.attempt]: e.attempt,
            [ATTR.outcome]: e.outcome,
          },
        },
        runContext(e.runId),
      );
      if (FAILED_OUTCOMES.has(e.outcome)) span.setStatus({ code: SpanStatusCode.ERROR, message: e.outcome });
      span.end(e.at);
      lastAt.set(e.runId, e.at);
    }),
    runtime.events.on('workflow.ended', (e) => {
      lastAt.delete(e.runId);
      const span = runs.get(e.runId);
      if (!span) return;
      runs.delete(e.runId);
      span.setAttribute(ATTR.status, e.status);
      if (e.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: e.error ?? 'failed' });
      span.end(e.at);
    }),
  ];
  return () => {
    for (const off of offs) off();
    for (const span of runs.values()) span.end();
    runs.clear();
    lastAt.clear();
  };
}

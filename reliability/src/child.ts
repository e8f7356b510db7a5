/**
 * One life of the process under torture: a runtime with the alarm service and a `Sink` target,
 * driven by the parent (`torture.ts`) over the IPC channel and killed by it with SIGKILL.
 *
 * The parent only ever learns of an alarm through this file's answers, and only after `set`
 * resolved, so its record holds exactly the acknowledged alarms. Everything this life did is
 * appended to the journal, one line per fact, each written by a single `write(2)` so a SIGKILL
 * leaves whole lines (at most the last one torn, which the parent skips):
 *
 *   D <life> <alarmId> <attempt> <deliveredAt> <scheduledFor> <tag> <occurrence>
 *                                                                      a delivery reached the Sink
 *   A <life> <at>                     the Sink's drain turn ended: its replies reach the Alarm now
 *   C <life> <alarmId> <occurrence>                                    its fired mark committed
 *   F <life> <alarmId> <reason>                                        the alarm failed or was missed
 *   W <life> <tag> <step> <seq> <ranAt>                                a workflow step ran
 *   S <life> <tag> <seq>                                               its outcome committed
 *
 * Deliveries are fsynced before the Sink replies: a delivery is on disk before the Alarm can
 * mark it fired. `C` lines need no fsync: they are written after the commit, and a SIGKILL does
 * not lose what the kernel already holds.
 *
 * With `TORTURE_PG_URL` set, the node runs on PostgreSQL (one of several side by side): alarms
 * only, no Scheduler (workflow runs on PostgreSQL are not part of this harness), the parent's
 * lease (`TORTURE_LEASE_MS`) and half of it as the delivery timeout. Several lives
 * append to one journal; each line is one `write(2)` to a file opened with O_APPEND, so lines
 * never interleave.
 */
import fs from 'node:fs';
import { AlarmClient, type AlarmOptions, alarmSupervisor } from '@vigil/alarm';
import { postgresStore } from '@vigil/postgres';
import { createRuntime, reply, worker } from '@vigil/runtime';
import { defineWorkflow, end, next, schedulerWorker, WorkflowClient } from '@vigil/workflow';
import { fromCallback } from 'xstate';
import type { FromChild, ToChild, WhenForm } from './protocol.js';

const dbFile = mustEnv('TORTURE_DB');
const journalFile = mustEnv('TORTURE_JOURNAL');
const life = Number(mustEnv('TORTURE_LIFE'));
const synchronous = process.env.TORTURE_SYNC === 'NORMAL' ? 'NORMAL' : 'FULL';
const pgUrl = process.env.TORTURE_PG_URL;

const journal = fs.openSync(journalFile, 'a');
const write = (line: string, sync = false): void => {
  fs.writeSync(journal, `${line}\n`);
  if (sync) fs.fsyncSync(journal);
};

/**
 * The target: records each delivery durably, then accepts it. A reply reaches the Alarm only
 * after the Sink's whole drain turn (up to a budget of deliveries, each fsynced): the `A` line,
 * written by a microtask queued at the turn's first delivery, marks that instant.
 */
let turnMarked = false;
const sink = fromCallback(({ receive }) => {
  receive((event) => {
    if (!turnMarked) {
      turnMarked = true;
      queueMicrotask(() => {
        turnMarked = false;
        write(`A ${life} ${Date.now()}`);
      });
    }
    const d = event as unknown as {
      tag?: unknown;
      alarm: { alarmId: number; occurrence: number; attempt: number; scheduledFor: number };
    };
    write(
      `D ${life} ${d.alarm.alarmId} ${d.alarm.attempt} ${Date.now()} ${d.alarm.scheduledFor} ${String(d.tag)} ${d.alarm.occurrence}`,
      true,
    );
    reply(event, true);
  });
});

/**
 * A chain of three steps, each `hop` ms after the previous one committed. Each step journals
 * that it ran (fsynced) before returning its outcome, as a step with a side effect would.
 */
const chain = defineWorkflow<{ tag: number; hop: number }>({
  name: 'chain',
  start: 'a',
  steps: {
    a: ({ context, run }) => {
      write(`W ${life} ${context.tag} a ${run.seq} ${Date.now()}`, true);
      return next('b', { after: context.hop });
    },
    b: ({ context, run }) => {
      write(`W ${life} ${context.tag} b ${run.seq} ${Date.now()}`, true);
      return next('c', { after: context.hop });
    },
    c: ({ context, run }) => {
      write(`W ${life} ${context.tag} c ${run.seq} ${Date.now()}`, true);
      return end();
    },
  },
});

const runtime = createRuntime({ callTimeoutMs: 30_000 });
runtime.events.on('alarm.delivered', ({ id, occurrence }) => write(`C ${life} ${id} ${occurrence}`));
runtime.events.on('alarm.failed', ({ id, reason }) => write(`F ${life} ${id} ${oneLine(reason)}`));
runtime.events.on('alarm.missed', ({ id }) => write(`F ${life} ${id} missed`));
runtime.events.on('workflow.stepped', ({ runId, seq }) => write(`S ${life} ${runId.slice(1)} ${seq}`));
runtime.events.on('runtime.fatal', ({ reason }) => {
  write(`X ${life} fatal ${oneLine(JSON.stringify(reason))}`, true);
  process.exit(3);
});

// A short slice so the timer re-reads the wall clock often; a short backoff so a delivery
// refused during a restart comes back quickly. Neither weakens what is checked.
const common: AlarmOptions = {
  sliceMs: 100,
  maxAttempts: 1000,
  backoff: { minMs: 50, maxMs: 1000, factor: 2 },
};
await runtime.start(
  pgUrl
    ? [
        worker('Sink', sink),
        alarmSupervisor({
          ...common,
          store: postgresStore({ connectionString: pgUrl, leaseMs: Number(mustEnv('TORTURE_LEASE_MS')) }),
          // Below the lease by a commit's margin, as the store's docs ask.
          deliveryTimeoutMs: Number(mustEnv('TORTURE_LEASE_MS')) / 2,
        }),
      ]
    : [
        worker('Sink', sink),
        alarmSupervisor({ ...common, db: dbFile, synchronous, pollMs: 0 }),
        // After the alarm service: on start the Scheduler sets again the alarm of every active run.
        schedulerWorker({ db: dbFile, workflows: [chain] }),
      ],
);
const alarms = new AlarmClient(runtime);
const workflows = pgUrl ? undefined : new WorkflowClient(runtime);

process.on('message', (raw) => {
  const msg = raw as ToChild;
  if (msg.op === 'stop') {
    void runtime.stop().then(() => process.exit(0));
    return;
  }
  if (msg.op === 'cancel') {
    alarms.cancel(msg.id).then(
      (alarm) => answer({ op: 'cancelled', req: msg.req, status: alarm?.status ?? null }),
      (err: unknown) =>
        answer({ op: 'nack', req: msg.req, code: String((err as { code?: unknown }).code ?? 'UNKNOWN') }),
    );
    return;
  }
  const nack = (err: unknown) =>
    answer({ op: 'nack', req: msg.req, code: String((err as { code?: unknown }).code ?? 'UNKNOWN') });
  if (msg.op === 'start') {
    if (!workflows) return nack(new Error('no workflows on PostgreSQL'));
    workflows
      .start(chain, { tag: msg.tag, hop: msg.hop }, { runId: `t${msg.tag}`, at: msg.at })
      .then(() => answer({ op: 'ack', req: msg.req, id: 0 }), nack);
    return;
  }
  const options = msg.every === undefined ? undefined : { recurrence: { every: msg.every } };
  alarms
    .set(whenOf(msg.at, msg.form), 'Sink', { tag: msg.tag }, options)
    .then((alarm) => answer({ op: 'ack', req: msg.req, id: alarm.id }), nack);
});
answer({ op: 'ready' });

function answer(msg: FromChild): void {
  // The channel may already be closing if the parent is tearing down; nothing to do then.
  if (process.connected) process.send?.(msg);
}

/** The same instant in each form `set` accepts, so every parsing path is exercised. */
function whenOf(at: number, form: WhenForm): Date | number | string | { at: number } {
  switch (form) {
    case 'date':
      return new Date(at);
    case 'iso':
      return new Date(at).toISOString();
    case 'at':
      return { at };
    default:
      return at;
  }
}

function mustEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * The body of a pool thread: it hosts many isolated actors, each an XState actor created from a
 * module's export, and handles their messages one at a time, in the order they were posted.
 *
 * Before and after each message it tells the main thread ('begin', 'end'), which is all the
 * watchdog needs: a thread that does not say 'end' within the actor's `maxTurnMs` is terminated
 * from outside. A call's copy of the event is registered here as a pending call, so the actor's
 * own `reply(event, value)` / `replyError(event, error)` (from @vigil/runtime, loaded in this
 * thread) answer it, and the answer is posted back to the caller's side.
 */
import { parentPort } from 'node:worker_threads';
import { type AnyActorRef, createActor } from 'xstate';
import { openCall } from '../call.js';
import { systemClock } from '../clock.js';
import { type FromThread, type ToThread, toWire } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('isolation/thread.ts runs in a worker thread');
const post = (m: FromThread) => port.postMessage(m);

interface Hosted {
  name: string;
  ref: AnyActorRef | undefined;
  /** Messages that came while the module was loading, handled once it started. */
  early: Extract<ToThread, { op: 'msg' }>[];
}
const actors = new Map<number, Hosted>();

function handle(key: number, hosted: Hosted, m: Extract<ToThread, { op: 'msg' }>): void {
  const ref = hosted.ref;
  if (!ref) return;
  const type = String((m.message as { type?: unknown }).type);
  post({ op: 'begin', key, seq: m.seq, type });
  if (m.callId !== undefined) {
    const callId = m.callId;
    const { promise } = openCall(
      m.message,
      hosted.name,
      type,
      Number.POSITIVE_INFINITY,
      systemClock,
      () => {},
    );
    promise.then(
      (value) => {
        try {
          post({ op: 'reply', key, callId, value });
        } catch (err) {
          post({ op: 'replyError', key, callId, error: toWire(err) });
        }
      },
      (err: unknown) => post({ op: 'replyError', key, callId, error: toWire(err) }),
    );
  }
  ref.send(m.message as { type: string });
  post({ op: 'end', key, seq: m.seq });
}

async function start(m: Extract<ToThread, { op: 'start' }>): Promise<void> {
  const hosted: Hosted = { name: m.name, ref: undefined, early: [] };
  actors.set(m.key, hosted);
  try {
    const mod = (await import(m.module)) as Record<string, unknown>;
    const logic = mod[m.export];
    if (!logic || typeof logic !== 'object')
      throw new Error(`${m.module} has no export '${m.export}' that is an XState logic`);
    if (actors.get(m.key) !== hosted) return; // stopped while loading
    const ref = createActor(logic as Parameters<typeof createActor>[0], { input: m.input });
    ref.subscribe({
      error: (err) => {
        if (actors.get(m.key) !== hosted) return;
        actors.delete(m.key);
        post({ op: 'exit', key: m.key, error: toWire(err) });
      },
      complete: () => {
        if (actors.get(m.key) !== hosted) return;
        actors.delete(m.key);
        post({ op: 'exit', key: m.key });
      },
    });
    hosted.ref = ref;
    ref.start();
    if (actors.get(m.key) !== hosted) return; // failed while starting: reported as its exit
    post({ op: 'started', key: m.key });
    for (const early of hosted.early.splice(0)) handle(m.key, hosted, early);
  } catch (err) {
    actors.delete(m.key);
    post({ op: 'failed', key: m.key, error: toWire(err) });
  }
}

port.on('message', (m: ToThread) => {
  switch (m.op) {
    case 'start':
      void start(m);
      break;
    case 'msg': {
      const hosted = actors.get(m.key);
      if (!hosted) break;
      if (hosted.ref) handle(m.key, hosted, m);
      else hosted.early.push(m);
      break;
    }
    case 'stop': {
      const hosted = actors.get(m.key);
      actors.delete(m.key);
      try {
        hosted?.ref?.stop();
      } catch {
        // Its cleanup threw: it is stopped anyway.
      }
      break;
    }
  }
});

/**
 * The body of a pool thread: it hosts many isolated actors, each an XState actor created from a
 * module's export, and handles their messages one at a time, in the order they were posted.
 *
 * Before and after each message (and around an actor's start) it tells the main thread ('begin',
 * 'end'), which is all the watchdog needs: a thread that does not say 'end' within the actor's
 * `maxTurnMs` is terminated from outside. A call's copy of the event is registered here as a
 * pending call, so the actor's own `reply(event, value)` / `replyError(event, error)` (from
 * @vigil/runtime, loaded in this thread) answer it, and the answer is posted back.
 *
 * Each actor gets a peer (peer.ts), so `runtimeOf(self).send/call`, `castTo`, `nameOf` and
 * `exit(self, reason)` work here as on the main thread, forwarded to the runtime there.
 *
 * Invariants:
 * - A 'stop' is applied before any message still queued for that actor, as a main-thread kill
 *   drops the mailbox: the thread pulls everything already posted (`receiveMessageOnPort`) before
 *   it handles the next message, drops the stopped actor's messages and says which ('dropped'),
 *   so the main thread records them as dead letters and none is handled after the kill.
 * - Once an actor has said 'exit', messages to it are ignored: the main thread, which saw the
 *   'begin' of every message the actor handled, counts the rest as dead letters itself.
 */
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { type AnyActorRef, createActor, type EventObject } from 'xstate';
import { openCall, type PendingCall } from '../call.js';
import { systemClock } from '../clock.js';
import { InvalidMessageError } from '../errors.js';
import type { ExitReason } from '../exit.js';
import { assertMessage } from '../message.js';
import { setPeer, type ThreadPeer } from './peer.js';
import { type FromThread, fromWire, reasonToWire, type ToThread, toWire } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('isolation/thread.ts runs in a worker thread');
const post = (m: FromThread) => port.postMessage(m);

type Msg = Extract<ToThread, { op: 'msg' }>;

interface Hosted {
  name: string;
  ref: AnyActorRef | undefined;
  /** Messages that came while the module was loading, handled once it started. */
  early: Msg[];
}
const actors = new Map<number, Hosted>();
/** Messages and starts pulled from the port, not handled yet. */
const inbox: ToThread[] = [];
/** Calls the actors here made to the main thread, by id. */
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextCall = 0;
/** Calls to the actors here, still waiting for their reply, by the main thread's call id. */
const owed = new Map<number, PendingCall>();
/** Calls the main thread gave up on: settled here without an answer. */
const forgotten = new Set<number>();
let pumping = false;

function handle(key: number, hosted: Hosted, m: Msg): void {
  const ref = hosted.ref;
  if (!ref) return;
  const type = String((m.message as { type?: unknown }).type);
  post({ op: 'begin', key, seq: m.seq, type });
  if (m.callId !== undefined && !forgotten.delete(m.callId)) {
    const callId = m.callId;
    const { call, promise } = openCall(
      m.message,
      hosted.name,
      type,
      Number.POSITIVE_INFINITY,
      systemClock,
      () => owed.delete(callId),
    );
    owed.set(callId, call);
    promise.then(
      (value) => {
        if (forgotten.delete(callId)) return;
        try {
          post({ op: 'reply', key, callId, value });
        } catch (err) {
          post({ op: 'replyError', key, callId, error: toWire(cloneFailure('a reply', hosted.name, err)) });
        }
      },
      (err: unknown) => {
        if (forgotten.delete(callId)) return;
        post({ op: 'replyError', key, callId, error: toWire(err) });
      },
    );
  }
  ref.send(m.message as EventObject);
  post({ op: 'end', key, seq: m.seq });
}

/** The actor behind `key` ended here; the main thread exits its process with `reason`. */
function ended(key: number, hosted: Hosted, reason: ExitReason): void {
  if (actors.get(key) !== hosted) return;
  actors.delete(key);
  post({ op: 'exit', key, reason: reasonToWire(reason) });
}

function peerFor(key: number, hosted: Hosted): ThreadPeer {
  return {
    name: hosted.name,
    send(to, message) {
      assertMessage(message);
      try {
        post({ op: 'send', key, to, message });
      } catch (err) {
        throw cloneFailure('a message', to, err);
      }
    },
    call(to, message, options) {
      try {
        assertMessage(message);
        const timeoutMs = options?.timeoutMs;
        const id = ++nextCall;
        const answer = new Promise<unknown>((resolve, reject) => calls.set(id, { resolve, reject }));
        try {
          post({ op: 'call', key, id, to, message, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
        } catch (err) {
          calls.delete(id);
          throw cloneFailure('a message', to, err);
        }
        return answer;
      } catch (err) {
        return Promise.reject(err);
      }
    },
    exit(reason) {
      if (actors.get(key) !== hosted) return;
      ended(key, hosted, reason);
      // As on the main thread: no further message is delivered; the rest of this event's
      // actions still run inside XState.
      try {
        hosted.ref?.stop();
      } catch {
        // Its cleanup threw: it is stopped anyway.
      }
    },
  };
}

function cloneFailure(what: string, to: string, err: unknown): InvalidMessageError {
  return new InvalidMessageError(
    `${what} to '${to}' cannot be cloned across threads: ${err instanceof Error ? err.message : String(err)}`,
  );
}

async function start(m: Extract<ToThread, { op: 'start' }>): Promise<void> {
  const hosted: Hosted = { name: m.name, ref: undefined, early: [] };
  actors.set(m.key, hosted);
  try {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(m.module)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot load ${m.module}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const logic = mod[m.export];
    if (
      !logic ||
      typeof logic !== 'object' ||
      typeof (logic as { transition?: unknown }).transition !== 'function'
    )
      throw new Error(`${m.module} has no export '${m.export}' that is an XState logic`);
    if (actors.get(m.key) !== hosted) return; // stopped while loading
    const ref = createActor(logic as Parameters<typeof createActor>[0], { input: m.input, id: m.name });
    setPeer(ref, peerFor(m.key, hosted));
    ref.subscribe({
      error: (err) =>
        ended(m.key, hosted, { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) }),
      complete: () => ended(m.key, hosted, { kind: 'normal' }),
    });
    hosted.ref = ref;
    // Timed as a message: an entry action that never returns is preempted too.
    post({ op: 'begin', key: m.key, seq: 0, type: 'xstate.init' });
    ref.start();
    post({ op: 'end', key: m.key, seq: 0 });
    if (actors.get(m.key) !== hosted) return; // failed while starting: reported as its exit
    post({ op: 'started', key: m.key });
    while (hosted.early.length > 0) {
      pull(); // a stop posted meanwhile drops (and reports) the rest
      if (actors.get(m.key) !== hosted) break;
      handle(m.key, hosted, hosted.early.shift() as Msg);
    }
    pump();
  } catch (err) {
    if (actors.get(m.key) !== hosted) return;
    actors.delete(m.key);
    post({ op: 'failed', key: m.key, error: toWire(err) });
  }
}

/** Takes what the main thread posted so far; stops and answers apply at once. */
function pull(): void {
  for (let r = receiveMessageOnPort(port as never); r; r = receiveMessageOnPort(port as never))
    accept(r.message as ToThread);
}

function accept(m: ToThread): void {
  if (m.op === 'stop') stop(m.key);
  else if (m.op === 'answer') answer(m);
  else if (m.op === 'forget') forget(m.callId);
  else inbox.push(m);
}

function stop(key: number): void {
  const hosted = actors.get(key);
  actors.delete(key);
  const dropped: number[] = hosted ? hosted.early.splice(0).map((e) => e.seq) : [];
  for (let i = inbox.length - 1; i >= 0; i--) {
    const queued = inbox[i] as ToThread;
    if (queued.op === 'msg' && queued.key === key) {
      dropped.unshift(queued.seq);
      inbox.splice(i, 1);
    }
  }
  // Always answered, even when empty: the main thread keeps the actor's messages until then.
  post({ op: 'dropped', key, seqs: dropped.sort((a, b) => a - b) });
  try {
    hosted?.ref?.stop();
  } catch {
    // Its cleanup threw: it is stopped anyway.
  }
}

function forget(callId: number): void {
  const call = owed.get(callId);
  if (!call) {
    // Not begun yet (forgets apply as soon as they are pulled): it will be delivered as a send.
    // Otherwise it was dropped or answered already, and there is nothing to forget.
    const queued = (q: ToThread) => q.op === 'msg' && q.callId === callId;
    if (inbox.some(queued) || [...actors.values()].some((h) => h.early.some(queued))) forgotten.add(callId);
    return;
  }
  forgotten.add(callId);
  call.settle(new Error('the caller gave up'));
}

function answer(m: Extract<ToThread, { op: 'answer' }>): void {
  const call = calls.get(m.id);
  calls.delete(m.id);
  if (!call) return;
  if (m.error) call.reject(fromWire(m.error));
  else call.resolve(m.value);
}

function pump(): void {
  if (pumping) return;
  pumping = true;
  try {
    for (let m = inbox.shift(); m; m = inbox.shift()) {
      if (m.op === 'start') void start(m);
      else if (m.op === 'msg') {
        const hosted = actors.get(m.key);
        if (!hosted) continue;
        if (hosted.ref) handle(m.key, hosted, m);
        else hosted.early.push(m);
      }
      pull();
    }
  } finally {
    pumping = false;
  }
}

port.on('message', (m: ToThread) => {
  accept(m);
  pull();
  pump();
});

post({ op: 'ready' });

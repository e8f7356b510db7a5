/**
 * The typed front of the Alarm actor. Every method is a `call` to the actor's mailbox, so it
 * works from anywhere in the process and survives restarts of the actor (names, not references).
 *
 * The `set`s made through one client in one tick go to the actor as one `alarm.setEach` call
 * (one message, one call, one timer, however many callers), each item with the instant its own
 * caller asked and answered on its own: a bad item rejects its own caller only. They were
 * committed together anyway (group commit); this takes the per-set mailbox hop off the path.
 * Requests keep their order: any other request of the client first sends the sets queued
 * before it.
 */
import { type Runtime, VigilError } from '@vigil/runtime';
import type { AlarmStats } from './alarm.js';
import type { When } from './parse.js';
import type { Alarm, AlarmInput, Occurrence, SetEachResult, SetOptions } from './request.js';
import type { ListFilter } from './store/types.js';

/** Options of the client's calls. */
export interface ClientOptions {
  /** Name the Alarm actor is registered under (default 'Alarm'). */
  name?: string;
  /** Call timeout in ms (default 30 s: a commit under load can take a while). */
  timeoutMs?: number;
}

/**
 * A function around every `set` and `setMany` of the `AlarmClient`s of one runtime. It may
 * change the inputs (add options) before calling `proceed`, and must return what `proceed`
 * returns. `@vigil/otel` uses it to open the `set` span and store its trace context.
 */
export type SetInterceptor = (
  inputs: AlarmInput[],
  proceed: (inputs: AlarmInput[]) => Promise<Alarm[]>,
) => Promise<Alarm[]>;

// Per runtime, so two runtimes in one process (tests, several users) do not see each other's.
const interceptors = new WeakMap<Runtime, SetInterceptor[]>();

/**
 * Runs `interceptor` around every `set`/`setMany` made through an `AlarmClient` of `runtime`
 * (the first added runs outermost). Returns a function that removes it.
 */
export function interceptSets(runtime: Runtime, interceptor: SetInterceptor): () => void {
  const list = [...(interceptors.get(runtime) ?? []), interceptor];
  interceptors.set(runtime, list);
  return () => {
    const now = (interceptors.get(runtime) ?? []).filter((i) => i !== interceptor);
    if (now.length === 0) interceptors.delete(runtime);
    else interceptors.set(runtime, now);
  };
}

/**
 * Sets, cancels and reads alarms.
 *
 * @example
 * const alarms = new AlarmClient(runtime);
 * const a = await alarms.set('tomorrow at 9am', 'Pushover', { type: 'notify', message: 'Stand-up' });
 * await alarms.cancel(a.id);
 */
export class AlarmClient {
  private readonly name: string;
  private readonly timeoutMs: number;
  /** The `set`s of this tick not yet sent (see the file header). */
  private queued: QueuedSet[] | undefined;

  constructor(
    private readonly runtime: Runtime,
    options: ClientOptions = {},
  ) {
    this.name = options.name ?? 'Alarm';
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Stores an alarm; resolves once it is committed. `when` is a Date, epoch ms, ISO-8601 text,
   * a duration ('in 5 minutes', '90s', `{ in: '2 hours' }`) or natural language ('tomorrow at
   * 9am'), read in the alarm service's zone.
   */
  set(
    when: When,
    target: string,
    message: Record<string, unknown> = {},
    options?: SetOptions,
  ): Promise<Alarm> {
    if (!interceptors.has(this.runtime)) {
      const requestedAt = this.runtime.clock.now();
      return new Promise<Alarm>((resolve, reject) => {
        if (this.queued === undefined) {
          this.queued = [];
          queueMicrotask(() => this.sendQueued());
        }
        this.queued.push({ input: { when, target, message, options, requestedAt }, resolve, reject });
      });
    }
    return this.intercepted([{ when, target, message, options }], ([input]) =>
      this.request<Alarm>({ type: 'alarm.set', ...input }).then((a) => [a]),
    ).then(([alarm]) => alarm as Alarm);
  }

  /** Stores many alarms in one transaction: all of them, or (on any invalid one) none. */
  setMany(items: AlarmInput[]): Promise<Alarm[]> {
    if (!interceptors.has(this.runtime)) return this.request({ type: 'alarm.setMany', items });
    return this.intercepted(items, (inputs) => this.request({ type: 'alarm.setMany', items: inputs }));
  }

  private intercepted(
    inputs: AlarmInput[],
    last: (inputs: AlarmInput[]) => Promise<Alarm[]>,
  ): Promise<Alarm[]> {
    const chain = interceptors.get(this.runtime) ?? [];
    const at =
      (i: number) =>
      (next: AlarmInput[]): Promise<Alarm[]> => {
        const interceptor = chain[i];
        return interceptor ? interceptor(next, at(i + 1)) : last(next);
      };
    return at(0)(inputs);
  }

  /**
   * Cancels a pending alarm; for a recurring alarm, the whole series, whichever occurrence is
   * pending. Resolves with the alarm (whatever its status), or null if unknown. If an occurrence
   * is being delivered at that moment, the delivery is not recalled: the answer is `pending` with
   * `cancelRequestedAt` set, the delivery's outcome is recorded when it comes, and nothing is
   * delivered after it (`alarm.cancelled` is emitted then).
   */
  cancel(id: number): Promise<Alarm | null> {
    return this.request({ type: 'alarm.cancel', id });
  }

  /** One alarm (a whole series for a recurring one: next instant, status, counts), or null. */
  get(id: number): Promise<Alarm | null> {
    return this.request({ type: 'alarm.get', id });
  }

  /**
   * The settled occurrences of an alarm, oldest first, paged (`afterSeq`, `limit`, default 100);
   * null if there is no such alarm. A one-shot alarm has one once it fired, failed or was missed.
   *
   * @example
   * for (const o of (await alarms.history(id)) ?? []) console.log(o.seq, o.outcome, o.attempts);
   */
  history(id: number, page: { limit?: number; afterSeq?: number } = {}): Promise<Occurrence[] | null> {
    return this.request({ type: 'alarm.history', id, filter: page });
  }

  /**
   * Alarms by status, target, key and next instant (`fireFrom` inclusive, `fireTo` exclusive),
   * paged by id (`afterId`, `limit`).
   */
  list(filter: ListFilter = {}): Promise<Alarm[]> {
    return this.request({ type: 'alarm.list', filter });
  }

  /** Counts by status, the next instant, deliveries in flight. */
  stats(): Promise<AlarmStats> {
    return this.request({ type: 'alarm.stats' });
  }

  /** Sends the queued `set`s: one alone as `alarm.set`, as before; several as one `alarm.setEach`. */
  private sendQueued(): void {
    const queued = this.queued;
    this.queued = undefined;
    if (queued === undefined || queued.length === 0) return;
    if (queued.length === 1) {
      const [{ input, resolve, reject }] = queued as [QueuedSet];
      this.call<Alarm>({ type: 'alarm.set', ...input }).then(resolve, reject);
      return;
    }
    this.call<SetEachResult[]>({ type: 'alarm.setEach', items: queued.map((q) => q.input) }).then(
      (results) => {
        for (let i = 0; i < queued.length; i++) {
          const result = results[i];
          if (result?.alarm) queued[i]!.resolve(result.alarm);
          else queued[i]!.reject(result?.error ?? noResult());
        }
      },
      (err: Error) => {
        for (const q of queued) q.reject(err);
      },
    );
  }

  private request<T>(message: { type: string } & Record<string, unknown>): Promise<T> {
    // Sets asked before this request are sent before it.
    if (this.queued !== undefined) this.sendQueued();
    // `requestedAt`: the Alarm reads `when` against the instant of this call, not of its turn.
    return this.call<T>({ ...message, requestedAt: this.runtime.clock.now() });
  }

  private call<T>(message: { type: string } & Record<string, unknown>): Promise<T> {
    return this.runtime.call<T>(this.name, message, { timeoutMs: this.timeoutMs });
  }
}

/** An answer to `alarm.setEach` that lacks an item's result (an actor of another version). */
function noResult(): VigilError {
  return new VigilError(
    'INVALID_REPLY',
    'the Alarm actor answered alarm.setEach with no result for this set',
  );
}

/** A `set` waiting for the end of its tick (see `AlarmClient.sendQueued`). */
interface QueuedSet {
  input: AlarmInput & { requestedAt: number };
  resolve: (alarm: Alarm) => void;
  reject: (error: Error) => void;
}

/**
 * The Alarm actor: owns the store, commits `set`s in groups, fires due alarms to their targets,
 * and keeps the Timer armed for the earliest pending one.
 *
 * It is an XState callback actor (`fromCallback`), not a statechart: its state lives in the
 * database, and what it holds in memory is bounded (the deliveries in flight and the armed
 * instant), whatever the number of pending alarms.
 *
 * A recurring alarm is one series, one row: when an occurrence settles, the same transaction
 * records it in the history and moves the row to the next occurrence. The row's id is the
 * series' id for its whole life; each delivery carries it with the occurrence's number.
 *
 * Invariants:
 * - a `set` is answered only after the transaction holding it committed;
 * - an alarm is marked fired only after its target replied, in a transaction that also moves a
 *   series to its next occurrence; a crash in between leaves it pending, so it is delivered again;
 * - outcomes are committed promptly: within a few milliseconds of their replies' arrival, the
 *   replies that arrive together sharing one transaction (see `settle`);
 *   so a kill re-delivers only what was in flight, not what completed hundreds of ms before;
 * - a cancel never rewrites history: one that meets a delivery in flight is recorded as asked,
 *   the delivery's outcome is recorded as it happened, and the series stops;
 * - the Timer is never armed later than the earliest pending alarm that is not in flight;
 * - a row whose outcome committed while a `due` read was under way is not handed out from that
 *   read's answer: on a store with a pool of connections the read may have run before the commit
 *   and answer after it, holding the settled row as still pending;
 * - at most `maxInFlightPerTarget` deliveries are in flight to any one target: one that hangs
 *   holds that many, and its other due rows are left out of reads (`due`'s `exceptTargets`)
 *   while it is at its limit, so the rest of the window serves the other targets;
 * - the prefetch window (`AheadWindow`, ahead.ts) holds the next pending alarms: while it is valid,
 *   a Timer wake fires what is due from memory, with no store read on its path. Never early holds
 *   as before: a row is fired only when `clock.now()` has reached its fireAt. A write by another
 *   connection is looked for at each wake (`changeToken`) and drops the window;
 * - a target in `batchTargets` gets the deliveries of one page in one message (batch.ts); each
 *   item is fired, counted in flight and settled as a delivery of its own.
 */
import {
  type Clock,
  coerceError,
  describeValue,
  type EventBus,
  Exit,
  exit,
  isRetryable,
  type Runtime,
  reply,
  replyError,
  VigilError,
} from '@vigil/runtime';
import { type AnyActorRef, fromCallback } from 'xstate';
import { AheadWindow } from './ahead.js';
import { BatchSender } from './batch.js';
import { decodeMessage } from './message.js';
import { type ResolvedAlarmOptions, retryDelay } from './options.js';
import {
  type MisfirePolicy,
  nextOccurrence,
  type Recurrence,
  validateMisfire,
  validateRecurrence,
} from './recurrence.js';
import {
  type Alarm,
  AlarmPreparer,
  type AlarmRequest,
  prepareAlarms,
  type SetEachResult,
  splitReserved,
  toAlarm,
  toInsertedAlarm,
  toOccurrence,
} from './request.js';
import type {
  AlarmRow,
  AlarmStore,
  CompleteResult,
  Completion,
  DueCursor,
  ListFilter,
  NewAlarm,
  SettledOccurrence,
} from './store/types.js';
import type { DueMessage } from './timer.js';

/** How long an outcome may wait for later replies to share its commit (see `settle`). */
const GROUP_WINDOW_MS = 8;
/** At most this many drain turns of replies per commit. */
const GROUP_MAX_TURNS = 4;
/** The prefetch window's bounds: rows, and bytes of stored messages (see ahead.ts). */
const AHEAD_ROWS = 256;
const AHEAD_BYTES = 1024 * 1024;
/** First and longest wait before trying an unavailable store again (doubling in between). */
const OUTAGE_MIN_MS = 100;
const OUTAGE_MAX_MS = 5000;

/** What the Alarm actor is started with. */
export interface AlarmServiceInput {
  runtime: Runtime;
  options: ResolvedAlarmOptions;
}

/**
 * Whether `name` may be the target of an alarm: a declared worker. A supervisor is declared too,
 * but it does not take messages (a call to it is `ACTOR_DOWN` forever), so it is refused at
 * `set` with `UNKNOWN_TARGET`. The one place that asks the runtime what a name is.
 */
export function isAlarmTarget(runtime: Runtime, name: string): boolean {
  return runtime.kindOf(name) === 'worker';
}

/** Statistics of the alarm service. */
export interface AlarmStats {
  /** Series (one-shot alarms included) by status. */
  byStatus: Record<string, number>;
  /** Occurrences by outcome (delivered, missed, failed), over every series. */
  occurrences: Record<string, number>;
  total: number;
  nextFireAt: number | null;
  inFlight: number;
  armedAt: number | null;
}

interface PendingSet {
  event: object;
  alarms: NewAlarm[];
  /** The answer's shape: one Alarm (`set`), all of them (`setMany`), or one result per item (`setEach`). */
  answer: 'one' | 'many' | 'each';
  /** `setEach`: the items refused at validation, by index; the others are `alarms`, in order. */
  refused?: Map<number, Error>;
}

interface PendingCompletion {
  completion: Completion;
  /** Emits the event that tells the world what happened, once it is committed. */
  announce: () => void;
}

class AlarmService {
  private readonly store: AlarmStore;
  private readonly clock: Clock;
  private readonly events: EventBus;
  private readonly zone: string;
  private closed = false;
  private sets: PendingSet[] = [];
  private completions: PendingCompletion[] = [];
  private flushSetsQueued = false;
  private flushCompletionsQueued = false;
  /** A `complete` transaction is running; outcomes that arrive meanwhile wait for it. */
  private committing = false;
  /** When the oldest outcome not yet committed was queued (`performance.now()`). */
  private oldestOutcomeAt = 0;
  /** How long the last measured event-loop turn took, ms (see `settle`). */
  private turnMs = 0;
  private turnProbe = false;
  private readonly inFlight = new Set<number>();
  /** Deliveries in flight (outcome not committed) by target, and the target of each. */
  private readonly perTarget = new Map<string, number>();
  private readonly deliveryTarget = new Map<number, string>();
  /**
   * Targets left out of a `due` read since the cursor was last cleared: their pending rows may sit
   * before the cursor without being in flight, so the cursor goes when one of them gets room.
   */
  private readonly passedOver = new Set<string>();
  /** Ids whose cancel was asked here while in flight: their completion announces the cancel. */
  private readonly cancelAsked = new Set<number>();
  /**
   * Ids cancelled by this actor, with the number of `due` reads started when the cancel committed.
   * A read that started before the commit may still return the row as pending: such a row must
   * not be delivered (the caller was told it was cancelled). Entries go once a later read ends.
   */
  private readonly cancelledAt = new Map<number, number>();
  private dueReads = 0;
  /** A `due` read is under way (pump runs one at a time). */
  private readingDue = false;
  /**
   * Ids whose outcome committed while a `due` read was under way. On a store with several
   * connections (a pool) that read may have run before the commit and its answer arrive after
   * it: it then holds the row as still pending, though it is settled and no longer in flight.
   * Such a row is not handed out from that read; a later read sees the commit. Cleared after
   * each read, so it holds at most one read's worth of outcomes.
   */
  private readonly settledDuringRead = new Set<number>();
  /** Counts `resetCursor` calls: a read sets the cursor only if none came while it ran. */
  private cursorResets = 0;
  private pumping = false;
  private pumpAgain = false;
  private armedAt: number | null = null;
  private pollTimer: unknown;
  private changeToken: number | undefined;
  private waitingForStart = false;
  /** The store is unreachable: the last wait before trying again, and its timer. */
  private outageMs = 0;
  private outageTimer: unknown;
  private pollStopped = false;
  private unsubscribe: (() => void) | undefined;
  /**
   * Where the last `due` read stopped, in (fireAt, id) order. Every pending row before it is in
   * flight (handed out, outcome not committed yet) or belongs to a target in `passedOver`, so the
   * next read starts after it instead of reading the rows in flight again. Anything that can put
   * a pending row before it (a set, a retry, a next occurrence, a write by another connection, a
   * Timer wake, a passed-over target getting room) clears it (`resetCursor`).
   */
  private cursorAt: DueCursor | undefined;
  /** The next pending alarms, read ahead (see ahead.ts); dropped with the cursor. */
  private readonly ahead = new AheadWindow(AHEAD_ROWS, AHEAD_BYTES);
  private readonly isTarget = (name: string) => isAlarmTarget(this.runtime, name);
  /** Deliveries to the targets that take batches (`batchTargets`), grouped per page. */
  private readonly batches: BatchSender;
  /** At `set`: a local worker, or a target another node sharing the store delivers (routing). */
  private readonly mayTarget = (name: string) =>
    this.isTarget(name) || this.store.declaredElsewhere?.(name) === true;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: ResolvedAlarmOptions,
    private readonly self: AnyActorRef,
  ) {
    this.clock = runtime.clock;
    this.events = runtime.events;
    this.zone = options.zone;
    this.batches = new BatchSender(
      runtime,
      options.batchTargets,
      options.deliveryTimeoutMs,
      () => this.closed,
    );
    // Opening is synchronous for SQLite: a database that cannot be opened (or is newer than
    // this code) fails the actor's start, and the supervisor reports it naming the Alarm.
    this.store = options.store();
    // The baseline for the poll is taken before the first read: a write by another connection
    // after this point is seen by the first poll (taken at the first poll, it would be missed).
    this.store.changeToken().then(
      (token) => {
        this.changeToken ??= token;
      },
      (err) => this.crash(err),
    );
    void this.pump();
    this.schedulePoll();
    // A store shared with other nodes may tell of their sets at once; the poll stays as a net.
    this.unsubscribe = this.store.subscribe?.((fireAt) => this.woken(fireAt));
  }

  handle(event: AlarmRequest | DueMessage | { type: string }): void {
    if (this.closed) return;
    switch (event.type) {
      case 'alarm.set':
      case 'alarm.setMany':
      case 'alarm.setEach':
        this.acceptSets(event as AlarmRequest);
        return;
      case 'alarm.due':
        this.armedAt = null;
        // With a valid window the wake fires from memory (pump checks for other writers first);
        // without one, it reads due rows from the start, not from a cursor.
        if (!this.ahead.valid) this.resetCursor();
        void this.pump();
        reply(event); // the Timer casts it; a caller that calls gets an answer, not a timeout
        return;
      case 'alarm.cancel':
      case 'alarm.get':
      case 'alarm.history':
      case 'alarm.list':
      case 'alarm.stats':
        this.answer(event as AlarmRequest);
        return;
      default:
        replyError(
          event,
          new VigilError('UNKNOWN_REQUEST', `the Alarm actor does not handle '${event.type}'`),
        );
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer !== undefined) this.clock.clearTimeout(this.pollTimer);
    if (this.outageTimer !== undefined) this.clock.clearTimeout(this.outageTimer);
    this.unsubscribe?.();
    // Sets not yet committed were never acknowledged; completions not yet committed leave their
    // alarms pending, to be delivered again after the restart (at least once).
    void this.store.close();
  }

  // -------------------------------------------------------------------------------------------
  // Set: validate now (bad input changes nothing), commit with everything else of this turn.

  private acceptSets(event: AlarmRequest): void {
    const now = this.clock.now();
    let alarms: NewAlarm[];
    let refused: Map<number, Error> | undefined;
    try {
      if (event.type === 'alarm.setEach') {
        ({ alarms, refused } = this.prepareEach(asArray(event.items), now));
      } else {
        // Times are read against the instant the caller asked, not the instant this mailbox got
        // to it: `set(Date.now(), ...)` means "now", and must not be refused as past because the
        // message waited a few milliseconds in the queue.
        const reference = referenceInstant((event as { requestedAt?: unknown }).requestedAt, now);
        const inputs: unknown[] = event.type === 'alarm.setMany' ? asArray(event.items) : [event];
        alarms = prepareAlarms(inputs, reference, this.zone, this.mayTarget, this.options);
      }
    } catch (err) {
      replyError(event, coerceError(err));
      return;
    }
    const answer = event.type === 'alarm.setEach' ? 'each' : event.type === 'alarm.setMany' ? 'many' : 'one';
    if (answer === 'each' && alarms.length === 0) {
      // Nothing to commit: every item was refused (or there were none).
      reply(event, answerEach([], refused));
      return;
    }
    this.sets.push({ event, alarms, answer, refused });
    if (!this.flushSetsQueued) {
      this.flushSetsQueued = true;
      // A microtask runs after the current drain turn: every set delivered in this turn is in
      // the batch, and they all share one transaction (group commit).
      queueMicrotask(() => void this.flushSets());
    }
  }

  /**
   * Validates each item of a `setEach` on its own, against the instant its own caller asked: a bad
   * item is refused alone. Items asked at the same instant (the usual case: one tick of callers)
   * share one `AlarmPreparer`, so a `when` text they share is parsed once.
   */
  private prepareEach(items: unknown[], now: number): { alarms: NewAlarm[]; refused: Map<number, Error> } {
    const preparers = new Map<number, AlarmPreparer>();
    const alarms: NewAlarm[] = [];
    const refused = new Map<number, Error>();
    for (let i = 0; i < items.length; i++) {
      try {
        const item = items[i] as { requestedAt?: unknown } | null | undefined;
        const reference = referenceInstant(item?.requestedAt, now);
        let preparer = preparers.get(reference);
        if (!preparer) {
          preparer = new AlarmPreparer(reference, this.zone, this.mayTarget, this.options);
          preparers.set(reference, preparer);
        }
        alarms.push(preparer.prepare(item));
      } catch (err) {
        refused.set(i, coerceError(err));
      }
    }
    return { alarms, refused };
  }

  private async flushSets(): Promise<void> {
    this.flushSetsQueued = false;
    const batch = this.sets;
    this.sets = [];
    if (this.closed) return;
    const all = batch.flatMap((s) => s.alarms);
    let results: { row: AlarmRow; created: boolean }[];
    try {
      results = await this.store.insert(all);
    } catch (err) {
      for (const s of batch) replyError(s.event, coerceError(err));
      return;
    }
    let offset = 0;
    let earliest = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (const s of batch) {
      const slice = results.slice(offset, offset + s.alarms.length);
      offset += s.alarms.length;
      reply(
        s.event,
        s.answer === 'one'
          ? view(slice[0]!)
          : s.answer === 'many'
            ? slice.map(view)
            : answerEach(slice.map(view), s.refused),
      );
      for (const { row, created } of slice) {
        if (!created) continue;
        // A valid window takes the row in (or knows it sorts after what it covers); otherwise the
        // row may sort before the cursor: read from the start.
        if (row.status !== 'pending' || !this.ahead.add(row)) this.resetCursor();
        if (row.status === 'pending' && row.fireAt < earliest) earliest = row.fireAt;
        if (this.events.has('alarm.set')) {
          this.events.emit('alarm.set', {
            id: row.id,
            fireAt: row.fireAt,
            target: row.target,
            key: row.key,
            at: now,
          });
        }
      }
    }
    if (earliest <= now || this.armedAt === null || earliest < this.armedAt) void this.pump();
  }

  // -------------------------------------------------------------------------------------------
  // Queries.

  private answer(event: AlarmRequest): void {
    const run = async (): Promise<unknown> => {
      switch (event.type) {
        case 'alarm.cancel':
          return this.cancel(asId(event.id));
        case 'alarm.get': {
          const row = await this.store.get(asId(event.id));
          return row ? toAlarm(row) : null;
        }
        case 'alarm.history': {
          const id = asId(event.id);
          const page = asFilter(event.filter) as { limit?: number; afterSeq?: number };
          if ((await this.store.get(id)) === undefined) return null;
          return (await this.store.history(id, page.limit, page.afterSeq)).map(toOccurrence);
        }
        case 'alarm.list':
          return (await this.store.list(asFilter(event.filter))).map(toAlarm);
        case 'alarm.stats': {
          const stats = await this.store.stats();
          return { ...stats, inFlight: this.inFlight.size, armedAt: this.armedAt } satisfies AlarmStats;
        }
        default:
          throw new VigilError('UNKNOWN_REQUEST', `unknown request '${(event as { type: string }).type}'`);
      }
    };
    run().then(
      (value) => reply(event, value),
      (err) => replyError(event, coerceError(err)),
    );
  }

  private async cancel(id: number): Promise<Alarm | null> {
    // Out of the prefetch window from now on, so that a wake during this cancel cannot fire it.
    const prefetched = this.ahead.remove(id);
    let row: AlarmRow | undefined;
    try {
      // The store returns the row whatever its status; only a pending -> cancelled change made by
      // this call is announced (cancelling twice must not emit twice).
      const wasPending = (await this.store.get(id))?.status === 'pending';
      // In flight: the target has it (or has answered, and the outcome is not committed). The
      // delivery cannot be recalled; the cancel is recorded as asked, and the outcome's commit
      // records what happened and stops the series.
      const inFlight = this.inFlight.has(id);
      if (inFlight) this.cancelAsked.add(id);
      row = await this.store.cancel(id, this.clock.now(), inFlight);
      // A window read made while this cancel was under way may hold the row as pending.
      this.ahead.remove(id);
      if (wasPending && row?.status === 'cancelled') {
        this.cancelledAt.set(id, this.dueReads);
        this.events.emit('alarm.cancelled', { id, at: this.clock.now() });
        if (this.armedAt !== null && row.fireAt <= this.armedAt) void this.pump();
      }
      return row ? toAlarm(row) : null;
    } finally {
      // Taken out of the window but still pending (the cancel failed): the window no longer
      // holds every pending row it covers, so drop it and read from the store.
      if (prefetched && row?.status !== 'cancelled') this.resetCursor();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Firing. `pump` delivers what is due (up to `maxInFlight` at once) and arms the Timer for the
  // earliest pending alarm after now. It runs after a set, a Timer wake, a committed batch of
  // outcomes, and a write by another connection; a call while it runs makes it go round again.
  // With a valid prefetch window it fires from memory (`fireAhead`); otherwise it reads due rows
  // from the store, and once a read shows nothing due left behind, fills the window again.

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        if (this.closed) return;
        if (this.ahead.valid && this.runtime.state !== 'starting') {
          // Another connection may have written since the window was read (a cancel, an
          // earlier alarm): one cheap look (`PRAGMA data_version`), never a row read.
          const unchanged = await this.noOtherWriter();
          if (this.closed) return;
          if (unchanged && this.fireAhead()) {
            await this.topUp();
            if (this.closed) return;
            this.armAhead();
            continue;
          }
        }
        const now = this.clock.now();
        const room = this.options.maxInFlight - this.inFlight.size;
        // Targets at their limit are left out of the read; their rows in flight then are not
        // read again either, so only the others' count as re-read (`again`).
        const full = this.fullTargets();
        let again = this.inFlight.size;
        for (const target of full) again -= this.perTarget.get(target) ?? 0;
        if (this.runtime.state === 'starting') {
          // The runtime refuses calls until its whole tree has started; delivering now would turn
          // every alarm that is overdue at start into a failed attempt with backoff. Fire once
          // the start is over (the Timer is still armed for the next future alarm below).
          this.fireWhenStarted();
        } else if (room > 0 && (this.cursorAt !== undefined || again <= this.options.maxInFlight / 2)) {
          // Without a cursor, `due` returns the rows in flight too (they stay pending until their
          // outcome commits): read them once, and only once half the window is free. With a
          // cursor, read only what comes after the rows already handed out. A page is no longer
          // than the busiest target not at its limit can still take: the cursor stops at the first
          // row of a target that fills up, and the rows after it are read again (a backlog of one
          // target would read half its rows twice); a page cut short reads on below.
          const cursor = this.cursorAt;
          const resets = this.cursorResets;
          const read = ++this.dueReads;
          const page = Math.min(room, this.options.maxInFlightPerTarget - this.busiest());
          const limit = cursor ? page : page + again;
          const gen = this.ahead.generation;
          let due: AlarmRow[];
          this.readingDue = true;
          try {
            due = await this.store.due(now, limit, cursor, full);
          } finally {
            this.readingDue = false;
          }
          const stale = new Set(this.settledDuringRead);
          this.settledDuringRead.clear();
          // The cursor may pass rows handed out, in flight or cancelled, and rows of targets left
          // out of this read (passed over: a store may return them anyway). It stops before the
          // first row of a target that reached its limit during this page.
          let handed: AlarmRow | undefined;
          let stopped = false;
          for (const row of due) {
            if (this.closed) break;
            if (this.inFlight.has(row.id)) {
              if (!stopped) handed = row;
              continue;
            }
            if ((this.cancelledAt.get(row.id) ?? -1) >= read) {
              if (!stopped) handed = row;
              continue; // read before its cancel
            }
            if (stale.has(row.id)) {
              if (!stopped) handed = row;
              continue; // maybe read before its outcome committed (answers crossed)
            }
            if ((this.perTarget.get(row.target) ?? 0) >= this.options.maxInFlightPerTarget) {
              if (!full.includes(row.target)) stopped = true;
              else if (!stopped) handed = row;
              continue;
            }
            this.fire(row, now);
            if (!stopped) handed = row;
          }
          // Reads that start from now on begin after every cancel committed so far.
          for (const [id, at] of this.cancelledAt) if (at < read) this.cancelledAt.delete(id);
          // A reset during the read (an outcome moved a row, a set) stands: the cursor stays unset.
          if (handed && this.cursorAt === cursor && this.cursorResets === resets) {
            this.cursorAt = { fireAt: handed.fireAt, id: handed.id };
            // Only a cursor that moved can have passed rows of the targets left out.
            for (const target of full) this.passedOver.add(target);
            // A full page (or one cut short by a target reaching its limit) may have more due
            // rows behind it for the room left: read on from the cursor, which moved forward.
            if ((due.length >= limit || stopped) && this.inFlight.size < this.options.maxInFlight)
              this.pumpAgain = true;
          }
          // Nothing due is left behind (every due row is in flight now): the next pending rows
          // can be read ahead, and the next wakes fire from memory.
          if (due.length < limit && !stopped && full.length === 0 && this.passedOver.size === 0) {
            if (await this.fillAhead(now, gen)) continue;
          }
        }
        if (this.closed) return;
        this.arm(await this.store.nextPending(now));
      } while (this.pumpAgain);
    } catch (err) {
      this.crash(err);
    } finally {
      this.pumping = false;
    }
  }

  private resetCursor(): void {
    this.cursorResets++;
    this.cursorAt = undefined;
    this.passedOver.clear();
    // The window shares the cursor's premise (nothing pending sits unseen before it): both go.
    this.ahead.invalidate();
  }

  /**
   * Fires the window's due rows. Returns false, having dropped the window, when the store must
   * decide instead: the window may not hold every due row (its tail is due), or the in-flight
   * limits stop it (the store path chooses which targets' rows go first).
   */
  private fireAhead(): boolean {
    const now = this.clock.now();
    if (!this.ahead.covers(now)) {
      this.resetCursor();
      return false;
    }
    const perTarget = this.options.maxInFlightPerTarget;
    for (let head = this.ahead.first(); head !== undefined && head.fireAt <= now; head = this.ahead.first()) {
      if (
        this.inFlight.size >= this.options.maxInFlight ||
        (this.perTarget.get(head.target) ?? 0) >= perTarget
      ) {
        this.resetCursor();
        return false;
      }
      this.ahead.takeDue(now);
      if (!this.inFlight.has(head.id)) this.fire(head, now);
    }
    return true;
  }

  /**
   * Reads the rows after the window's tail once it is half empty: only as many as it has room
   * for. The read runs on a wake's path (a synchronous store blocks the thread for it); reading
   * a full window's worth only to trim half of it again doubled that.
   */
  private async topUp(): Promise<void> {
    const from = this.ahead.readFrom();
    if (!this.ahead.wantsMore() || from === undefined || !this.store.upcoming) return;
    const gen = this.ahead.generation;
    const room = AHEAD_ROWS - this.ahead.size;
    const rows = await this.store.upcoming(from, room);
    this.ahead.extend(rows, room, gen);
  }

  /**
   * Fills the window with the pending rows after `now`, read when every row due at `now` is in
   * flight. Returns false (nothing changed) if the store has no read-ahead or something changed
   * since `gen` (a set, a cancel: the read may have missed it).
   */
  private async fillAhead(now: number, gen: number): Promise<boolean> {
    if (!this.store.upcoming) return false;
    const rows = await this.store.upcoming({ fireAt: now, id: Number.MAX_SAFE_INTEGER }, AHEAD_ROWS);
    if (this.closed || !this.ahead.fill(rows, AHEAD_ROWS, gen)) return false;
    this.armAhead();
    return true;
  }

  /**
   * Arms the Timer for the window's first row. A row already due goes round again instead: a
   * Timer armed in the past still waits for its next wake (a millisecond or more).
   */
  private armAhead(): void {
    if (!this.ahead.valid) {
      this.pumpAgain = true; // dropped meanwhile: read from the store
      return;
    }
    const first = this.ahead.first();
    if (first === undefined) {
      // Empty and complete: nothing is pending but what is in flight. Empty and not complete: a
      // top-up was refused (the window changed during it); read again.
      if (this.ahead.readFrom() === undefined) this.arm(undefined);
      else this.pumpAgain = true;
      return;
    }
    if (first.fireAt <= this.clock.now()) this.pumpAgain = true;
    else this.arm(first);
  }

  /**
   * True when no other connection has written since the last look (the change token is the
   * same). A change drops the window (and the cursor): what it holds may be stale.
   */
  private async noOtherWriter(): Promise<boolean> {
    const token = await this.store.changeToken();
    const unchanged = this.changeToken !== undefined && token === this.changeToken;
    this.changeToken = token;
    if (!unchanged) this.resetCursor();
    return unchanged;
  }

  /** The most deliveries in flight to one target not at its limit (0 if none). */
  private busiest(): number {
    let most = 0;
    const limit = this.options.maxInFlightPerTarget;
    for (const n of this.perTarget.values()) if (n < limit && n > most) most = n;
    return most;
  }

  /** Targets with `maxInFlightPerTarget` deliveries in flight. */
  private fullTargets(): string[] {
    const full: string[] = [];
    const limit = this.options.maxInFlightPerTarget;
    for (const [target, n] of this.perTarget) if (n >= limit) full.push(target);
    return full;
  }

  private fireWhenStarted(): void {
    if (this.waitingForStart) return;
    this.waitingForStart = true;
    // Waits for the rest of the tree to start, not for time: no clock involved. A start that
    // fails stops this actor too (closed), so a rejection needs nothing more.
    this.runtime.whenRunning().then(
      () => {
        this.waitingForStart = false;
        if (!this.closed) void this.pump();
      },
      () => {},
    );
  }

  private arm(next: AlarmRow | undefined): void {
    const timer = this.options.timerName;
    if (!next) {
      if (this.armedAt !== null) this.runtime.send(timer, { type: 'timer.disarm' });
      this.armedAt = null;
      return;
    }
    if (next.fireAt === this.armedAt) return;
    this.armedAt = next.fireAt;
    // Due by the store's clock of record: a clock running ahead of it by `skew` wakes that late.
    this.runtime.send(timer, { type: 'timer.arm', at: next.fireAt + (this.store.clockSkewMs?.() ?? 0) });
    const now = this.clock.now();
    if (this.events.has('alarm.armed')) {
      this.events.emit('alarm.armed', { id: next.id, fireAt: next.fireAt, inMs: next.fireAt - now, at: now });
    }
  }

  private fire(row: AlarmRow, now: number): void {
    const { id, target } = row;
    let message: Record<string, unknown>;
    let recurrence: Recurrence | null;
    let misfire: MisfirePolicy;
    try {
      message = decodeMessage(row.message);
      recurrence = row.recurrence === null ? null : validateRecurrence(JSON.parse(row.recurrence));
      misfire = row.misfire === null ? this.options.misfire : validateMisfire(JSON.parse(row.misfire));
    } catch (err) {
      this.fail(row, now, row.attempts, `cannot decode the stored alarm: ${coerceError(err).message}`);
      return;
    }
    if (row.cancelRequestedAt !== null) {
      // A cancel was asked while a delivery was in flight, and the row is still pending: the
      // process stopped before that delivery's outcome was recorded, or the cancel's write landed
      // after it. Either way the user asked for no more: nothing is delivered after the cancel.
      this.settle(
        id,
        {
          kind: 'cancelled',
          id,
          at: now,
          reason: 'cancel asked while a delivery was in flight; nothing is delivered after it',
        },
        () => this.events.emit('alarm.cancelled', { id, at: now }),
      );
      return;
    }
    const lateMs = now - row.fireAt;
    const occurrence = occurrenceOf(row);
    if (misfire.policy === 'skip' && lateMs > misfire.toleranceMs) {
      this.settle(
        row.id,
        { kind: 'missed', id, at: now, lateMs, occurrence, next: this.nextOf(row, recurrence, now, true) },
        () => this.events.emit('alarm.missed', { id, target, lateMs, at: now }),
      );
      return;
    }
    if (!this.isTarget(target)) {
      // Not a worker (any more): no later occurrence can be delivered either; the series fails.
      const reason = this.runtime.isDeclared(target)
        ? `target '${target}' is a supervisor, not a worker: it takes no messages`
        : `target '${target}' is not declared any more`;
      this.fail(row, now, row.attempts, reason);
      return;
    }
    const attempt = row.attempts + 1;
    this.inFlight.add(id);
    this.deliveryTarget.set(id, target);
    this.perTarget.set(target, (this.perTarget.get(target) ?? 0) + 1);
    // The stored message may carry Vigil's reserved `alarm` key (the `trace` option of the set).
    const { message: body, trace } = splitReserved(message);
    const traced = trace === null ? {} : { trace };
    if (this.events.has('alarm.fired')) {
      this.events.emit('alarm.fired', {
        id,
        occurrence: row.occurrence,
        target,
        attempt,
        scheduledFor: row.scheduledFor,
        lateMs,
        at: now,
        ...traced,
      });
    }
    const delivery = {
      ...body,
      type: typeof body.type === 'string' && body.type.length > 0 ? body.type : 'alarm',
      alarm: {
        alarmId: id,
        occurrence: row.occurrence,
        occurrenceId: `${id}.${row.occurrence}`,
        attempt,
        firedAt: now,
        scheduledFor: row.scheduledFor,
        ...traced,
      },
    };
    const delivered = () => {
      const at = this.clock.now();
      const next = this.nextOf(row, recurrence, at, misfire.policy === 'coalesce');
      this.settle(id, { kind: 'fired', id, firedAt: at, attempts: attempt, occurrence, next }, () =>
        this.events.emit('alarm.delivered', {
          id,
          occurrence: row.occurrence,
          target,
          attempt,
          lateMs: now - row.scheduledFor,
          at,
          ...traced,
        }),
      );
    };
    const failed = (err: unknown) => this.deliveryFailed(row, attempt, coerceError(err), recurrence, misfire);
    // A batch target gets this delivery in one message with the others of this page (batch.ts);
    // its item's outcome is settled here exactly as a single delivery's reply.
    if (this.batches.takes(target)) this.batches.add(target, delivery, delivered, failed);
    else
      this.runtime
        .call(target, delivery, { timeoutMs: this.options.deliveryTimeoutMs })
        .then(delivered, failed);
  }

  private deliveryFailed(
    row: AlarmRow,
    attempt: number,
    err: Error,
    recurrence: Recurrence | null,
    misfire: MisfirePolicy,
  ): void {
    const now = this.clock.now();
    const code = (err as { code?: unknown }).code;
    if (code === 'UNKNOWN_ACTOR') {
      this.fail(row, now, attempt, `target '${row.target}' is not declared any more`);
      return;
    }
    const transient = isRetryable(err);
    // An occurrence that the target refused, or that ran out of attempts, fails alone: a series
    // goes on with its next occurrence (a reminder service down for a day does not end it).
    const next = () => this.nextOf(row, recurrence, now, misfire.policy === 'coalesce');
    if (!transient) {
      this.fail(row, now, attempt, `target '${row.target}' refused it: ${err.message}`, next());
      return;
    }
    const maxAttempts = row.maxAttempts;
    if (attempt >= maxAttempts) {
      this.fail(row, now, attempt, `gave up after ${attempt} attempt(s): ${err.message}`, next());
      return;
    }
    const backoff = parseBackoff(row.backoff) ?? this.options.backoff;
    const retryAfter = (err as { retryAfterMs?: unknown }).retryAfterMs;
    const delay = Math.max(retryDelay(backoff, attempt), typeof retryAfter === 'number' ? retryAfter : 0);
    const nextAt = now + delay;
    this.settle(
      row.id,
      { kind: 'retry', id: row.id, attempts: attempt, fireAt: nextAt, reason: err.message },
      () =>
        this.events.emit('alarm.retried', {
          id: row.id,
          target: row.target,
          attempt,
          nextAt,
          reason: err.message,
          at: now,
        }),
    );
  }

  private fail(row: AlarmRow, now: number, attempts: number, reason: string, next?: number): void {
    this.settle(
      row.id,
      { kind: 'failed', id: row.id, at: now, attempts, reason, occurrence: occurrenceOf(row), next },
      () => this.events.emit('alarm.failed', { id: row.id, target: row.target, reason, at: now }),
    );
  }

  /**
   * The next occurrence of a recurring alarm. Normally counted from the scheduled instant, so
   * the series keeps its cadence and a late process catches up on every missed occurrence;
   * `fromNow` (coalesce, skip) counts from now, collapsing the missed ones into this run.
   */
  private nextOf(
    row: AlarmRow,
    recurrence: Recurrence | null,
    now: number,
    fromNow: boolean,
  ): number | undefined {
    if (!recurrence) return undefined;
    const after = fromNow ? Math.max(now, row.scheduledFor) : row.scheduledFor;
    return nextOccurrence(recurrence, after, this.zone) ?? undefined;
  }

  /**
   * Queues an outcome. Outcomes are committed promptly, in groups of what arrives together:
   *
   * - the replies of one drain turn share a transaction: the runtime runs each actor's share of
   *   a turn in one macrotask, so they resolve in the microtasks after it, and the decision,
   *   queued by the first of them, runs after the last;
   * - while deliveries are still unanswered, the commit may wait for the next turns' replies,
   *   but only while the oldest outcome would still be committed within `GROUP_WINDOW_MS`,
   *   judged by how long a turn takes now (`turnMs`, measured on a turn without a commit of
   *   ours). A fast target (a turn of a millisecond or two) gets up to `GROUP_MAX_TURNS` turns
   *   per fsync, which a backlog needs (one commit per turn cost half the backlog throughput
   *   where an fsync takes 2 ms); a slow one (a turn of 50 ms) gets its outcomes committed
   *   after each turn. Waiting for a number of turns whatever their length (as this did
   *   before) made a kill repeat deliveries acknowledged hundreds of milliseconds earlier;
   * - while a commit is running (a store on a worker thread), new outcomes wait for it and go
   *   together in the next one.
   *
   * These times are the process's own work (`performance.now()`), not the schedule's: the
   * injected clock says when alarms are due, not how long an event-loop turn takes.
   */
  private settle(id: number, completion: Completion, announce: () => void): void {
    this.inFlight.add(id);
    if (this.completions.length === 0) this.oldestOutcomeAt = performance.now();
    this.completions.push({ completion, announce });
    if (!this.flushCompletionsQueued && !this.committing) {
      this.flushCompletionsQueued = true;
      queueMicrotask(() => this.flushCompletionsSoon(0));
    }
  }

  private flushCompletionsSoon(turns: number): void {
    const now = performance.now();
    const unanswered = this.inFlight.size - this.completions.length;
    if (
      !this.closed &&
      (unanswered > 0 || this.wakeImminent()) &&
      turns < GROUP_MAX_TURNS &&
      now - this.oldestOutcomeAt + this.turnMs <= GROUP_WINDOW_MS
    ) {
      setImmediate(() => {
        this.turnMs = performance.now() - now; // a turn, with no commit of ours in it
        this.flushCompletionsSoon(turns + 1);
      });
      return;
    }
    void this.flushCompletions();
  }

  /**
   * Whether a wake is under way or about to come: the pump is running (a wake's deliveries are
   * being handed out), or the Timer's instant is at most a millisecond away. A commit (an fsync
   * on the main thread) then waits, within the bounds above, so that it runs after those
   * deliveries instead of in front of them: under the lateness load (five alarms due a
   * millisecond) a commit per wake put an fsync before nearly every wake.
   */
  private wakeImminent(): boolean {
    return this.pumping || (this.armedAt !== null && this.armedAt - this.clock.now() <= 1);
  }

  /**
   * Measures the next event-loop turn after a commit (the commit's own fsync left out), so the
   * next decision to wait is judged on how long the targets' turns take now.
   */
  private measureTurn(): void {
    if (this.turnProbe) return;
    this.turnProbe = true;
    const from = performance.now();
    setImmediate(() => {
      this.turnProbe = false;
      this.turnMs = performance.now() - from;
    });
  }

  private async flushCompletions(): Promise<void> {
    this.flushCompletionsQueued = false;
    const batch = this.completions;
    this.completions = [];
    if (this.closed || batch.length === 0) return;
    this.committing = true;
    let result: CompleteResult;
    try {
      result = await this.store.complete(batch.map((c) => c.completion));
    } catch (err) {
      this.committing = false;
      // The deliveries happened; only their record failed (disk full, busy). Keep them in flight
      // (so they are not delivered again by this incarnation) and try the record again later.
      this.completions.unshift(...batch);
      this.clock.setTimeout(() => {
        if (this.closed || this.flushCompletionsQueued || this.committing) return;
        this.flushCompletionsQueued = true;
        void this.flushCompletions();
      }, 1000);
      this.events.emit('listener.error', { event: 'alarm.complete', error: coerceError(err) });
      return;
    }
    this.committing = false;
    this.measureTurn();
    // Outcomes that arrived during the commit: the next transaction, now.
    if (this.completions.length > 0 && !this.flushCompletionsQueued && !this.closed) {
      this.flushCompletionsQueued = true;
      queueMicrotask(() => this.flushCompletionsSoon(0));
    }
    const now = this.clock.now();
    // Refused outcomes (the row is another node's now, or already final) are not announced as
    // recorded: records never lie. Counted per id, since one batch may hold an id twice.
    const refused = new Map<number, number>();
    for (const id of result.refused) refused.set(id, (refused.get(id) ?? 0) + 1);
    for (const { completion, announce } of batch) {
      const { id } = completion;
      this.inFlight.delete(id);
      if (this.readingDue) this.settledDuringRead.add(id);
      const target = this.deliveryTarget.get(id);
      this.deliveryDone(id);
      // A retry moves a row, and so does a series' next occurrence: either may now sort before
      // the cursor.
      if (completion.kind === 'retry' || ('next' in completion && completion.next !== undefined))
        this.resetCursor();
      const left = refused.get(id) ?? 0;
      if (left > 0) {
        refused.set(id, left - 1);
        this.cancelAsked.delete(id);
        this.events.emit('alarm.superseded', {
          id,
          outcome: completion.kind,
          ...(target === undefined ? {} : { target }),
          at: now,
        });
        continue;
      }
      announce();
      if (this.cancelAsked.delete(id) && result.cancelled.includes(id)) {
        this.events.emit('alarm.cancelled', { id, at: now });
      }
    }
    void this.pump();
  }

  /** A delivery's outcome is committed: its target has one more free slot. */
  private deliveryDone(id: number): void {
    const target = this.deliveryTarget.get(id);
    if (target === undefined) return;
    this.deliveryTarget.delete(id);
    const n = (this.perTarget.get(target) ?? 1) - 1;
    if (n > 0) this.perTarget.set(target, n);
    else this.perTarget.delete(target);
    // Reads while it was full left its due rows behind the cursor: read them again.
    if (this.passedOver.has(target)) this.resetCursor();
  }

  // -------------------------------------------------------------------------------------------
  // Writes by other connections (the CLI): `PRAGMA data_version` changes; go round again.

  /** Another node stored alarms, the earliest at `fireAt`: read again if it may come first. */
  private woken(fireAt: number): void {
    if (this.closed) return;
    if (this.armedAt !== null && fireAt >= this.armedAt && fireAt > this.clock.now()) return;
    this.resetCursor();
    void this.pump();
  }

  private schedulePoll(): void {
    if (this.options.pollMs <= 0 || this.closed) return;
    this.pollTimer = this.clock.setTimeout(() => {
      this.pollTimer = undefined;
      this.store.changeToken().then(
        (token) => {
          this.outageMs = 0;
          if (this.changeToken !== undefined && token !== this.changeToken) {
            this.resetCursor();
            void this.pump();
          }
          this.changeToken = token;
          this.schedulePoll();
        },
        (err) => {
          this.pollStopped = true; // an outage's retry starts it again
          this.crash(err);
        },
      );
    }, this.options.pollMs);
  }

  private crash(err: unknown): void {
    if (this.closed) return;
    // A database that cannot be reached (restarting, failing over) is waited for, not crashed
    // on: a restart would find it just as unreachable and burn the supervisor's intensity.
    // Sets meanwhile are answered with the error; outcomes wait in memory (see flushCompletions).
    if ((err as { code?: unknown })?.code === 'STORE_UNAVAILABLE') {
      this.retryLater();
      return;
    }
    exit(this.self, Exit.error(coerceError(err)));
  }

  /** Reads the store again after a growing wait; the poll, when it succeeds, resets the wait. */
  private retryLater(): void {
    if (this.outageTimer !== undefined) return;
    this.outageMs = Math.min(Math.max(OUTAGE_MIN_MS, this.outageMs * 2), OUTAGE_MAX_MS);
    this.outageTimer = this.clock.setTimeout(() => {
      this.outageTimer = undefined;
      if (this.closed) return;
      this.resetCursor();
      void this.pump();
      if (this.pollStopped) {
        this.pollStopped = false;
        this.schedulePoll();
      }
    }, this.outageMs);
  }
}

/** The Alarm actor's logic. */
export const alarmLogic = fromCallback<{ type: string }, AlarmServiceInput>(({ input, receive, self }) => {
  const service = new AlarmService(input.runtime, input.options, self);
  receive((event) => service.handle(event));
  return () => service.close();
});

/** A stored row as the answer to the `set` that inserted it (or found it by its key). */
function view(r: { row: AlarmRow; created: boolean }): Alarm {
  return r.created ? toInsertedAlarm(r.row) : toAlarm(r.row);
}

/** The answer of a `setEach`: its committed alarms and refused items, back in item order. */
function answerEach(alarms: Alarm[], refused: Map<number, Error> | undefined): SetEachResult[] {
  const out: SetEachResult[] = [];
  let next = 0;
  for (let i = 0; i < alarms.length + (refused?.size ?? 0); i++) {
    const error = refused?.get(i);
    out.push(error ? { error } : { alarm: alarms[next++]! });
  }
  return out;
}

/** How far back a caller's `requestedAt` may reach: a queue wait, not a way to set past alarms. */
const MAX_REQUEST_SKEW_MS = 60_000;

/** The caller's `requestedAt` if it is a plausible recent instant, else now. */
function referenceInstant(requestedAt: unknown, now: number): number {
  if (typeof requestedAt !== 'number' || !Number.isFinite(requestedAt)) return now;
  return requestedAt <= now && requestedAt >= now - MAX_REQUEST_SKEW_MS ? requestedAt : now;
}

function asArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new VigilError('INVALID_REQUEST', "'items' must be an array of alarms");
  return value;
}

function asId(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new VigilError(
      'INVALID_ID',
      `alarm id must be a positive integer, got ${describeValue(value, 40)}`,
    );
  }
  return value;
}

function asFilter(value: unknown): ListFilter {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null)
    throw new VigilError('INVALID_REQUEST', 'filter must be an object');
  const f = value as Record<string, unknown>;
  if (f.key !== undefined && typeof f.key !== 'string')
    throw new VigilError('INVALID_REQUEST', `filter key must be a string, got ${describeValue(f.key, 40)}`);
  for (const field of ['fireFrom', 'fireTo'] as const) {
    if (f[field] !== undefined && (typeof f[field] !== 'number' || !Number.isFinite(f[field])))
      throw new VigilError(
        'INVALID_REQUEST',
        `filter ${field} must be an instant in epoch ms, got ${describeValue(f[field], 40)}`,
      );
  }
  return value as ListFilter;
}

/** The occurrence a completion settles, for the history of a recurring alarm (none for one-shots). */
function occurrenceOf(row: AlarmRow): SettledOccurrence | undefined {
  return row.recurrence === null ? undefined : { seq: row.occurrence, scheduledFor: row.scheduledFor };
}

function parseBackoff(text: string | null): { minMs: number; maxMs: number; factor: number } | undefined {
  if (text === null) return undefined;
  try {
    const b = JSON.parse(text) as { minMs: number; maxMs: number; factor: number };
    return b.minMs >= 0 && b.maxMs >= b.minMs && b.factor >= 1 ? b : undefined;
  } catch {
    return undefined;
  }
}

export type { Alarm };

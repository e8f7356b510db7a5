/**
 * Per-user subtrees under the runtime's root supervisor, started on first use.
 *
 * A user's subtree is `user:<id>` (one_for_one): `Inbox:<id>`, then `alarms:<id>` (Timer:<id>,
 * Alarm:<id>), then `Scheduler:<id>`, all on `<data>/<id>.db`. The Inbox comes first so it is
 * declared before the Alarm fires anything that came due while the subtree was stopped.
 *
 * Idle policy: a subtree runs while its user has a connected session, an alarm in flight, or a
 * pending alarm due within `2 × wakeAheadMs`. Otherwise it is stopped, and the user's earliest
 * pending instant goes into the host's wake index (one map, one timer for the earliest entry):
 * `wakeAheadMs` before that instant the subtree is started again, and its Alarm delivers the
 * alarm on time. At start, `resumePending` reads each database's earliest pending instant and
 * either starts the user (due soon) or puts it in the index. So every pending alarm has a running
 * Alarm actor from `wakeAheadMs` before it is due; memory is held only for users with a session or
 * an alarm due soon; a user whose alarms are weeks away costs a file and one map entry.
 *
 * The index is this server's: an alarm written into a stopped user's database by another process
 * (the CLI) is seen when that user is next started (a session, a wake, a server restart).
 *
 * Every operation on one user (start, stop) goes through that user's promise chain, so a stop
 * and a start of the same user never interleave.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AlarmClient, alarmSupervisor } from '@vigil/alarm';
import { type Runtime, supervisor, type TimerHandle, worker } from '@vigil/runtime';
import { schedulerWorker, type Workflow, WorkflowClient } from '@vigil/workflow';
import { inboxLogic } from './inbox-target.js';
import { checkUserId, type Principal } from './principal.js';
import { type InboxItem, nextPendingIn, UserStore } from './user-store.js';

/** A running user's services. @internal */
export interface UserService {
  principal: Principal;
  alarms: AlarmClient;
  workflows: WorkflowClient;
  store: UserStore;
  /** The Inbox's registered name (what `Inbox` means for this user). */
  inboxName: string;
}

/** Called with each new (not duplicate) inbox item of a user. */
export type InboxListener = (item: InboxItem) => void;

interface Entry {
  service: UserService | undefined;
  /** The tail of this user's operations. */
  chain: Promise<unknown>;
  sessions: number;
}

/** @internal */
export interface UserHostOptions {
  data: string;
  workflows: Workflow[];
  principal: (id: string) => Principal;
  /** How long before a stopped user's earliest pending alarm its subtree is started again. */
  wakeAheadMs: number;
}

/** setTimeout's longest delay is 2^31 - 1 ms; a later wake re-arms on the way. */
const MAX_TIMER_MS = 86_400_000;

/** Starts, finds and stops per-user subtrees. @internal */
export class UserHost {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Map<string, Set<InboxListener>>();
  /** Stopped users with a pending alarm: the instant of their earliest one. */
  private readonly sleeping = new Map<string, number>();
  private wakeTimer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: UserHostOptions,
  ) {}

  /** Path of a user's database file. The id is checked first: no path tricks. */
  dbPath(id: string): string {
    return join(this.options.data, `${checkUserId(id)}.db`);
  }

  /** Users whose subtree is running now. */
  running(): string[] {
    return [...this.entries].filter(([, e]) => e.service).map(([id]) => id);
  }

  /** Stopped users with a pending alarm, and the instant of their earliest one. */
  sleepers(): { user: string; nextFireAt: number }[] {
    return [...this.sleeping].map(([user, nextFireAt]) => ({ user, nextFireAt }));
  }

  /** Opens a session of `id`: starts the subtree if needed; `release` ends it. */
  async acquire(id: string): Promise<UserService> {
    const entry = this.entry(id);
    entry.sessions += 1;
    try {
      return await this.ensure(id);
    } catch (err) {
      entry.sessions -= 1;
      throw err;
    }
  }

  /** The user's services, starting the subtree on first use. */
  ensure(id: string): Promise<UserService> {
    checkUserId(id);
    return this.serial(id, async (entry) => {
      if (entry.service) return entry.service;
      entry.service = await this.start(id);
      if (this.sleeping.delete(id)) this.arm();
      return entry.service;
    });
  }

  /** Ends a session; stops the subtree if the user has no session and no pending alarm. */
  async release(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.sessions = Math.max(0, entry.sessions - 1);
    await this.stopIfIdle(id);
  }

  /**
   * Stops the subtree of `id` if it has no session, no alarm in flight and no pending alarm due
   * within `2 × wakeAheadMs`; a later pending alarm goes into the wake index. True if stopped.
   */
  stopIfIdle(id: string): Promise<boolean> {
    return this.serial(id, async (entry) => {
      if (!entry.service || entry.sessions > 0 || this.closed) return false;
      const stats = await entry.service.alarms.stats();
      if (stats.inFlight > 0) return false;
      const next = (stats.byStatus.pending ?? 0) > 0 ? stats.nextFireAt : null;
      // Twice the lead: a user just woken (its alarm wakeAheadMs away) is not stopped again.
      if (next !== null && next <= this.runtime.clock.now() + 2 * this.options.wakeAheadMs) return false;
      await this.stop(id, entry);
      if (next !== null) this.sleep(id, next);
      return true;
    });
  }

  /**
   * At server start: starts every user whose database holds a pending alarm due soon, and puts
   * the others in the wake index. Resolves with the users started.
   */
  async resumePending(): Promise<string[]> {
    const started: string[] = [];
    for (const file of readdirSync(this.options.data)) {
      const m = /^(.+)\.db$/.exec(file);
      if (!m?.[1]) continue;
      const id = m[1];
      try {
        checkUserId(id);
      } catch {
        continue; // not a user's file
      }
      const next = nextPendingIn(join(this.options.data, file));
      if (next === null) continue;
      if (next > this.runtime.clock.now() + 2 * this.options.wakeAheadMs) {
        this.sleep(id, next);
        continue;
      }
      await this.ensure(id);
      started.push(id);
    }
    return started;
  }

  /** Subscribes to a user's new inbox items; returns the unsubscribe function. */
  onInbox(id: string, listener: InboxListener): () => void {
    const set = this.listeners.get(id) ?? new Set<InboxListener>();
    this.listeners.set(id, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Stops every subtree (the runtime's stop does the rest). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.wakeTimer !== undefined) this.runtime.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    for (const [id, entry] of this.entries) {
      await this.serial(id, async (e) => {
        if (e.service) await this.stop(id, e);
      }).catch(() => undefined);
      entry.sessions = 0;
    }
  }

  private sleep(id: string, nextFireAt: number): void {
    this.sleeping.set(id, nextFireAt);
    this.arm();
  }

  /** One timer, for the earliest wake in the index (a linear scan: the index is per server). */
  private arm(): void {
    if (this.wakeTimer !== undefined) this.runtime.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (this.closed || this.sleeping.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const at of this.sleeping.values()) earliest = Math.min(earliest, at);
    const delay = earliest - this.options.wakeAheadMs - this.runtime.clock.now();
    this.wakeTimer = this.runtime.clock.setTimeout(
      () => this.wake(),
      Math.min(Math.max(0, delay), MAX_TIMER_MS),
    );
  }

  /** Starts every sleeper whose earliest alarm is within `wakeAheadMs`; re-arms for the rest. */
  private wake(): void {
    this.wakeTimer = undefined;
    const horizon = this.runtime.clock.now() + this.options.wakeAheadMs;
    for (const [id, at] of [...this.sleeping]) {
      if (at > horizon) continue;
      this.sleeping.delete(id);
      // A start that fails (the database cannot be opened) is tried again a second later: the
      // user's alarm is never given up on because one start failed.
      this.ensure(id).catch(() => {
        if (!this.closed && !this.entries.get(id)?.service) this.sleep(id, this.runtime.clock.now() + 1_000);
      });
    }
    this.arm();
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id) ?? { service: undefined, chain: Promise.resolve(), sessions: 0 };
    this.entries.set(id, entry);
    return entry;
  }

  private serial<T>(id: string, work: (entry: Entry) => Promise<T>): Promise<T> {
    const entry = this.entry(id);
    const next = entry.chain.then(
      () => work(entry),
      () => work(entry),
    );
    entry.chain = next.catch(() => undefined);
    return next;
  }

  private async start(id: string): Promise<UserService> {
    const principal = this.options.principal(id);
    const db = this.dbPath(id);
    // Opened (and migrated) before the Inbox can receive anything.
    const store = new UserStore(db);
    const names = { inbox: `Inbox:${id}`, alarm: `Alarm:${id}`, scheduler: `Scheduler:${id}` };
    const clock = this.runtime.clock;
    const deliver = (delivery: Record<string, unknown> & { alarm: Record<string, unknown> }) => {
      const { alarm, ...message } = delivery;
      const alarmId = Number(alarm.alarmId);
      const scheduledFor = Number(alarm.scheduledFor);
      // An occurrence id from the Alarm when it gives one; otherwise the alarm id and the
      // instant the occurrence was scheduled for, which no other occurrence shares.
      const occurrenceId =
        typeof alarm.occurrenceId === 'string' || typeof alarm.occurrenceId === 'number'
          ? String(alarm.occurrenceId)
          : `${alarmId}@${scheduledFor}`;
      const { item, inserted } = store.deliver(
        {
          occurrenceId,
          alarmId,
          attempt: Number(alarm.attempt),
          scheduledFor,
          firedAt: Number(alarm.firedAt),
          message,
        },
        clock.now(),
      );
      if (!inserted) return;
      for (const listener of this.listeners.get(id) ?? []) {
        try {
          listener(item);
        } catch {
          // A listener (a session's notification) never fails a delivery.
        }
      }
    };
    const spec = supervisor(
      `user:${id}`,
      [
        worker(names.inbox, inboxLogic, { input: { deliver } }),
        alarmSupervisor({
          db,
          name: names.alarm,
          timerName: `Timer:${id}`,
          supervisorName: `alarms:${id}`,
          zone: principal.zone,
          maxMessageBytes: Math.max(1024, principal.policy.maxMessageBytes * 2),
        }),
        schedulerWorker({
          db,
          workflows: this.options.workflows,
          name: names.scheduler,
          alarmName: names.alarm,
          zone: principal.zone,
        }),
      ],
      { strategy: 'one_for_one', maxRestarts: 5, withinMs: 10_000, restart: 'permanent' },
    );
    try {
      await this.runtime.startChild(spec);
    } catch (err) {
      store.close();
      throw err;
    }
    return {
      principal,
      alarms: new AlarmClient(this.runtime, { name: names.alarm }),
      workflows: new WorkflowClient(this.runtime, { name: names.scheduler }),
      store,
      inboxName: names.inbox,
    };
  }

  private async stop(id: string, entry: Entry): Promise<void> {
    const service = entry.service;
    entry.service = undefined;
    // As in OTP, a running child is stopped before it can be deleted (deleteChild of a running
    // child is refused with ALREADY_RUNNING).
    await this.runtime.terminateChild(`user:${id}`);
    await this.runtime.deleteChild(`user:${id}`);
    service?.store.close();
  }
}

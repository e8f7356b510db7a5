/**
 * Per-user subtrees under the runtime's root supervisor, started on first use.
 *
 * A user's subtree is `user:<id>` (one_for_one): `Inbox:<id>`, then `alarms:<id>` (Timer:<id>,
 * Alarm:<id>), then `Scheduler:<id>`, all on `<data>/<id>.db`. The Inbox comes first so it is
 * declared before the Alarm fires anything that came due while the subtree was stopped.
 *
 * Idle policy (the second option): a subtree runs while its user has a connected session
 * OR a pending alarm. `release` stops it only when both are false, and at start `resumePending`
 * starts every user whose database holds a pending alarm. So every pending alarm always has a
 * running Alarm actor: none can be late or lost because its subtree was stopped. Memory is held
 * only for users with a session or a pending alarm; an idle user costs a file on disk.
 *
 * Every operation on one user (start, stop) goes through that user's promise chain, so a stop
 * and a start of the same user never interleave.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AlarmClient, alarmSupervisor } from '@vigil/alarm';
import { type Runtime, supervisor, worker } from '@vigil/runtime';
import { schedulerWorker, type Workflow, WorkflowClient } from '@vigil/workflow';
import { inboxLogic } from './inbox-target.js';
import { checkUserId, type Principal } from './principal.js';
import { type InboxItem, pendingAlarmsIn, UserStore } from './user-store.js';

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
}

/** Starts, finds and stops per-user subtrees. @internal */
export class UserHost {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Map<string, Set<InboxListener>>();

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

  /** Stops the subtree of `id` if it has no session and no pending alarm; true if stopped. */
  stopIfIdle(id: string): Promise<boolean> {
    return this.serial(id, async (entry) => {
      if (!entry.service || entry.sessions > 0) return false;
      const stats = await entry.service.alarms.stats();
      if ((stats.byStatus.pending ?? 0) > 0 || stats.inFlight > 0) return false;
      await this.stop(id, entry);
      return true;
    });
  }

  /** Starts the subtree of every user whose database holds a pending alarm (call at start). */
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
      if (pendingAlarmsIn(join(this.options.data, file)) === 0) continue;
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
    for (const [id, entry] of this.entries) {
      await this.serial(id, async (e) => {
        if (e.service) await this.stop(id, e);
      }).catch(() => undefined);
      entry.sessions = 0;
    }
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

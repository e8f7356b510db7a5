/**
 * Hot upgrade of one running worker, after OTP's release handling: suspend, change code,
 * resume. The steps, in this order, inside the supervisor's operation queue (so no restart or
 * administrative operation interleaves):
 *
 * 1. suspend: the mailbox stops delivering; senders and callers still queue;
 * 2. take the persisted snapshot and stop the old XState actor (its invoked children too);
 * 3. `migrate(snapshot)` (identity by default), awaited;
 * 4. start the new logic from the migrated snapshot, under the same process: same name, same
 *    mailbox, same monitors (exit listeners live on the process), same supervisor;
 * 5. resume: what queued meanwhile is delivered to the new code, in arrival order.
 *
 * Invariants: no message is lost, reordered or delivered twice (the mailbox is never emptied
 * or copied, only paused); a call waiting in the mailbox is answered by the new code. If step
 * 3 or 4 fails, the old logic starts again from the snapshot of step 2 and the upgrade
 * rejects with `UpgradeFailedError`; if even that fails, the process exits with the error and
 * its supervisor reacts as to any crash (nothing runs half-upgraded).
 */

import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyActorLogic } from 'xstate';
import type { ActorProcess } from './actor.js';
import { coerceError, UpgradeFailedError } from './errors.js';
import { Exit } from './exit.js';
import { isIsolatedLogic } from './isolation/mark.js';
import { isLogic, type WorkerSpec } from './spec.js';

/** Options of `runtime.upgrade`. */
export interface UpgradeOptions {
  /**
   * Turns the old logic's persisted snapshot into one the new logic can start from (context
   * renamed, states moved). Identity by default. It receives the snapshot object itself, not a
   * serialized copy: an event kept in context for a later `reply` is still the call's key.
   */
  migrate?: (snapshot: unknown) => unknown;
}

/** What `runtime.upgrade` resolves with: the versions before and after. */
export interface UpgradeResult {
  name: string;
  from: string | undefined;
  to: string | undefined;
}

/** The version of a logic: an XState machine's `version`, if set. */
export function versionOf(logic: AnyActorLogic): string | undefined {
  const version = (logic as { version?: unknown }).version;
  return typeof version === 'string' ? version : undefined;
}

/**
 * @internal Replaces the logic `process` runs by `spec.logic` (see the header); resolves once
 * the new logic runs. The caller (the supervisor) then records `spec` as the child's spec.
 */
export async function upgradeProcess(
  process: ActorProcess,
  spec: WorkerSpec,
  options: UpgradeOptions,
): Promise<UpgradeResult> {
  const oldSpec = process.spec;
  const name = process.name;
  // An isolated actor's state lives in its thread, not in the proxy the runtime holds: swapping
  // the proxy would restart it empty. Refused, changing nothing, until moving a snapshot into a
  // thread is built (issue 15).
  if (isIsolatedLogic(oldSpec.logic) || isIsolatedLogic(spec.logic))
    throw new UpgradeFailedError(
      name,
      'load',
      'isolated actors (threadPool) cannot be upgraded in place yet',
    );
  const snapshot = process.suspend();
  try {
    let migrated: unknown;
    try {
      migrated = options.migrate ? await options.migrate(snapshot) : snapshot;
    } catch (err) {
      rollback(process, oldSpec, snapshot);
      throw new UpgradeFailedError(name, 'migrate', coerceError(err));
    }
    // Killed while the migration ran (its supervisor shut down): nothing is left to upgrade.
    if (!process.alive) throw new UpgradeFailedError(name, 'exited', process.exitReason?.kind ?? 'exited');
    try {
      process.restartFrom(spec, migrated);
    } catch (err) {
      rollback(process, oldSpec, snapshot);
      throw new UpgradeFailedError(name, 'start', coerceError(err));
    }
  } finally {
    process.resume();
  }
  const result = { name, from: versionOf(oldSpec.logic), to: versionOf(spec.logic) };
  process.host.events.emit('actor.upgraded', {
    ...result,
    incarnation: process.incarnation,
    at: process.host.clock.now(),
  });
  return result;
}

/** The old logic runs on from its snapshot; if it cannot, the process crashes with the reason. */
function rollback(process: ActorProcess, spec: WorkerSpec, snapshot: unknown): void {
  if (!process.alive) return;
  try {
    process.restartFrom(spec, snapshot);
  } catch (err) {
    process.kill(Exit.error(coerceError(err)));
  }
}

let loads = 0;

/**
 * @internal Loads export `exportName` of the module at `moduleUrl` afresh (runtime.upgradeFrom).
 * Node caches an ES module by its full URL, query included, and offers no way to evict one:
 * each load adds a `vigil-upgrade=N` query, so the file is read and evaluated again. Only that
 * module is fresh: what it imports resolves through the cache as before. Every loaded version
 * stays in memory (a dev-mode cost, not one for a hot path).
 */
export async function loadLogic(
  name: string,
  moduleUrl: string | URL,
  exportName: string,
): Promise<AnyActorLogic> {
  let url: URL;
  let mod: Record<string, unknown>;
  try {
    url =
      typeof moduleUrl === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(moduleUrl)
        ? pathToFileURL(resolvePath(moduleUrl))
        : new URL(String(moduleUrl));
    url.searchParams.set('vigil-upgrade', String(++loads));
    mod = (await import(url.href)) as Record<string, unknown>;
  } catch (err) {
    throw new UpgradeFailedError(name, 'load', coerceError(err));
  }
  const logic = mod[exportName];
  if (!isLogic(logic)) {
    throw new UpgradeFailedError(
      name,
      'load',
      `module has no export '${exportName}' that is XState actor logic`,
    );
  }
  return logic;
}

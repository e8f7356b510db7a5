/**
 * Workflow versions: which definition a stored run executes at its next step.
 *
 * A run records the version it started with. At its next step (a step delivery, a machine's
 * event, delay or restore) it is resolved, in this order:
 * 1. the highest registered version that declares `migrate` from the run's version moves the
 *    run onto itself (step renamed, context or snapshot changed);
 * 2. otherwise the run's own version, if it is still registered, runs it as before;
 * 3. otherwise the run fails with a reason naming its version and the registered ones: never
 *    silently, and never by running code of another version it was not migrated to.
 *
 * `resolve` is pure (no store, no clock): the Scheduler commits what it returns.
 */
import { coerceError } from '@vigil/runtime';
import { InvalidSchedulerOptionError } from './errors.js';
import type { RunRecord } from './store/types.js';
import type { Workflow } from './workflow.js';

/** A run resolved to the definition that runs it, or the reason it cannot run. */
export type Resolution =
  | { ok: true; workflow: Workflow; run: RunRecord; migratedFrom: number | undefined }
  | { ok: false; reason: string };

/** @internal Every registered version of every workflow, by name. */
export class WorkflowVersions {
  private readonly byName = new Map<string, Map<number, Workflow>>();

  constructor(workflows: readonly Workflow[]) {
    for (const w of workflows) {
      const versions = this.byName.get(w.name) ?? new Map<number, Workflow>();
      if (versions.has(w.version))
        throw new InvalidSchedulerOptionError(
          `workflow '${w.name}' version ${w.version} is registered twice`,
          'workflows',
        );
      const other = versions.values().next().value;
      if (other && other.kind !== w.kind)
        throw new InvalidSchedulerOptionError(
          `workflow '${w.name}' is registered both as steps and as a machine`,
          'workflows',
        );
      versions.set(w.version, w);
      this.byName.set(w.name, versions);
    }
  }

  /** The registered workflow names. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The version new runs of `name` start on: the highest registered. */
  latest(name: string): Workflow | undefined {
    const versions = this.byName.get(name);
    if (!versions) return undefined;
    return versions.get(Math.max(...versions.keys()));
  }

  /** True when some version of `name` is registered with the run's kind. */
  knows(run: RunRecord): boolean {
    return this.latest(run.workflow)?.kind === run.kind;
  }

  /** The definition that runs `run` at its next step (see the header). */
  resolve(run: RunRecord): Resolution {
    const versions = this.byName.get(run.workflow);
    const from = run.version ?? 1;
    if (!versions || this.latest(run.workflow)?.kind !== run.kind)
      return { ok: false, reason: `workflow '${run.workflow}' is not registered` };
    const migrating = [...versions.values()]
      .filter((w) => w.version > from && Object.hasOwn(w.migrate, from))
      .sort((a, b) => b.version - a.version)[0];
    if (migrating) return migrate(run, from, migrating);
    const own = versions.get(from);
    if (own) return { ok: true, workflow: own, run: { ...run, version: from }, migratedFrom: undefined };
    const registered = [...versions.keys()].sort((a, b) => a - b).join(', ');
    return {
      ok: false,
      reason: `workflow '${run.workflow}' version ${from} is not registered any more (registered: ${registered}) and no version declares a migration from it`,
    };
  }
}

function migrate(run: RunRecord, from: number, to: Workflow): Resolution {
  const failed = (detail: string): Resolution => ({
    ok: false,
    reason: `migration of workflow '${run.workflow}' from version ${from} to ${to.version} failed: ${detail}`,
  });
  try {
    if (to.kind === 'machine') {
      const snapshot = (to.migrate[from] as (s: unknown) => unknown)(structuredClone(run.snapshot));
      // What the next incarnation will read back: a JSON round trip now, as every snapshot gets.
      const stored = JSON.parse(JSON.stringify(snapshot ?? null)) as {
        context?: Record<string, unknown>;
        value?: unknown;
      } | null;
      if (stored === null || typeof stored !== 'object') return failed('it returned no snapshot');
      return {
        ok: true,
        workflow: to,
        run: {
          ...run,
          version: to.version,
          snapshot: stored,
          context: stored.context ?? run.context,
          // A machine run's step is its state value as JSON (durable-machine.ts, persist).
          step: stored.value === undefined ? run.step : JSON.stringify(stored.value),
        },
        migratedFrom: from,
      };
    }
    const moved = to.migrate[from]?.({ step: run.step, context: structuredClone(run.context) });
    if (!moved || typeof moved.step !== 'string' || !Object.hasOwn(to.steps, moved.step))
      return failed(
        `it returned step '${String(moved?.step)}', which is not a step of version ${to.version}`,
      );
    const context = moved.context ?? run.context;
    if (typeof context !== 'object' || context === null || Array.isArray(context))
      return failed('it returned a context that is not an object');
    JSON.stringify(context);
    return {
      ok: true,
      workflow: to,
      run: { ...run, version: to.version, step: moved.step, context },
      migratedFrom: from,
    };
  } catch (err) {
    return failed(coerceError(err).message);
  }
}

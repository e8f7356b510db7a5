/**
 * Model-based test of supervision under concurrency (fast-check `commands`). A reference model
 * applies every operation in arrival order, as OTP's gen_server does, and knows how long each
 * takes on the ManualClock (a slow `readyWhen` start, a trapExit child that must be killed).
 * The commands interleave exits of every kind, administration (start/terminate/restart/delete,
 * dynamic children), administration issued while the restart it races is in progress, time
 * (often exactly the intensity window) and `runtime.stop()`.
 *
 * After every command: each worker name has at most one live incarnation, every live
 * incarnation has a live supervisor, and after stop nothing is alive, counted on real XState
 * actors (the `LiveActors` trackers each incarnation invokes and spawns), not on the registry.
 * Once the queue is idle the tree must also match the model: ids, incarnations, statuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChildSpec,
  type ManualClock,
  type RestartType,
  type Runtime,
  settle,
  supervisor,
  worker,
} from '../src/index.js';
import { isReady, LiveActors, makeExit, manualRuntime, nameInput, type ReasonName } from './helpers.js';

const READY_MS = 20; // a slow child's start
const TRAP_SHUTDOWN_MS = 30; // T ignores vigil.shutdown: it is killed after this
const S_SHUTDOWN_MS = 10; // S's own budget, shorter than T's: stop kills S while T is stopping
const S_MAX_RESTARTS = 1;
const S_WITHIN_MS = 100;

interface ChildDef {
  id: string;
  restart: RestartType;
  slow: boolean;
  trap: boolean;
}

const STATIC: ChildDef[] = [
  { id: 'F', restart: 'permanent', slow: false, trap: false },
  { id: 'L', restart: 'permanent', slow: true, trap: false },
  { id: 'T', restart: 'transient', slow: false, trap: true },
];
const DYNAMIC: ChildDef[] = [
  { id: 'D0', restart: 'permanent', slow: false, trap: false },
  { id: 'D1', restart: 'transient', slow: true, trap: false },
  { id: 'D2', restart: 'temporary', slow: false, trap: false },
];

function defOf(id: string): ChildDef {
  return [...STATIC, ...DYNAMIC].find((d) => d.id === id) as ChildDef;
}

function specOf(def: ChildDef, live: LiveActors): ChildSpec {
  return worker(def.id, live.machine({ readyAfterMs: def.slow ? READY_MS : undefined, stubborn: def.trap }), {
    input: nameInput,
    restart: def.restart,
    readyWhen: def.slow ? isReady : undefined,
    trapExit: def.trap,
    shutdown: def.trap ? TRAP_SHUTDOWN_MS : 5000,
  });
}

interface MChild extends ChildDef {
  running: boolean;
  incarnation: number;
}

type Outcome = 'ok' | 'ALREADY_RUNNING' | 'UNKNOWN_CHILD' | 'DUPLICATE_NAME' | 'ACTOR_DOWN';

/** OTP's one_for_one supervisor S under a root that always restarts it, in arrival order. */
class Model {
  now = 0;
  stopped = false;
  s: MChild[] = [];
  sIncarnation = 1;
  private sRestarts: number[] = [];
  rIncarnation = 1;
  /** Set by an exit that made S give up: an operation already addressed to it finds it gone. */
  sGone = false;

  constructor() {
    this.s = STATIC.map((def) => ({ ...def, running: true, incarnation: 1 }));
  }

  /** Time to start `child`. */
  private startCost(child: ChildDef): number {
    return child.slow ? READY_MS : 0;
  }

  /** Time to stop `child` on purpose. */
  private stopCost(child: MChild): number {
    return child.running && child.trap ? TRAP_SHUTDOWN_MS : 0;
  }

  find(id: string): MChild | undefined {
    return this.s.find((c) => c.id === id);
  }

  /** A child of S exits with `reason` at `now`; returns the time the supervisor spends on it. */
  exit(id: string, reason: ReasonName): number {
    if (id === 'R') {
      this.rIncarnation++;
      return 0;
    }
    const child = this.find(id) as MChild;
    child.running = false;
    if (child.restart === 'temporary') {
      this.s = this.s.filter((c) => c !== child);
      return 0;
    }
    const abnormal = reason === 'error' || reason === 'killed';
    if (child.restart === 'transient' && !abnormal) return 0;
    // OTP add_restart: a restart exactly withinMs old still counts.
    this.sRestarts = this.sRestarts.filter((t) => this.now - t <= S_WITHIN_MS);
    this.sRestarts.push(this.now);
    if (this.sRestarts.length > S_MAX_RESTARTS) {
      this.sGone = true;
      return this.escalate();
    }
    child.running = true;
    child.incarnation++;
    return this.startCost(child);
  }

  /** S gives up: stops its children in reverse order; the root starts a new S from its spec. */
  private escalate(): number {
    let cost = 0;
    for (const c of [...this.s].reverse()) cost += this.stopCost(c);
    this.sIncarnation++;
    this.sRestarts = [];
    this.s = STATIC.map((def) => ({ ...def, running: true, incarnation: 1 }));
    for (const c of this.s) cost += this.startCost(c);
    return cost;
  }

  admin(op: AdminOp, id: string): { outcome: Outcome; cost: number } {
    // Queued behind the exit on the incarnation of S that gave up.
    if (this.sGone) return { outcome: 'ACTOR_DOWN', cost: 0 };
    if (op === 'startChild') {
      if (this.find(id)) return { outcome: 'DUPLICATE_NAME', cost: 0 };
      const def = defOf(id);
      this.s.push({ ...def, running: true, incarnation: 1 });
      return { outcome: 'ok', cost: this.startCost(def) };
    }
    const child = this.find(id);
    if (!child) return { outcome: 'UNKNOWN_CHILD', cost: 0 };
    if (op === 'terminateChild') {
      const cost = this.stopCost(child);
      child.running = false;
      if (child.restart === 'temporary') this.s = this.s.filter((c) => c !== child);
      return { outcome: 'ok', cost };
    }
    if (child.running) return { outcome: 'ALREADY_RUNNING', cost: 0 };
    if (op === 'deleteChild') {
      this.s = this.s.filter((c) => c !== child);
      return { outcome: 'ok', cost: 0 };
    }
    child.running = true;
    child.incarnation++;
    return { outcome: 'ok', cost: this.startCost(child) };
  }

  /** runtime.stop(): the root stops R, then S (killed after its budget if T will not stop). */
  stop(): number {
    this.stopped = true;
    const t = this.find('T');
    return t?.running ? S_SHUTDOWN_MS : 0;
  }
}

type AdminOp = 'startChild' | 'terminateChild' | 'restartChild' | 'deleteChild';

interface Real {
  runtime: Runtime;
  clock: ManualClock;
  live: LiveActors;
}

/** The invariant, on real actors; checked after every command and half-way through some. */
function checkInvariant(real: Real, stopped: boolean): void {
  const { runtime, live } = real;
  for (const name of live.names()) {
    expect(live.of(name), `${name}: at most one live incarnation`).toBeLessThanOrEqual(2);
    const parent = name === 'R' ? 'root' : 'S';
    expect(runtime.status(parent), `${name} runs, so its supervisor ${parent} must`).toBe('running');
  }
  if (stopped) expect(live.total(), 'nothing alive after stop').toBe(0);
}

/** Once idle, the tree is the model's. */
function checkModel(model: Model, real: Real): void {
  const { runtime, live } = real;
  if (model.stopped) return;
  expect(
    runtime
      .whichChildren('S')
      .map((c) => ({ id: c.id, incarnation: c.incarnation, running: c.status === 'running' })),
  ).toEqual(model.s.map((c) => ({ id: c.id, incarnation: c.incarnation, running: c.running })));
  expect(runtime.tree()?.children?.[0]).toMatchObject({ name: 'S', incarnation: model.sIncarnation });
  expect(runtime.whichChildren('root')[1]).toMatchObject({ id: 'R', incarnation: model.rIncarnation });
  for (const def of [...STATIC, ...DYNAMIC]) {
    const expected = model.find(def.id)?.running ? 1 : 0;
    expect(live.incarnationsOf(def.id), `${def.id} live incarnations`).toBe(expected);
  }
}

/** Moves the clock by `ms` (the model's cost) and lets everything settle. */
async function elapse(model: Model, real: Real, ms: number): Promise<void> {
  model.now += ms;
  await real.clock.advance(ms);
  await settle();
}

/** Waits until the exit of `name` has been handled (its supervisor has queued it). */
function exited(runtime: Runtime, name: string): Promise<unknown> {
  return Promise.race([
    runtime.events.waitFor('actor.crashed', (e) => e.name === name),
    runtime.events.waitFor('actor.stopped', (e) => e.name === name),
  ]);
}

async function runAdmin(
  model: Model,
  real: Real,
  op: AdminOp,
  id: string,
  before?: () => Promise<number>,
): Promise<void> {
  model.sGone = false;
  const extra = before ? await before() : 0;
  let settled: { error?: unknown } | undefined;
  const promise =
    op === 'startChild'
      ? real.runtime.startChild(specOf(defOf(id), real.live), 'S')
      : real.runtime[op](id, 'S');
  promise.then(
    () => {
      settled = {};
    },
    (error: unknown) => {
      settled = { error };
    },
  );
  checkInvariant(real, false);
  const { outcome, cost } = model.admin(op, id);
  await elapse(model, real, extra + cost);
  expect(settled, `${op}(${id}) settled after ${extra + cost} ms`).toBeDefined();
  const code = (settled?.error as { code?: string } | undefined)?.code ?? 'ok';
  expect(code, `${op}(${id})`).toBe(outcome);
}

class ExitCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly id: string,
    readonly reason: ReasonName,
  ) {}
  check(model: Model): boolean {
    return !model.stopped && (this.id === 'R' || model.find(this.id)?.running === true);
  }
  async run(model: Model, real: Real): Promise<void> {
    const handled = exited(real.runtime, this.id);
    makeExit(real.runtime, this.id, this.reason);
    await handled;
    checkInvariant(real, false);
    await elapse(model, real, model.exit(this.id, this.reason));
    checkInvariant(real, false);
    checkModel(model, real);
  }
  toString(): string {
    return `exit(${this.id}, ${this.reason})`;
  }
}

class AdminCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly op: AdminOp,
    readonly id: string,
  ) {}
  check(model: Model): boolean {
    // T never stops on request: terminating it takes its whole budget, which the model knows;
    // restart/delete of T are plain. All allowed.
    return !model.stopped;
  }
  async run(model: Model, real: Real): Promise<void> {
    await runAdmin(model, real, this.op, this.id);
    checkInvariant(real, false);
    checkModel(model, real);
  }
  toString(): string {
    return `${this.op}(${this.id})`;
  }
}

/** An exit, and while the restart it causes is in progress, an administrative operation. */
class RaceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly id: string,
    readonly reason: ReasonName,
    readonly op: AdminOp,
  ) {}
  check(model: Model): boolean {
    return !model.stopped && model.find(this.id)?.running === true;
  }
  async run(model: Model, real: Real): Promise<void> {
    await runAdmin(model, real, this.op, this.id, async () => {
      const handled = exited(real.runtime, this.id);
      makeExit(real.runtime, this.id, this.reason);
      await handled;
      return model.exit(this.id, this.reason);
    });
    checkInvariant(real, false);
    checkModel(model, real);
  }
  toString(): string {
    return `exit(${this.id}, ${this.reason}) racing ${this.op}(${this.id})`;
  }
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check(model: Model): boolean {
    return !model.stopped;
  }
  async run(model: Model, real: Real): Promise<void> {
    await elapse(model, real, this.ms);
    checkInvariant(real, false);
    checkModel(model, real);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class StopCommand implements fc.AsyncCommand<Model, Real> {
  check(model: Model): boolean {
    return !model.stopped;
  }
  async run(model: Model, real: Real): Promise<void> {
    let done = false;
    const stopping = real.runtime.stop().then(() => {
      done = true;
    });
    await elapse(model, real, model.stop());
    expect(done, 'stop resolved').toBe(true);
    await stopping;
    checkInvariant(real, true);
    expect(real.runtime.state).toBe('stopped');
  }
  toString(): string {
    return 'stop()';
  }
}

const reasonArb = fc.constantFrom<ReasonName>('normal', 'shutdown', 'error', 'killed');
const childIdArb = fc.constantFrom(...[...STATIC, ...DYNAMIC].map((d) => d.id));
const adminArb = fc.constantFrom<AdminOp>('startChild', 'terminateChild', 'restartChild', 'deleteChild');

const commandArb = fc.commands(
  [
    fc
      .tuple(fc.constantFrom('R', ...STATIC.map((d) => d.id), ...DYNAMIC.map((d) => d.id)), reasonArb)
      .map(([id, reason]) => new ExitCommand(id, reason)),
    fc.tuple(adminArb, childIdArb).map(([op, id]) => new AdminCommand(op, id)),
    fc.tuple(childIdArb, reasonArb, adminArb).map(([id, reason, op]) => new RaceCommand(id, reason, op)),
    // Often exactly the intensity window (the boundary), sometimes less.
    fc.oneof(fc.constant(S_WITHIN_MS), fc.constantFrom(1, 10, 50)).map((ms) => new AdvanceCommand(ms)),
    fc.constant(new StopCommand()),
  ],
  { size: '+1' },
);

describe('supervision holds under concurrency (model-based)', () => {
  it('one live incarnation per child, under a live supervisor; nothing alive after stop', async () => {
    await fc.assert(
      fc.asyncProperty(commandArb, async (commands) => {
        const { runtime, clock } = manualRuntime();
        const live = new LiveActors();
        const starting = runtime.start(
          [
            supervisor(
              'S',
              STATIC.map((def) => specOf(def, live)),
              { maxRestarts: S_MAX_RESTARTS, withinMs: S_WITHIN_MS, shutdown: S_SHUTDOWN_MS },
            ),
            specOf({ id: 'R', restart: 'permanent', slow: false, trap: false }, live),
          ],
          { maxRestarts: 1_000_000, withinMs: 1 },
        );
        await clock.advance(READY_MS);
        await starting;
        const model = new Model();
        const real = { runtime, clock, live };
        try {
          await fc.asyncModelRun(() => ({ model, real }), commands);
          if (!model.stopped) await new StopCommand().run(model, real);
        } finally {
          // A failed run must not leave timers behind for the next one.
          if (runtime.state !== 'stopped') {
            const stopping = runtime.stop();
            await clock.advance(1000);
            await stopping;
          }
        }
      }),
      { numRuns: Number(process.env.VIGIL_MODEL_RUNS ?? 500) },
    );
  });
});

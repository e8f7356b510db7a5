/**
 * Property: for any supervisor (strategy, intensity, children's restart types) and any sequence
 * of child exits spaced in time, the runtime restarts, removes and escalates exactly as a small
 * reference model of OTP's rules says.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RestartType, type Strategy, worker } from '../src/index.js';
import { exitHandled, manualRuntime, probe, type ReasonName } from './helpers.js';

interface ModelChild {
  id: string;
  restart: RestartType;
  incarnation: number;
  running: boolean;
}

interface Config {
  strategy: Strategy;
  maxRestarts: number;
  withinMs: number;
  restarts: RestartType[];
}

interface Step {
  child: number;
  reason: ReasonName;
  advanceMs: number;
}

/** OTP's restart rules, written as plainly as possible. */
class Model {
  children: ModelChild[];
  private restartTimes: number[] = [];
  private now = 0;
  escalated = false;

  constructor(private readonly config: Config) {
    this.children = config.restarts.map((restart, i) => ({
      id: `C${i}`,
      restart,
      incarnation: 1,
      running: true,
    }));
  }

  step({ child: index, reason, advanceMs }: Step): void {
    this.now += advanceMs;
    if (this.escalated) return;
    const child = this.children.find((c) => c.id === `C${index}`);
    if (!child?.running) return; // an exit of something not running is no event
    child.running = false;
    if (child.restart === 'temporary') {
      this.children = this.children.filter((c) => c !== child);
      return;
    }
    const abnormal = reason === 'error' || reason === 'killed';
    if (child.restart === 'transient' && !abnormal) return;

    // OTP's add_restart: a restart exactly withinMs old still counts (R >= Now - Period).
    this.restartTimes = this.restartTimes.filter((t) => this.now - t <= this.config.withinMs);
    this.restartTimes.push(this.now);
    if (this.restartTimes.length > this.config.maxRestarts) {
      this.escalated = true;
      for (const c of this.children) c.running = false;
      return;
    }
    const at = this.children.indexOf(child);
    const affected =
      this.config.strategy === 'one_for_one'
        ? [child]
        : this.config.strategy === 'one_for_all'
          ? [...this.children]
          : this.children.slice(at);
    // Temporary siblings stopped by the restart are removed, the rest start again.
    const removed = affected.filter((c) => c !== child && c.restart === 'temporary');
    this.children = this.children.filter((c) => !removed.includes(c));
    for (const c of affected) {
      if (removed.includes(c)) continue;
      c.incarnation++;
      c.running = true;
    }
  }
}

const configArb: fc.Arbitrary<Config> = fc.record({
  strategy: fc.constantFrom<Strategy>('one_for_one', 'one_for_all', 'rest_for_one'),
  maxRestarts: fc.integer({ min: 0, max: 4 }),
  withinMs: fc.constantFrom(100, 1000, 5000),
  restarts: fc.array(fc.constantFrom<RestartType>('permanent', 'transient', 'temporary'), {
    minLength: 1,
    maxLength: 4,
  }),
});

const stepArb: fc.Arbitrary<Step> = fc.record({
  child: fc.integer({ min: 0, max: 3 }),
  reason: fc.constantFrom<ReasonName>('normal', 'shutdown', 'error', 'killed'),
  // Often no time at all, often exactly a window length (the boundary), sometimes anything.
  advanceMs: fc.oneof(
    fc.constant(0),
    fc.constantFrom(50, 100, 500, 1000, 5000),
    fc.integer({ min: 1, max: 2000 }),
  ),
});

describe('supervisor against a reference model of the restart rules', () => {
  it('restarts, removals and escalation match the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(stepArb, { minLength: 1, maxLength: 30, size: 'max' }),
        async (config, steps) => {
          const { runtime, clock } = manualRuntime();
          let fatal = false;
          runtime.events.on('runtime.fatal', () => {
            fatal = true;
          });
          const model = new Model(config);
          await runtime.start(
            config.restarts.map((restart, i) => worker(`C${i}`, probe, { restart })),
            { strategy: config.strategy, maxRestarts: config.maxRestarts, withinMs: config.withinMs },
          );
          try {
            for (const step of steps) {
              if (step.advanceMs > 0) await clock.advance(step.advanceMs);
              if (runtime.status(`C${step.child}`) === 'running')
                await exitHandled(runtime, `C${step.child}`, step.reason);
              model.step(step);

              expect(fatal).toBe(model.escalated);
              if (model.escalated) {
                expect(runtime.state).toBe('stopped');
                break;
              }
              const observed = runtime.whichChildren().map((c) => ({
                id: c.id,
                incarnation: c.incarnation,
                running: c.status === 'running',
              }));
              expect(observed).toEqual(
                model.children.map(({ id, incarnation, running }) => ({ id, incarnation, running })),
              );
              for (const c of model.children)
                expect(runtime.status(c.id)).toBe(c.running ? 'running' : 'down');
            }
          } finally {
            await runtime.stop();
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

/**
 * `createRuntime` options: an option the runtime does not have is refused with a typed error
 * naming it, rather than silently ignored. `zone` in particular moved to the alarm and
 * Scheduler options, and a caller who still passes it must hear so at once.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, InvalidRuntimeOptionError, ManualClock } from '../src/index.js';

describe('createRuntime options', () => {
  it('accepts its known options', async () => {
    const runtime = createRuntime({
      clock: new ManualClock(0),
      budget: 8,
      callTimeoutMs: 100,
      rootName: 'top',
    });
    await runtime.start([]);
    expect(runtime.tree()?.name).toBe('top');
    await runtime.stop();
  });

  it('refuses zone, pointing to where it belongs', () => {
    const make = () => createRuntime({ zone: 'Europe/Paris' } as never);
    expect(make).toThrow(InvalidRuntimeOptionError);
    expect(make).toThrow(/'zone'.*alarmSupervisor\(\{ zone \}\)/);
    try {
      make();
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_RUNTIME_OPTION', option: 'zone' });
    }
  });

  it.each([['budgte'], ['timeoutMs'], ['constructor']])('refuses the unknown option %s', (key) => {
    expect(() => createRuntime({ [key]: 1 } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_RUNTIME_OPTION', option: key }),
    );
  });

  it.each([[null], ['UTC'], [[]]])('refuses options that are not an object: %j', (options) => {
    expect(() => createRuntime(options as never)).toThrow(InvalidRuntimeOptionError);
  });
});

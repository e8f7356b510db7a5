/**
 * Child specs from untyped callers (JavaScript, JSON config, a cast): every wrong type is refused
 * by the spec schema with INVALID_CHILD_SPEC or INVALID_SUPERVISOR_OPTIONS naming the field, and
 * a refused spec starts nothing and declares nothing.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type Runtime, supervisor, VigilError, validateChildSpec, worker } from '../src/index.js';
import { manualRuntime, probe } from './helpers.js';

let current: Runtime | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

const good = () => worker('W', probe) as unknown as Record<string, unknown>;
const goodSupervisor = () => supervisor('S', []) as unknown as Record<string, unknown>;

describe('the child spec schema refuses wrong types', () => {
  it.each([
    ['id', { id: 7 }],
    ['id', { id: null }],
    ['restart', { restart: 1 }],
    ['restart', { restart: undefined }],
    ['shutdown', { shutdown: '5000' }],
    ['shutdown', { shutdown: Number.POSITIVE_INFINITY }],
    ['logic', { logic: 'machine' }],
    ['logic', { logic: { transition: 'not a function' } }],
    ['trapExit', { trapExit: 0 }],
    ['readyWhen', { readyWhen: {} }],
    ['startTimeoutMs', { startTimeoutMs: '1s' }],
    ['backoff', { backoff: 'fast' }],
    ['backoff.minMs', { backoff: { minMs: -1, maxMs: 10, factor: 2 } }],
    ['backoff.factor', { backoff: { minMs: 1, maxMs: 10 } }],
    ['budget', { budget: 0 }],
    ['budget', { budget: 2.5 }],
  ])('worker field %s: %o', (field, patch) => {
    expect(() => validateChildSpec({ ...good(), ...patch })).toThrow(
      expect.objectContaining({ code: 'INVALID_CHILD_SPEC', field }),
    );
  });

  it.each([
    ['strategy', 'INVALID_SUPERVISOR_OPTIONS', { strategy: 3 }],
    ['maxRestarts', 'INVALID_SUPERVISOR_OPTIONS', { maxRestarts: '1' }],
    ['withinMs', 'INVALID_SUPERVISOR_OPTIONS', { withinMs: Number.NaN }],
    ['children', 'INVALID_CHILD_SPEC', { children: {} }],
  ])('supervisor field %s: %s', (field, code, patch) => {
    expect(() => validateChildSpec({ ...goodSupervisor(), ...patch })).toThrow(
      expect.objectContaining({ code, field, message: expect.stringContaining("'S'") }),
    );
  });

  it('a bad grandchild is named by its own id, not by its parent', () => {
    const bad = { ...good(), id: 'G', trapExit: 'no' };
    expect(() => validateChildSpec({ ...goodSupervisor(), children: [bad] })).toThrow(
      expect.objectContaining({ code: 'INVALID_CHILD_SPEC', child: 'G', field: 'trapExit' }),
    );
  });

  it('keeps fields it does not know, so a spec built elsewhere is passed through whole', () => {
    const spec = validateChildSpec({ ...good(), extra: 1 }) as unknown as Record<string, unknown>;
    expect(spec.extra).toBe(1);
    expect(spec.logic).toBe(probe);
    const { input: _input, readyWhen: _readyWhen, ...bare } = good();
    expect(validateChildSpec(bare).id).toBe('W');
  });

  it('random junk never passes and never throws anything but a typed spec error', () => {
    fc.assert(
      fc.property(fc.anything(), fc.constantFrom('worker', 'supervisor', undefined), (junk, type) => {
        const input = typeof junk === 'object' && junk !== null && type ? { ...junk, type } : junk;
        let error: unknown;
        try {
          validateChildSpec(input);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(VigilError);
        expect(['INVALID_CHILD_SPEC', 'INVALID_SUPERVISOR_OPTIONS']).toContain((error as VigilError).code);
      }),
    );
  });

  it('a refused spec given to startChild starts and declares nothing', async () => {
    const { runtime } = manualRuntime();
    current = runtime;
    await runtime.start([worker('A', probe)]);
    const before = runtime.whichChildren();
    const bad = { ...good(), id: 'X', shutdown: 'soon' } as never;
    await expect(runtime.startChild(bad)).rejects.toMatchObject({
      code: 'INVALID_CHILD_SPEC',
      field: 'shutdown',
    });
    expect(runtime.whichChildren()).toEqual(before);
    expect(runtime.status('X')).toBe('undeclared');
  });
});

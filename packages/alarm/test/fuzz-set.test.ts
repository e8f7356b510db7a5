/**
 * Fuzzed bad input against the alarm service: `parseWhen`, `AlarmClient.set`, raw
 * `runtime.call('Alarm', ...)` with untyped values, and the runtime's own `send` / `call`.
 *
 * For every input: an answer or a typed rejection (a `VigilError` whose `code` is in the allowed
 * list), never a hang or a synchronous throw from `call`; a rejection leaves the table exactly as
 * it was; the runtime keeps running (a probe call answers); no prototype is polluted.
 */
import fs from 'node:fs';
import { parseWhen } from '@vigil/alarm';
import { ManualClock, type Runtime, VigilError } from '@vigil/runtime';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, recorder, startAlarms, T0, tempDb } from './helpers.js';

const SET_CODES = new Set([
  'INVALID_TIME',
  'TIME_IN_PAST',
  'INVALID_ZONE',
  'UNKNOWN_TARGET',
  'INVALID_PAYLOAD',
  'PAYLOAD_TOO_LARGE',
  'INVALID_OPTION',
  'INVALID_RECURRENCE',
  'INVALID_MESSAGE',
  'INVALID_REQUEST',
]);
const REQUEST_CODES = new Set([...SET_CODES, 'UNKNOWN_REQUEST', 'INVALID_ID']);
const CALL_CODES = new Set(['INVALID_MESSAGE', 'UNKNOWN_ACTOR', 'ACTOR_DOWN', 'UNKNOWN_REQUEST']);

// --- Hostile values ---------------------------------------------------------------------------

const cyclic: Record<string, unknown> = { type: 'alarm.set', a: 1 };
cyclic.self = cyclic;
let deep: Record<string, unknown> = { leaf: true };
for (let i = 0; i < 10_000; i++) deep = { d: deep };
// fast-check prints counterexamples recursively: give the deep one a short name.
Object.defineProperty(deep, fc.toStringMethod, { value: () => '<10000-deep object>', enumerable: false });
const tenMegabytes = 'x'.repeat(10 * 1024 * 1024);
const protoKey = JSON.parse('{"__proto__": {"polluted": true}, "type": "alarm.set"}') as object;
const ctorKey = { constructor: { prototype: { polluted: true } }, type: 'alarm.set' };
const sqlish = [
  "'; DROP TABLE alarms; --",
  'Log\u0000',
  '\u0000',
  "Robert'); DELETE FROM alarms WHERE ('1'='1",
  '%s%n%x',
  `\${process.exit()}`,
  '\uD800',
  '__proto__',
  'constructor',
  'prototype',
  'Log',
  'Alarm',
  'Timer',
  'alarms',
  'root',
  'in 5 minutes',
  'tomorrow at 9am',
  '2026-01-01T00:00:01Z',
  '2026-02-30T25:61:00Z',
  '0',
  '-1',
  '1e400',
];

const special = fc.constantFrom<unknown>(
  undefined,
  null,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  -1,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  2 ** 31,
  8.64e15 + 1,
  new Date(Number.NaN),
  new Date(8.64e15),
  new Date(-1),
  10n,
  -(2n ** 64n),
  Symbol('s'),
  () => 1,
  class {},
  [],
  {},
  cyclic,
  deep,
  tenMegabytes,
  protoKey,
  ctorKey,
  Object.create(null),
  new Map([['type', 'alarm.set']]),
  new Set([1]),
  /re/,
  new Error('boom'),
  Promise.resolve(1),
  new Uint8Array(4),
  { in: tenMegabytes },
  { at: Number.NaN },
  { in: -5 },
  { every: '0 s' },
  { cron: '* * * * * * * *' },
);

const hostileString = fc.oneof(
  fc.constantFrom(...sqlish),
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: special },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.bigInt()) },
  {
    weight: 2,
    arbitrary: fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withObjectString: true,
      withBoxedValues: true,
    }),
  },
);

/** A hostile object shaped like a request: a plausible `type` and hostile fields. */
const hostileRecord = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'type',
      'when',
      'target',
      'message',
      'options',
      'items',
      'id',
      'filter',
      'alarm',
    ),
    fc.string(),
  ),
  hostile,
  { maxKeys: 5 },
);

// --- Harness ----------------------------------------------------------------------------------

let db: ReturnType<typeof tempDb>;
let h: Harness;
let reader: Database.Database;
let cases = 0;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  db = tempDb('vigil-fuzz-');
  h = await startAlarms({ file: db.file, clock: new ManualClock(T0), targets: { Log: recorder().logic } });
  await h.client.set(T0 + 60_000, 'Log', { probe: true });
  reader = new Database(db.file, { readonly: true });
});

afterAll(async () => {
  reader.close();
  await h.stop();
  db.cleanup();
  console.log(`fuzz-set: ${cases} hostile cases run`);
});

/** Rows by status, read on a side connection: what is really on disk. */
function snapshot(): string {
  return JSON.stringify(
    reader.prepare('SELECT status, count(*) AS n, max(id) AS top FROM alarms GROUP BY status').all(),
  );
}

/** Settles `p`, failing if it takes more than a second of real time (a hang is a bug). */
async function outcome(
  p: Promise<unknown>,
): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer within 1 s')), 1000);
  });
  try {
    return { ok: true, value: await Promise.race([p, hang]) };
  } catch (error) {
    if (error instanceof Error && error.message === 'no answer within 1 s') throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

function expectTyped(error: unknown, allowed: Set<string>, what: string): void {
  if (!(error instanceof VigilError) || !allowed.has(error.code)) {
    throw new Error(
      `${what}: untyped or unexpected rejection ${String((error as { code?: unknown })?.code)}: ${String(error)}`,
    );
  }
}

async function expectHealthy(runtime: Runtime): Promise<void> {
  expect(runtime.state).toBe('running');
  const stats = await h.client.stats();
  expect(stats.total).toBeGreaterThan(0);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
}

// --- Properties -------------------------------------------------------------------------------

describe('fuzz: bad input gets a typed error and changes nothing', () => {
  it('parseWhen: an instant, or INVALID_TIME / TIME_IN_PAST / INVALID_ZONE', () => {
    fc.assert(
      fc.property(hostile, fc.oneof(fc.constant(undefined), fc.constant('UTC'), hostile), (when, zone) => {
        cases++;
        try {
          const r = parseWhen(when, { now: T0, zone: zone as string });
          expect(Number.isSafeInteger(r.at)).toBe(true);
          expect(r.at).toBeGreaterThanOrEqual(T0);
        } catch (err) {
          expectTyped(err, new Set(['INVALID_TIME', 'TIME_IN_PAST', 'INVALID_ZONE']), 'parseWhen');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('AlarmClient.set: stored (one more row) or rejected with a typed error and the table unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostile, fc.integer({ min: T0 + 1, max: T0 + 1e9 })),
        fc.oneof(hostile, fc.constant('Log')),
        fc.oneof(hostile, hostileRecord),
        fc.oneof(fc.constant(undefined), hostile, hostileRecord),
        async (when, target, message, options) => {
          cases++;
          const before = snapshot();
          const r = await outcome(
            h.client.set(when as never, target as string, message as never, options as never),
          );
          if (r.ok) expect(snapshot()).not.toEqual(before);
          else {
            expectTyped(r.error, SET_CODES, 'set');
            expect(snapshot()).toEqual(before);
          }
        },
      ),
      { numRuns: 1500 },
    );
    await expectHealthy(h.runtime);
  });

  it("raw runtime.call('Alarm', ...) with untyped requests", async () => {
    const types = fc.constantFrom(
      'alarm.set',
      'alarm.setMany',
      'alarm.cancel',
      'alarm.get',
      'alarm.list',
      'alarm.stats',
      'alarm.due',
      'alarm.explode',
      'xstate.init',
      '',
      '__proto__',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostile,
          fc.tuple(types, hostileRecord).map(([type, rest]) => ({ ...rest, type })),
        ),
        async (request) => {
          cases++;
          const before = snapshot();
          const r = await outcome(h.runtime.call('Alarm', request as never, { timeoutMs: 500 }));
          const type = (request as { type?: unknown } | null)?.type;
          const writes = type === 'alarm.set' || type === 'alarm.setMany' || type === 'alarm.cancel';
          if (!r.ok) {
            expectTyped(r.error, REQUEST_CODES, `call ${String(type)}`);
            expect(snapshot()).toEqual(before);
          } else if (!writes) expect(snapshot()).toEqual(before);
        },
      ),
      { numRuns: 1500 },
    );
    await expectHealthy(h.runtime);
  });

  it('runtime.send and runtime.call with hostile names, messages and options', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostile, fc.constantFrom('Log', 'Alarm', 'Timer', 'alarms', 'root', 'Nobody')),
        fc.oneof(hostile, hostileRecord),
        fc.oneof(fc.constant(undefined), hostile, fc.record({ timeoutMs: hostile })),
        async (name, message, options) => {
          cases++;
          const before = snapshot();
          try {
            h.runtime.send(name as string, message as never);
          } catch (err) {
            // send refuses only a message that is not a { type: string } object, synchronously.
            expectTyped(err, new Set(['INVALID_MESSAGE']), 'send');
          }
          let sync: unknown;
          let p: Promise<unknown> | undefined;
          try {
            p = h.runtime.call(name as string, message as never, options as never);
          } catch (err) {
            sync = err;
          }
          expect(sync).toBeUndefined(); // call never throws synchronously
          // A call to a live actor may legitimately wait for its reply: only check what settles.
          const r = await outcome(
            Promise.race([p!, new Promise((resolve) => setTimeout(resolve, 20, 'waiting'))]),
          );
          if (!r.ok) expectTyped(r.error, new Set([...CALL_CODES, ...REQUEST_CODES]), 'call');
          const type = (message as { type?: unknown } | null)?.type;
          if (!(name === 'Alarm' && typeof type === 'string' && /^alarm\.(set|setMany|cancel)$/.test(type)))
            expect(snapshot()).toEqual(before);
        },
      ),
      { numRuns: 1500 },
    );
    await expectHealthy(h.runtime);
  });

  it('a spoofed Timer wake (send alarm.due with any payload) fires nothing early', async () => {
    const fired: number[] = [];
    const off = h.runtime.events.on('alarm.fired', (e) => fired.push(e.scheduledFor - e.at));
    await fc.assert(
      fc.asyncProperty(hostileRecord, async (rest) => {
        cases++;
        h.runtime.send('Alarm', { ...rest, type: 'alarm.due' } as never);
        await new Promise((resolve) => setImmediate(resolve));
      }),
      { numRuns: 100 },
    );
    off();
    for (const ahead of fired) expect(ahead).toBeLessThanOrEqual(0);
    await expectHealthy(h.runtime);
  });

  it("call('Alarm', { type: 'alarm.due' }) is answered, not left to time out", async () => {
    const r = await outcome(h.runtime.call('Alarm', { type: 'alarm.due' }, { timeoutMs: 60_000 }));
    expect(r.ok || (r.error as VigilError).code === 'UNKNOWN_REQUEST').toBe(true);
  });

  it('the database file is still a sound SQLite database', () => {
    expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(fs.statSync(db.file).size).toBeGreaterThan(0);
  });
});

/**
 * The torture judge on hand-written journals: it must catch each violation it claims to check
 * (a judge that always says "fine" would make the torture worthless).
 */
import { describe, expect, it } from 'vitest';
import { judge, type Planned, type VerdictInput } from '../src/verdict.js';

const AT = 1_000_000;

function input(
  journal: string[],
  planned: [number, Planned][],
  acked: [number, number][],
  finalLife = 2,
): VerdictInput {
  return {
    planned: new Map(planned),
    acked: new Map(acked),
    checkUntil: AT + 10_000,
    journal: `${journal.join('\n')}\n`,
    finalLife,
  };
}

describe('one-shot alarms', () => {
  it('delivered once, on time: clean', () => {
    const v = judge(input([`D 1 7 1 ${AT + 5} ${AT} 1`, 'C 1 7'], [[1, { at: AT }]], [[1, 7]]));
    expect(v).toMatchObject({
      alarms: 1,
      expected: 1,
      delivered: 1,
      lost: 0,
      early: 0,
      duplicates: 0,
      unexcused: 0,
    });
    expect(v.lateness.max).toBe(5);
  });

  it('an acknowledged alarm never delivered is lost', () => {
    const v = judge(input([], [[1, { at: AT }]], [[1, 7]]));
    expect(v).toMatchObject({ lost: 1, delivered: 0 });
    expect(v.problems[0]).toMatch(/never delivered/);
  });

  it('a delivery before the instant the parent asked for is early', () => {
    expect(judge(input([`D 1 7 1 ${AT - 1} ${AT} 1`], [[1, { at: AT }]], [[1, 7]])).early).toBe(1);
  });

  it('a delivery whose scheduledFor is not what was asked is counted as early (wrong instant)', () => {
    expect(judge(input([`D 1 7 1 ${AT + 100} ${AT + 50} 1`], [[1, { at: AT }]], [[1, 7]])).early).toBe(1);
  });

  it('a repeat after a kill, the first delivery never marked: excused', () => {
    const v = judge(
      input([`D 1 7 1 ${AT} ${AT} 1`, `D 2 7 2 ${AT + 900} ${AT} 1`, 'C 2 7'], [[1, { at: AT }]], [[1, 7]]),
    );
    expect(v).toMatchObject({ duplicates: 1, unexcused: 0, inFlightAtKills: 1 });
  });

  it('a repeat after the mark committed: unexcused', () => {
    const v = judge(
      input([`D 1 7 1 ${AT} ${AT} 1`, 'C 1 7', `D 2 7 2 ${AT + 900} ${AT} 1`], [[1, { at: AT }]], [[1, 7]]),
    );
    expect(v).toMatchObject({ duplicates: 1, unexcused: 1 });
  });

  it('a repeat within one life (no kill in between): unexcused', () => {
    const v = judge(
      input([`D 2 7 1 ${AT} ${AT} 1`, `D 2 7 2 ${AT + 1} ${AT} 1`], [[1, { at: AT }]], [[1, 7]]),
    );
    expect(v.unexcused).toBe(1);
  });

  it('a torn last line is skipped', () => {
    const v = judge(input([`D 1 7 1 ${AT} ${AT} 1`, 'D 1 8 1 12'], [[1, { at: AT }]], [[1, 7]]));
    expect(v).toMatchObject({ delivered: 1, early: 0 });
  });

  it('deliveries of sets never acknowledged are counted apart, not as lost or delivered', () => {
    const v = judge(
      input(
        [`D 1 9 1 ${AT} ${AT} 2`],
        [
          [1, { at: AT }],
          [2, { at: AT }],
        ],
        [[1, 7]],
      ),
    );
    expect(v).toMatchObject({ unackedDeliveries: 1, delivered: 0, lost: 1 });
  });
});

describe('duplicates per kill', () => {
  it('counts the excused duplicates of each kill and the gap from first acknowledgement to the kill', () => {
    const lines = [
      `D 1 7 1 ${AT} ${AT} 1`,
      `D 1 8 1 ${AT + 40} ${AT} 2`,
      `A 1 ${AT + 45}`,
      `D 2 7 2 ${AT + 900} ${AT} 1`,
      `D 2 8 2 ${AT + 900} ${AT} 2`,
      'C 2 7',
      'C 2 8',
      `D 2 9 1 ${AT + 1000} ${AT} 3`,
      `D 3 9 2 ${AT + 2000} ${AT} 3`,
      'C 3 9',
    ];
    const plan: [number, Planned][] = [
      [1, { at: AT }],
      [2, { at: AT }],
      [3, { at: AT }],
    ];
    const v = judge({
      ...input(
        lines,
        plan,
        [
          [1, 7],
          [2, 8],
          [3, 9],
        ],
        3,
      ),
      killedAt: new Map([
        [1, AT + 50],
        [2, AT + 1003],
      ]),
    });
    expect(v).toMatchObject({ duplicates: 3, unexcused: 0, duplicatesPerKill: [2, 1] });
    expect(v.duplicateGap).toEqual({ p50: 10, p99: 50, max: 50, count: 3 });
    // Life 1's replies reached the Alarm at +45 (5 ms before its kill); life 2's never did.
    expect(v.duplicateGapFromArrival).toEqual({ p50: 5, p99: 5, max: 5, count: 2 });
  });
});

describe('cancelled alarms', () => {
  it('not expected; a delivery by a later life than the one that acknowledged the cancel is resurrected', () => {
    const base = input([`D 1 7 1 ${AT} ${AT} 1`], [[1, { at: AT }]], [[1, 7]]);
    expect(judge({ ...base, cancelled: new Map([[1, 1]]) })).toMatchObject({
      resurrected: 0,
      lost: 0,
      expected: 0,
    });
    const late = input([`D 3 7 1 ${AT} ${AT} 1`], [[1, { at: AT }]], [[1, 7]], 3);
    expect(judge({ ...late, cancelled: new Map([[1, 2]]) }).resurrected).toBe(1);
    const unanswered = input([], [[1, { at: AT }]], [[1, 7]]);
    expect(judge({ ...unanswered, maybeCancelled: new Set([1]) })).toMatchObject({ lost: 0, expected: 0 });
  });
});

describe('recurring alarms', () => {
  const every = 1000;
  it('every occurrence up to checkUntil is expected; one series id, one occurrence number each', () => {
    const lines = Array.from(
      { length: 11 },
      (_, n) => `D 2 10 1 ${AT + n * every} ${AT + n * every} 1 ${n + 1}`,
    );
    const v = judge(input(lines, [[1, { at: AT, every }]], [[1, 10]]));
    expect(v).toMatchObject({ expected: 11, delivered: 11, lost: 0, early: 0, duplicates: 0 });
  });

  it('the same occurrence of a series delivered again after a kill: a duplicate, excused if never marked', () => {
    const lines = [`D 1 10 1 ${AT} ${AT} 1 1`, `D 2 10 1 ${AT + 50} ${AT} 1 1`, 'C 2 10 1'];
    expect(judge(input(lines, [[1, { at: AT, every }]], [[1, 10]]))).toMatchObject({
      duplicates: 1,
      unexcused: 0,
    });
    const marked = [`D 1 10 1 ${AT} ${AT} 1 1`, 'C 1 10 1', `D 2 10 1 ${AT + 50} ${AT} 1 1`];
    expect(judge(input(marked, [[1, { at: AT, every }]], [[1, 10]])).unexcused).toBe(1);
  });

  it('a missing occurrence is lost; an off-grid one is wrong', () => {
    const lines = [`D 2 10 1 ${AT} ${AT} 1`, `D 2 11 1 ${AT + 1500} ${AT + 1500} 1`];
    const v = judge(input(lines, [[1, { at: AT, every }]], [[1, 10]]));
    expect(v.lost).toBe(10);
    expect(v.early).toBe(1);
  });

  it('one occurrence delivered by two rows (next occurrence inserted twice): unexcused', () => {
    const lines = [`D 2 10 1 ${AT} ${AT} 1`, `D 2 11 1 ${AT + 1} ${AT} 1`];
    expect(judge(input(lines, [[1, { at: AT, every }]], [[1, 10]])).unexcused).toBe(1);
  });
});

describe('workflow runs', () => {
  const hop = 500;
  const plan: [number, Planned][] = [[3, { at: AT, hop }]];
  it('three steps in order, each hop after the previous: clean', () => {
    const v = judge(
      input([`W 2 3 a 1 ${AT}`, `W 2 3 b 2 ${AT + 600}`, `W 2 3 c 3 ${AT + 1200}`], plan, [[3, 0]]),
    );
    expect(v).toMatchObject({ expected: 3, delivered: 3, lost: 0, early: 0, duplicates: 0 });
  });

  it('a step sooner than hop after the previous one is early; a step never run is lost', () => {
    const v = judge(input([`W 2 3 a 1 ${AT}`, `W 2 3 b 2 ${AT + 100}`], plan, [[3, 0]]));
    expect(v).toMatchObject({ early: 1, lost: 1 });
  });

  it('a step run again after a kill is excused only if its outcome never committed', () => {
    const excused = judge(input([`W 1 3 a 1 ${AT}`, `W 2 3 a 1 ${AT + 900}`], plan, [[3, 0]]));
    expect(excused).toMatchObject({ duplicates: 1, unexcused: 0 });
    const unexcused = judge(input([`W 1 3 a 1 ${AT}`, 'S 1 3 1', `W 2 3 a 1 ${AT + 900}`], plan, [[3, 0]]));
    expect(unexcused).toMatchObject({ duplicates: 1, unexcused: 1 });
  });
});

describe('several nodes side by side', () => {
  const nodes = (v: VerdictInput, killed: [number, number][] = [], cancelledAt: [number, number][] = []) => ({
    ...v,
    killedAt: new Map(killed),
    nodes: { cancelledAt: new Map(cancelledAt) },
  });

  it('a repeat by a lower-numbered life after a killed life never marked it: excused, counted for that kill', () => {
    // Lives 1 and 2 run together; life 2 delivers and is killed; life 1 reclaims after the lease.
    const v = judge(
      nodes(
        input(
          [`D 2 7 1 ${AT} ${AT} 1`, `D 1 7 2 ${AT + 900} ${AT} 1`, 'C 1 7'],
          [[1, { at: AT }]],
          [[1, 7]],
          3,
        ),
        [[2, AT + 10]],
      ),
    );
    expect(v).toMatchObject({ duplicates: 1, unexcused: 0, inFlightAtKills: 1, duplicatesPerKill: [1] });
  });

  it('a repeat after a surviving life lost its fired mark (the database restarting): excused, no kill counted', () => {
    const v = judge(
      nodes(
        input(
          [`D 1 7 1 ${AT} ${AT} 1`, `D 3 7 2 ${AT + 900} ${AT} 1`, 'C 3 7'],
          [[1, { at: AT }]],
          [[1, 7]],
          3,
        ),
      ),
    );
    expect(v).toMatchObject({ duplicates: 1, unexcused: 0, inFlightAtKills: 0, duplicatesPerKill: [] });
  });

  it('a repeat after the fired mark committed is unexcused, whichever life makes it', () => {
    const v = judge(
      nodes(
        input(
          [`D 2 7 1 ${AT} ${AT} 1`, 'C 2 7', `D 1 7 2 ${AT + 900} ${AT} 1`],
          [[1, { at: AT }]],
          [[1, 7]],
          3,
        ),
      ),
    );
    expect(v).toMatchObject({ duplicates: 1, unexcused: 1 });
  });

  it('a delivery journaled after the cancel was acknowledged is resurrected, whichever life makes it', () => {
    const before = nodes(input([`D 1 7 1 ${AT} ${AT} 1`], [[1, { at: AT }]], [[1, 7]], 3), [], [[1, AT + 5]]);
    expect(judge({ ...before, cancelled: new Map([[1, 3]]) })).toMatchObject({ resurrected: 0, expected: 0 });
    const after = nodes(
      input([`D 1 7 1 ${AT + 6} ${AT} 1`], [[1, { at: AT }]], [[1, 7]], 3),
      [],
      [[1, AT + 5]],
    );
    expect(judge({ ...after, cancelled: new Map([[1, 3]]) }).resurrected).toBe(1);
  });
});

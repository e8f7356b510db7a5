/**
 * The torture run's judge: reads the journal the child lives wrote and compares it with the
 * parent's record of every acknowledged `set`. Pure, so it can be tested on hand-written journals.
 *
 * What counts:
 * - lost: an acknowledged one-shot alarm never delivered, or an occurrence of an acknowledged
 *   recurring alarm whose instant is at or before `checkUntil` never delivered;
 * - early: a delivery before its instant (the instant the parent asked for, not what the store
 *   says), or a delivery whose `scheduledFor` is not an instant the parent asked for;
 * - workflow runs (chains a -> b -> c, `hop` ms apart): each acknowledged run must run every step;
 *   a step running before the instant it could be due (`at` for a, the previous step's first run
 *   plus `hop` for the others) counts as early; a step run again counts as a duplicate, excused
 *   only when its previous run was in a killed life that never committed its outcome;
 * - resurrected: a one-shot alarm whose cancel was acknowledged, delivered by a later life (after
 *   the cancel committed, only a delivery already in flight in that same life may still land);
 *   cancelled alarms, and those whose cancel got no answer, are not expected;
 * - duplicates: deliveries of an occurrence (alarm id, occurrence number) beyond its first. Each
 *   must be excused by the crash window: its previous delivery happened in an earlier life, which
 *   was killed, and whose fired mark never committed (no `C` line in that life). Any other repeat
 *   is `unexcused`, and fails the run;
 * - per kill: the excused duplicates each kill caused, and for each the gap between its previous
 *   delivery's acknowledgement and the kill, measured two ways: from the reply (the Sink replies
 *   right after journaling the `D` line) and from the moment the reply reached the Alarm (the
 *   end of the Sink's drain turn, `A` line). A long gap from the latter means an outcome waited
 *   for its commit; the difference between the two is the target's own turn.
 *
 * Several nodes (`nodes` given): lives run side by side on one database, so life numbers no
 * longer order deliveries, and a life that survives can still lose a fired mark (its commit met
 * the database restarting, or its lease ran out first); either way the alarm is delivered again,
 * after its lease, by whichever node claims it. So a repeat is excused exactly when the previous
 * delivery's fired mark never committed (no `C` line in the life that made it), whatever the
 * lives' order; a repeat after a committed mark is unexcused. A cancel acknowledged as
 * `cancelled` at instant T (the parent's clock, after the commit) makes any delivery journaled
 * after T a resurrection, whichever node makes it.
 */

/** What the parent asked for under one tag (one `set` request). */
export interface Planned {
  /** The instant (first instant of a recurring alarm), UTC ms. */
  at: number;
  /** Recurring: interval in ms. */
  every?: number;
  /** Workflow run: ms between its steps. */
  hop?: number;
}

export interface VerdictInput {
  /** Every request sent, acknowledged or not, by tag. */
  planned: Map<number, Planned>;
  /** Acknowledged requests: tag -> alarm id. */
  acked: Map<number, number>;
  /** Acknowledged cancels (status became `cancelled`): tag -> the life that answered. */
  cancelled?: Map<number, number>;
  /** Cancels sent without an answer (the life died): may or may not have committed. */
  maybeCancelled?: Set<number>;
  /** Occurrences of recurring alarms are expected up to this instant (inclusive). */
  checkUntil: number;
  /** The journal text (all lives). */
  journal: string;
  /** Number of the last life, the one not killed. */
  finalLife: number;
  /** When each killed life was killed (SIGKILL sent), UTC ms, by life number. */
  killedAt?: Map<number, number>;
  /** Several nodes side by side (see the header); absent for one process at a time. */
  nodes?: {
    /** Acknowledged cancels: tag -> when the answer `cancelled` reached the parent, UTC ms. */
    cancelledAt: Map<number, number>;
  };
}

export interface Verdict {
  /** Acknowledged alarms (one-shot and recurring). */
  alarms: number;
  /** Expected deliveries: acknowledged one-shots plus recurring occurrences due by `checkUntil`. */
  expected: number;
  /** Expected deliveries that happened at least once. */
  delivered: number;
  lost: number;
  early: number;
  duplicates: number;
  /** Duplicates not explained by a kill in the crash window. */
  unexcused: number;
  /** Excused alarm duplicates caused by each kill, in kill order (killed lives only). */
  duplicatesPerKill: number[];
  /**
   * Gap between a duplicated delivery's first acknowledgement and the kill that caused the
   * duplicate, ms, over every excused alarm duplicate (0s when there is none).
   */
  duplicateGap: { p50: number; p99: number; max: number; count: number };
  /** The same gap from the instant the reply reached the Alarm (`A` line); duplicates without one are left out. */
  duplicateGapFromArrival: { p50: number; p99: number; max: number; count: number };
  /** Deliveries of a cancelled alarm by a life after the one that acknowledged the cancel. */
  resurrected: number;
  /** Deliveries made but not marked fired when their life was killed (sum over kills). */
  inFlightAtKills: number;
  /** Deliveries of alarms whose `set` was never acknowledged (stored just before a kill). */
  unackedDeliveries: number;
  /** Acknowledged alarms the service marked failed or missed. */
  failed: number;
  /** Lateness of first deliveries of acknowledged alarms, ms. */
  lateness: { p50: number; p99: number; max: number };
  /** Human-readable details of the first few violations. */
  problems: string[];
}

interface StepRun {
  life: number;
  tag: number;
  step: string;
  seq: number;
  at: number;
}

interface Delivery {
  life: number;
  id: number;
  /** Occurrence number within the alarm's series (1 for a one-shot). */
  occurrence: number;
  /** When its reply reached the Alarm (the next `A` line of its life), if that was journaled. */
  arrivedAt?: number;
  attempt: number;
  at: number;
  scheduledFor: number;
  tag: number;
}

export function judge(input: VerdictInput): Verdict {
  const deliveries: Delivery[] = [];
  const committed = new Set<string>();
  const failedIds = new Set<number>();
  const stepRuns: StepRun[] = [];
  const stepCommitted = new Set<string>();
  const awaitingArrival = new Map<number, Delivery[]>(); // life -> deliveries before its next A line
  for (const line of input.journal.split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'D' && (f.length === 7 || f.length === 8)) {
      const [life, id, attempt, at, scheduledFor, tag, occurrence = 1] = f.slice(1).map(Number) as number[];
      if ([life, id, attempt, at, scheduledFor, tag, occurrence].every(Number.isFinite)) {
        const d: Delivery = {
          life: life!,
          id: id!,
          occurrence: occurrence!,
          attempt: attempt!,
          at: at!,
          scheduledFor: scheduledFor!,
          tag: tag!,
        };
        deliveries.push(d);
        const waiting = awaitingArrival.get(d.life) ?? [];
        waiting.push(d);
        awaitingArrival.set(d.life, waiting);
      }
    } else if (f[0] === 'A' && f.length === 3) {
      const [life, at] = [Number(f[1]), Number(f[2])];
      for (const d of awaitingArrival.get(life) ?? []) d.arrivedAt = at;
      awaitingArrival.delete(life);
    } else if (f[0] === 'C' && (f.length === 3 || f.length === 4)) {
      committed.add(`${f[1]}:${f[2]}:${f[3] ?? 1}`);
    } else if (f[0] === 'W' && f.length === 6) {
      const [life, tag, seq, at] = [f[1], f[2], f[4], f[5]].map(Number) as number[];
      if ([life, tag, seq, at].every(Number.isFinite))
        stepRuns.push({ life: life!, tag: tag!, step: f[3]!, seq: seq!, at: at! });
    } else if (f[0] === 'S' && f.length === 4) {
      stepCommitted.add(`${f[1]}:${f[2]}:${f[3]}`);
    } else if (f[0] === 'F' && f.length >= 3) {
      failedIds.add(Number(f[2]));
    }
    // Anything else is the torn last line of a killed life: skipped.
  }

  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 20) problems.push(text);
  };
  // Deliveries of each occurrence: `${id}:${occurrence}`.
  const byOccurrence = new Map<string, Delivery[]>();
  const seen = new Map<string, number>(); // expected item -> row id that delivered it
  const firstLateness: number[] = [];
  let early = 0;
  let unackedDeliveries = 0;
  // Two rows delivering the same occurrence: a recurring alarm's next row inserted twice.
  let crossRow = 0;
  for (const d of deliveries) {
    const occurrenceKey = `${d.id}:${d.occurrence}`;
    const list = byOccurrence.get(occurrenceKey) ?? [];
    list.push(d);
    byOccurrence.set(occurrenceKey, list);
    const plan = input.planned.get(d.tag);
    if (!plan) {
      early++;
      problem(`delivery of alarm ${d.id} carries unknown tag ${d.tag}`);
      continue;
    }
    let instant = plan.at;
    let item = `t${d.tag}`;
    if (plan.every !== undefined) {
      const n = (d.scheduledFor - plan.at) / plan.every;
      if (!Number.isInteger(n) || n < 0) {
        early++;
        problem(
          `alarm ${d.id} (series ${d.tag}) delivered for ${d.scheduledFor}, not an instant of its series`,
        );
        continue;
      }
      instant = plan.at + n * plan.every;
      item = `t${d.tag}:${n}`;
    } else if (d.scheduledFor !== plan.at) {
      early++;
      problem(`alarm ${d.id} delivered for ${d.scheduledFor}, asked for ${plan.at}`);
      continue;
    }
    if (d.at < instant) {
      early++;
      problem(`alarm ${d.id} delivered at ${d.at}, ${instant - d.at} ms before ${instant}`);
    }
    const acked = input.acked.get(d.tag) !== undefined;
    if (!acked) unackedDeliveries++;
    const owner = seen.get(item);
    if (owner === undefined) {
      seen.set(item, d.id);
      if (acked) firstLateness.push(d.at - instant);
    } else if (owner !== d.id) {
      problem(`occurrence ${item} delivered by two rows, ${owner} and ${d.id}`);
      crossRow++;
    }
  }

  // Workflow steps: first run of each (run, step), early and repeated runs.
  const stepsOf = new Map<string, StepRun[]>();
  for (const r of stepRuns) {
    const plan = input.planned.get(r.tag);
    if (!plan || plan.hop === undefined) {
      early++;
      problem(`workflow step ${r.step} ran for unknown run t${r.tag}`);
      continue;
    }
    const key = `t${r.tag}:${r.step}`;
    const list = stepsOf.get(key) ?? [];
    list.push(r);
    stepsOf.set(key, list);
    const prevStep = r.step === 'b' ? 'a' : r.step === 'c' ? 'b' : undefined;
    const prevRun = prevStep ? stepsOf.get(`t${r.tag}:${prevStep}`)?.[0] : undefined;
    if (prevStep && !prevRun) {
      early++;
      problem(`workflow t${r.tag} ran step ${r.step} before any run of ${prevStep}`);
      continue;
    }
    const earliest = prevRun ? prevRun.at + plan.hop : plan.at;
    if (r.at < earliest) {
      early++;
      problem(`workflow t${r.tag} ran step ${r.step} at ${r.at}, ${earliest - r.at} ms before ${earliest}`);
    }
    if (list.length === 1) {
      seen.set(key, 0);
      if (input.acked.has(r.tag)) firstLateness.push(r.at - earliest);
      else unackedDeliveries++;
    }
  }

  let resurrected = 0;
  const cancelled = input.cancelled ?? new Map<number, number>();
  for (const d of deliveries) {
    if (input.nodes) {
      const at = input.nodes.cancelledAt.get(d.tag);
      if (at !== undefined && d.at > at) {
        resurrected++;
        problem(
          `alarm ${d.id} was delivered at ${d.at} by life ${d.life}, after its cancel was acknowledged at ${at}`,
        );
      }
      continue;
    }
    const cancelLife = cancelled.get(d.tag);
    if (cancelLife !== undefined && d.life > cancelLife) {
      resurrected++;
      problem(
        `alarm ${d.id} was delivered in life ${d.life} after its cancel was acknowledged in life ${cancelLife}`,
      );
    }
  }

  let duplicates = crossRow;
  let unexcused = crossRow;
  for (const [key, list] of stepsOf) {
    for (let k = 1; k < list.length; k++) {
      duplicates++;
      const prev = list[k - 1]!;
      const cur = list[k]!;
      const excused =
        prev.life < cur.life &&
        prev.life < input.finalLife &&
        !stepCommitted.has(`${prev.life}:${prev.tag}:${prev.seq}`);
      if (!excused) {
        unexcused++;
        problem(`workflow step ${key} ran again in life ${cur.life} after life ${prev.life}`);
      }
    }
  }
  const perKill = new Map<number, number>();
  const gaps: number[] = [];
  const arrivalGaps: number[] = [];
  for (const [key, list] of byOccurrence) {
    for (let k = 1; k < list.length; k++) {
      duplicates++;
      const prev = list[k - 1]!;
      const cur = list[k]!;
      const uncommitted = !committed.has(`${prev.life}:${key}`);
      const excused = input.nodes
        ? uncommitted
        : prev.life < cur.life && prev.life < input.finalLife && uncommitted;
      if (!excused) {
        unexcused++;
        problem(
          `alarm ${prev.id} occurrence ${prev.occurrence} delivered again in life ${cur.life} after life ${prev.life} (attempt ${cur.attempt})`,
        );
        continue;
      }
      const killedAt = input.killedAt?.get(prev.life);
      // Several nodes: a repeat whose first delivery's life survived was caused by no kill.
      if (input.nodes && killedAt === undefined) continue;
      perKill.set(prev.life, (perKill.get(prev.life) ?? 0) + 1);
      if (killedAt !== undefined) gaps.push(killedAt - prev.at);
      if (killedAt !== undefined && prev.arrivedAt !== undefined) arrivalGaps.push(killedAt - prev.arrivedAt);
    }
  }
  const killedLives = [...(input.killedAt?.keys() ?? [])].sort((a, b) => a - b);
  const duplicatesPerKill = killedLives.map((life) => perKill.get(life) ?? 0);
  const spread = (values: number[]) => {
    values.sort((a, b) => a - b);
    const at = (p: number) => values[Math.min(values.length - 1, Math.floor(p * values.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99), max: values.at(-1) ?? 0, count: values.length };
  };

  // For each killed life: deliveries it made whose fired mark it never committed.
  let inFlightAtKills = 0;
  const counted = new Set<string>();
  const killed = (life: number): boolean =>
    input.nodes ? input.killedAt?.has(life) === true : life < input.finalLife;
  for (const d of deliveries) {
    const key = `${d.life}:${d.id}:${d.occurrence}`;
    if (killed(d.life) && !committed.has(key) && !counted.has(key)) {
      counted.add(key);
      inFlightAtKills++;
    }
  }
  for (const r of stepRuns) {
    const key = `${r.life}:${r.tag}:${r.seq}`;
    if (r.life < input.finalLife && !stepCommitted.has(key) && !counted.has(key)) {
      counted.add(key);
      inFlightAtKills++;
    }
  }

  let expected = 0;
  let delivered = 0;
  let lost = 0;
  let failed = 0;
  for (const [tag, id] of input.acked) {
    const plan = input.planned.get(tag)!;
    if (cancelled.has(tag) || input.maybeCancelled?.has(tag)) continue;
    if (failedIds.has(id)) failed++;
    const items: string[] = [];
    if (plan.hop !== undefined) items.push(`t${tag}:a`, `t${tag}:b`, `t${tag}:c`);
    else if (plan.every === undefined) items.push(`t${tag}`);
    else
      for (let at = plan.at, n = 0; at <= input.checkUntil; at += plan.every, n++) items.push(`t${tag}:${n}`);
    for (const item of items) {
      expected++;
      if (seen.has(item)) delivered++;
      else {
        lost++;
        problem(`acknowledged ${item}${id > 0 ? ` (alarm ${id})` : ''} was never delivered`);
      }
    }
  }

  firstLateness.sort((a, b) => a - b);
  const pct = (p: number) =>
    firstLateness[Math.min(firstLateness.length - 1, Math.floor(p * firstLateness.length))] ?? 0;
  return {
    alarms: input.acked.size,
    expected,
    delivered,
    lost,
    early,
    duplicates,
    unexcused,
    duplicatesPerKill,
    duplicateGap: spread(gaps),
    duplicateGapFromArrival: spread(arrivalGaps),
    resurrected,
    inFlightAtKills,
    unackedDeliveries,
    failed,
    lateness: { p50: pct(0.5), p99: pct(0.99), max: firstLateness.at(-1) ?? 0 },
    problems,
  };
}

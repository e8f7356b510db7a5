/**
 * Torture: sets alarms through a child process running Vigil, kills it with SIGKILL at random
 * moments (seeded), restarts it on the same database each time, and at the end checks the
 * journal of deliveries against the record of every acknowledged `set`: nothing lost, nothing
 * early, and repeats only for deliveries caught in flight by a kill.
 *
 *   pnpm torture --alarms 2000 --kills 10 --seed 1
 *
 * Options: --alarms N (acknowledged sets to make), --kills K, --seed S, --window MS (how long
 * sets and kills go on; default grows with N and K), --synchronous FULL|NORMAL (the store's
 * durability level, default FULL), --keep (leave the temp directory).
 * It also prints, per kill, the duplicates it caused (deliveries whose fired mark the kill
 * prevented from committing) and the gap between each such delivery's acknowledgement by the
 * target and the kill (p50, p99, max): how long a completed delivery waited for its commit.
 * The last line printed is `torture: alarms=N kills=K delivered=D lost=L early=E duplicates=U`;
 * the exit code is 1 when a check fails.
 *
 * Why a child process: SIGKILL is the one crash nothing in the process can soften. No `finally`,
 * no exit hook, no flush runs; what survives is exactly what SQLite and the kernel had.
 *
 * Several nodes on PostgreSQL:
 *
 *   pnpm torture --store postgres --nodes 3 --alarms 2000 --kills 10 --seed 1
 *
 * starts a throwaway PostgreSQL cluster (the tests' helper) and `--nodes` child processes on one
 * database, each a whole node (its own runtime, Alarm and pool, its own node id). Sets and cancels
 * go to the nodes in turn; each kill takes a seeded random node and starts it again; PostgreSQL
 * itself is shut down and started again once, in the middle of the window (sets during the outage
 * are refused and sent again). Claims die with their node and come back after the lease
 * (`LEASE_MS`). The judge's several-node rules apply (see verdict.ts). Workflow runs are
 * left out on PostgreSQL (their run store there is another part of issue 16): those steps of the
 * seeded plan become plain alarms. Nodes and server share this host's clock; the skew the store
 * measures at connect is printed, and "early" is judged on that one clock.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPostgresStore } from '@vigil/postgres';
import { type Cluster, startCluster } from '../../packages/postgres/test/cluster.js';
import type { FromChild, ToChild, WhenForm } from './protocol.js';
import { judge, type Planned } from './verdict.js';

// ---------------------------------------------------------------------------------------------
// Arguments and the seeded plan.

interface Args {
  alarms: number;
  kills: number;
  seed: number;
  window: number;
  synchronous: 'FULL' | 'NORMAL';
  keep: boolean;
  store: 'sqlite' | 'postgres';
  /** Node processes side by side (PostgreSQL only). */
  nodes: number;
}

function parseArgs(argv: string[]): Args {
  const read = (name: string, fallback: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const value = Number(argv[i + 1]);
    if (!Number.isSafeInteger(value) || value < 0) {
      console.error(`torture: --${name} needs a non-negative integer, got ${argv[i + 1]}`);
      process.exit(2);
    }
    return value;
  };
  const alarms = read('alarms', 2000);
  const s = argv.indexOf('--synchronous');
  const synchronous = s < 0 ? 'FULL' : argv[s + 1];
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    console.error(`torture: --synchronous needs FULL or NORMAL, got ${synchronous}`);
    process.exit(2);
  }
  const kills = read('kills', 10);
  const st = argv.indexOf('--store');
  const store = st < 0 ? 'sqlite' : argv[st + 1];
  if (store !== 'sqlite' && store !== 'postgres') {
    console.error(`torture: --store needs sqlite or postgres, got ${store}`);
    process.exit(2);
  }
  const nodes = read('nodes', 1);
  if (nodes < 1 || (nodes > 1 && store !== 'postgres')) {
    console.error(`torture: --nodes ${nodes} needs --store postgres (and at least 1)`);
    process.exit(2);
  }
  return {
    store,
    nodes,
    alarms,
    kills,
    seed: read('seed', 1),
    // Long enough that sets are spread out and each life gets some work done between kills (on
    // PostgreSQL a node takes seconds to start on a loaded machine: kills closer than that would
    // mostly hit nodes still starting, and test nothing).
    window: read('window', Math.max(20_000, alarms * 6, kills * (store === 'postgres' ? 6000 : 1500))),
    synchronous,
    keep: argv.includes('--keep'),
  };
}

/** mulberry32: small, fast, good enough to pick moments and delays reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One alarm to set: when to send it (ms into the window) and how far ahead it fires. */
interface Step {
  sendAt: number;
  delay: number;
  every?: number;
  /** A workflow run: ms between its steps. */
  hop?: number;
  /** Cancel the alarm this many ms after it was acknowledged (before its instant). */
  cancelAfter?: number;
  form: WhenForm;
}

const FORMS: WhenForm[] = ['epoch', 'date', 'iso', 'at'];

function plan(args: Args, random: () => number): { steps: Step[]; kills: number[] } {
  const w = args.window;
  const steps: Step[] = [];
  for (let i = 0; i < args.alarms; i++) {
    const sendAt = (i / args.alarms) * 0.8 * w;
    const r = random();
    const form = FORMS[Math.floor(random() * FORMS.length)]!;
    if (r < 0.05) {
      // Recurring: every 1 to 3 s from up to 2 s ahead; occurrences are checked up to the window's end.
      steps.push({ sendAt, delay: 200 + random() * 1800, every: 1000 + Math.floor(random() * 2000), form });
    } else if (r < 0.1) {
      // A workflow run of three steps, 0.3 to 1 s apart, starting within 2 s (a plain alarm at
      // its first instant on PostgreSQL; the same draws keep the rest of the plan the same).
      const delay = 50 + random() * 1950;
      const hop = 300 + Math.floor(random() * 700);
      steps.push(args.store === 'postgres' ? { sendAt, delay, form } : { sendAt, delay, hop, form });
    } else if (r < 0.2) {
      // Due at once: these are the deliveries most likely to be in flight at a kill.
      steps.push({ sendAt, delay: random() * 30, form });
    } else if (r < 0.75) {
      steps.push({ sendAt, delay: 100 + random() * 2900, form });
    } else {
      const delay = random() * (w - sendAt);
      // One in five of these is cancelled before its instant (if the cancel commits, it must
      // never be delivered by a later life: a cancel is as durable as a set).
      const cancel = delay > 2000 && random() < 0.2;
      steps.push({ sendAt, delay, form, ...(cancel ? { cancelAfter: random() * (delay - 1000) } : {}) });
    }
  }
  const kills = Array.from({ length: args.kills }, () => (0.02 + 0.98 * random()) * w).sort((a, b) => a - b);
  return { steps, kills };
}

// ---------------------------------------------------------------------------------------------
// Child lives.

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.ts');

interface Outstanding {
  tag: number;
  step: Step;
  /** The life it was sent to: if that life dies unanswered, it is sent again. */
  life: Life;
}

class Life {
  readonly proc: ChildProcess;
  readonly ready: Promise<boolean>;
  readonly exited: Promise<void>;
  alive = true;
  isReady = false;

  constructor(
    readonly number: number,
    env: Record<string, string>,
    onMessage: (msg: FromChild, life: Life) => void,
  ) {
    this.proc = fork(CHILD, [], {
      // Children run from sources too (the @vigil/source export condition), as the parent does.
      execArgv: ['--conditions=@vigil/source', '--import', 'tsx'],
      env: { ...process.env, ...env, TORTURE_LIFE: String(number) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    // A send racing the SIGKILL fails with EPIPE, reported as an 'error' event: the request was
    // not acknowledged, and the exit handler sends it again to the next life.
    this.proc.on('error', () => undefined);
    this.ready = new Promise((resolve) => {
      this.proc.on('message', (raw) => {
        const msg = raw as FromChild;
        if (msg.op === 'ready') {
          this.isReady = true;
          resolve(true);
        } else onMessage(msg, this);
      });
      void this.exited.then(() => {
        this.alive = false;
        resolve(false);
      });
    });
  }

  send(msg: ToChild): boolean {
    if (!this.alive || !this.proc.connected) return false;
    try {
      this.proc.send(msg);
      return true;
    } catch {
      return false;
    }
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

// ---------------------------------------------------------------------------------------------
// The run.

/**
 * The nodes' lease on PostgreSQL. Shorter than the store's default (60 s) so that a killed node's
 * claims come back within the run; long enough that, on a loaded 2-core machine, a claimed
 * page's wait for delivery and commit stays inside it (5 s did not: leases ran out under live
 * nodes, and their alarms were delivered twice).
 */
const LEASE_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const random = prng(args.seed);
  const { steps, kills } = plan(args, random);
  // Which node each kill takes: its own stream, so the plan above is the same for any --nodes.
  const victims = prng(args.seed + 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-torture-'));
  let cluster: Cluster | undefined;
  if (args.store === 'postgres') {
    const started = await startCluster();
    cluster = started;
    // Whatever ends this process, the cluster goes with it (stop is synchronous, once).
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      started.stop();
    };
    started.stop = stop;
    process.once('exit', stop);
  }
  const env: Record<string, string> = {
    TORTURE_DB: path.join(dir, 'alarms.db'),
    TORTURE_JOURNAL: path.join(dir, 'journal.log'),
    TORTURE_SYNC: args.synchronous,
    ...(cluster ? { TORTURE_PG_URL: cluster.url(), TORTURE_LEASE_MS: String(LEASE_MS) } : {}),
  };
  fs.writeFileSync(env.TORTURE_JOURNAL!, '');
  const started = Date.now();
  console.log(
    `torture: seed=${args.seed} window=${args.window}ms store=${args.store} nodes=${args.nodes}` +
      `${args.store === 'sqlite' ? ` synchronous=${args.synchronous}` : ''} alarms=${args.alarms} kills=${args.kills} dir=${dir}`,
  );
  if (cluster) {
    // The clock of record is the server's; here nodes and server share the host's clock.
    const probe = await openPostgresStore({ connectionString: cluster.url() });
    const skew = await probe.clockSkew();
    await probe.close();
    console.log(
      `torture: node clock minus server clock ${skew.skewMs.toFixed(1)} ms (round trip ${skew.rttMs.toFixed(1)} ms); early is judged on the host clock`,
    );
  }

  const planned = new Map<number, Planned>();
  const acked = new Map<number, number>();
  const outstanding = new Map<number, Outstanding>(); // req -> request in flight
  const retry: Step[] = []; // requests to send again (their life died, or the instant had passed)
  let nextReq = 1;
  let nacks = 0;
  const nackCodes = new Map<string, number>();

  let lifeNumber = 0;
  /** The live node in each slot (one slot on SQLite). */
  const slots: Life[] = [];
  let turn = 0;
  /** A node that is up, in turn; undefined while none is. */
  const pick = (): Life | undefined => {
    for (let k = 0; k < slots.length; k++) {
      const candidate = slots[(turn + k) % slots.length]!;
      if (candidate.isReady && candidate.alive) {
        turn = (turn + k + 1) % slots.length;
        return candidate;
      }
    }
    return undefined;
  };
  /** When each killed life got its SIGKILL. */
  const killedAt = new Map<number, number>();
  // Cancels: tag -> the life that acknowledged it; tags whose cancel got no answer (the life died)
  // may or may not be cancelled.
  const cancelled = new Map<number, number>();
  /** Acknowledged cancels: tag -> when the answer arrived (the several-node judge's rule). */
  const cancelledAt = new Map<number, number>();
  const maybeCancelled = new Set<number>();
  const cancelling = new Map<number, number>(); // req -> tag
  const sendCancel = (tag: number, id: number) => {
    const current = pick();
    if (!current) {
      maybeCancelled.add(tag); // not sent; keep it out of both checks to stay simple
      return;
    }
    const req = nextReq++;
    cancelling.set(req, tag);
    maybeCancelled.add(tag);
    if (!current.send({ op: 'cancel', req, id })) cancelling.delete(req);
  };
  const onMessage = (msg: FromChild, from: Life) => {
    if (msg.op === 'ready') return;
    if (cancelling.has(msg.req)) {
      const tag = cancelling.get(msg.req)!;
      cancelling.delete(msg.req);
      maybeCancelled.delete(tag);
      if (msg.op === 'cancelled' && msg.status === 'cancelled') {
        cancelled.set(tag, from.number);
        cancelledAt.set(tag, Date.now());
      } else if (msg.op !== 'cancelled') maybeCancelled.add(tag);
      return;
    }
    const o = outstanding.get(msg.req);
    if (!o) return;
    outstanding.delete(msg.req);
    if (msg.op === 'ack') {
      acked.set(o.tag, msg.id);
      const after = o.step.cancelAfter;
      if (after !== undefined) setTimeout(() => sendCancel(o.tag, msg.id), after);
    } else if (msg.op === 'nack') {
      nacks++;
      nackCodes.set(msg.code, (nackCodes.get(msg.code) ?? 0) + 1);
      retry.push({ ...o.step, sendAt: 0 });
    }
  };
  let unexpectedExits = 0;
  const killing = new Set<Life>();
  let finished = false;
  const spawn = (slot: number) => {
    lifeNumber++;
    const mine = new Life(lifeNumber, { ...env, TORTURE_NODE: String(slot + 1) }, onMessage);
    slots[slot] = mine;
    void mine.exited.then(() => {
      // Requests this life never answered were not acknowledged: send them again (to whichever
      // node is up then).
      for (const [req, o] of outstanding) {
        if (o.life !== mine) continue;
        outstanding.delete(req);
        retry.push({ ...o.step, sendAt: 0 });
      }
      if (!killing.has(mine) && !finished) {
        // Nothing but our SIGKILL should end a life: a fatal exit is itself a finding.
        unexpectedExits++;
        console.log(`torture: life ${mine.number} exited on its own (code ${mine.proc.exitCode})`);
        spawn(slot);
      }
    });
  };
  for (let slot = 0; slot < args.nodes; slot++) spawn(slot);
  const t0 = Date.now();
  const ticker = setInterval(() => {
    if (process.env.TORTURE_DEBUG)
      console.error(
        `[${Date.now() - t0}ms] lives=${slots.map((l) => `${l.number}${l.isReady ? '' : '(starting)'}`).join(',')} acked=${acked.size} outstanding=${outstanding.size} retry=${retry.length}`,
      );
  }, 1000);

  // Sets: paced over 80% of the window, at most 64 unanswered at once (group commits form).
  const sender = (async () => {
    let i = 0;
    while (i < steps.length || retry.length > 0 || outstanding.size > 0) {
      const step = retry.length > 0 ? retry.shift()! : i < steps.length ? steps[i]! : undefined;
      if (!step) {
        await sleep(5);
        continue;
      }
      if (step === steps[i]) {
        i++;
        await sleep(t0 + step.sendAt - Date.now());
      }
      for (;;) {
        const current = pick();
        if (!current) {
          await sleep(5);
          continue;
        }
        if (outstanding.size >= 64) {
          await sleep(1);
          continue;
        }
        // The instant is fixed when the request leaves; an instant already past would be refused.
        const at = Date.now() + Math.max(20, Math.round(step.delay));
        const req = nextReq++;
        outstanding.set(req, { tag: req, step, life: current });
        let message: ToChild;
        if (step.hop !== undefined) {
          planned.set(req, { at, hop: step.hop });
          message = { op: 'start', req, at, hop: step.hop, tag: req };
        } else {
          planned.set(req, step.every === undefined ? { at } : { at, every: step.every });
          message = { op: 'set', req, at, form: step.form, tag: req };
          if (step.every !== undefined) message.every = step.every;
        }
        if (current.send(message)) break;
        // The channel is closing (the life is being killed): wait for the next life.
        outstanding.delete(req);
        planned.delete(req);
        await sleep(5);
      }
    }
  })();

  // PostgreSQL goes down once, in the middle of the window, and comes back (a restart).
  const outage = cluster
    ? (async () => {
        await sleep(t0 + args.window / 2 - Date.now());
        const down = Date.now();
        cluster.pause();
        // Long enough for sets, deliveries and commits of every node to meet it.
        await sleep(1000);
        cluster.resume();
        console.log(
          `torture: PostgreSQL was down for ${Date.now() - down} ms at ${down - t0} ms into the window`,
        );
      })()
    : Promise.resolve();

  // Kills: at the seeded moments, whatever the child is doing (starting, catching up, idle).
  for (const at of kills) {
    await sleep(t0 + at - Date.now());
    const slot = args.nodes === 1 ? 0 : Math.floor(victims() * args.nodes);
    let victim = slots[slot]!;
    if (!victim.alive) {
      await sleep(10); // it exited on its own and is being replaced
      victim = slots[slot]!;
    }
    killing.add(victim);
    killedAt.set(victim.number, Date.now());
    await victim.kill();
    spawn(slot);
  }
  await sender;
  await outage;
  const setsDone = Date.now();
  await sleep(t0 + args.window - Date.now());
  const checkUntil = t0 + args.window;
  await Promise.all(slots.map((l) => l.ready));

  const verdict = () =>
    judge({
      planned,
      acked,
      cancelled,
      maybeCancelled,
      checkUntil,
      journal: readJournal(env.TORTURE_JOURNAL!),
      finalLife: lifeNumber,
      killedAt,
      ...(args.nodes > 1 || cluster ? { nodes: { cancelledAt } } : {}),
    });
  // Drain: the last lives run until everything due by the end of the window is in the journal
  // (on PostgreSQL, claims of a killed node come back only after their lease).
  const drainDeadline = Date.now() + 60_000 + (cluster ? LEASE_MS : 0);
  for (;;) {
    const v = verdict();
    if (v.lost === 0 || Date.now() > drainDeadline) break;
    await sleep(250);
  }
  finished = true;
  await Promise.all(
    slots.map(async (life) => {
      life.send({ op: 'stop' });
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        life.exited,
        new Promise<void>((resolve) => (grace = setTimeout(resolve, 10_000))),
      ]);
      clearTimeout(grace);
      if (life.alive) await life.kill();
    }),
  );
  cluster?.stop();

  clearInterval(ticker);
  const v = verdict();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok =
    v.lost === 0 && v.early === 0 && v.unexcused === 0 && v.alarms === args.alarms && unexpectedExits === 0;
  console.log(
    `torture: ${lifeNumber} lives${args.nodes > 1 ? ` on ${args.nodes} nodes` : ''} in ${seconds}s (sets done after ${((setsDone - t0) / 1000).toFixed(1)}s); ` +
      `expected deliveries ${v.expected} (one-shot, recurring occurrences, workflow steps), unacked-but-delivered ${v.unackedDeliveries}, ` +
      `unexpected exits ${unexpectedExits}, set refusals ${nacks}${nacks ? ` ${JSON.stringify(Object.fromEntries(nackCodes))}` : ''}`,
  );
  console.log(
    `torture: in flight at kills ${v.inFlightAtKills} (bound on duplicates), unexcused duplicates ${v.unexcused}, ` +
      `cancelled ${cancelled.size} (+${maybeCancelled.size} unanswered), delivered after a committed cancel ${v.resurrected}, ` +
      `failed ${v.failed}, lateness p50=${v.lateness.p50}ms p99=${v.lateness.p99}ms max=${v.lateness.max}ms`,
  );
  console.log(
    `torture: duplicates per kill [${v.duplicatesPerKill.join(', ')}] (max ${Math.max(0, ...v.duplicatesPerKill)}); ` +
      `gap from a duplicate's first acknowledgement to its kill p50=${v.duplicateGap.p50}ms ` +
      `p99=${v.duplicateGap.p99}ms max=${v.duplicateGap.max}ms over ${v.duplicateGap.count} duplicates; ` +
      `from the reply's arrival at the Alarm (end of the Sink's turn) p50=${v.duplicateGapFromArrival.p50}ms ` +
      `p99=${v.duplicateGapFromArrival.p99}ms max=${v.duplicateGapFromArrival.max}ms over ${v.duplicateGapFromArrival.count}`,
  );
  for (const p of v.problems) console.log(`torture: problem: ${p}`);
  if (args.keep || !ok) console.log(`torture: kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  console.log(
    `torture: alarms=${v.alarms} kills=${args.kills} delivered=${v.delivered} lost=${v.lost} early=${v.early} duplicates=${v.duplicates}`,
  );
  return ok ? 0 : 1;
}

function readJournal(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

process.exitCode = await main();

/**
 * `kill -9` of the whole process: a real child process sets alarms on a file database while
 * they fire, and is killed with SIGKILL midway. A second process on the same file must deliver
 * every alarm the first one acknowledged, at least once, and none before its instant.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { rawRows, tempDb } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures', 'kill-child.ts');
const repoRoot = path.resolve(here, '../../..');

interface Child {
  process: ChildProcess;
  lines: string[];
  /** Resolves when a stdout line satisfies `predicate`. */
  waitFor: (predicate: (lines: string[]) => boolean, timeoutMs: number) => Promise<void>;
  exited: Promise<NodeJS.Signals | number | null>;
}

function startChild(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  const waitFor = (predicate: (lines: string[]) => boolean, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (predicate(lines)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`child: condition not met within ${timeoutMs} ms; stderr: ${stderr.slice(0, 2000)}`),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { process: child, lines, waitFor, exited };
}

interface DeliveryLine {
  id: number;
  attempt: number;
  scheduledFor: number;
  receivedAt: number;
}

function readDeliveries(file: string): DeliveryLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^\d+ \d+ \d+ \d+$/.test(l))
    .map((l) => {
      const [id, attempt, scheduledFor, receivedAt] = l.split(' ').map(Number) as [
        number,
        number,
        number,
        number,
      ];
      return { id, attempt, scheduledFor, receivedAt };
    });
}

let db: ReturnType<typeof tempDb>;
const children: Child[] = [];

beforeEach(() => {
  db = tempDb('vigil-kill-');
});

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.process.exitCode === null && c.process.signalCode === null) {
      c.process.kill('SIGKILL');
      await c.exited;
    }
  }
  db.cleanup();
});

/** Polls `condition` (files written by another process) until it holds; fails after `ms`. */
async function until(what: string, condition: () => boolean, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// No step waits a fixed time: each waits for what it needs (acks, deliveries, an empty table),
// with generous caps that only a broken build reaches, so a loaded machine is slower, not red.
it('SIGKILL while setting and firing loses no acknowledged alarm and fires none early', {
  timeout: 120_000,
}, async () => {
  const deliveries = path.join(db.dir, 'deliveries.txt');
  // The child keeps setting (far more than it can set before the kill): it is always killed
  // while setting, however slow this machine is.
  const first = startChild([db.file, deliveries, 'set', '100000']);
  children.push(first);
  const acks = (lines: string[]) =>
    lines
      .filter((l) => l.startsWith('ack '))
      .map((l) => {
        const [, id, fireAt] = l.split(' ');
        return { id: Number(id), fireAt: Number(fireAt) };
      });
  // Kill once some alarms were acknowledged and some already delivered: mid-flight on both sides.
  await first.waitFor((lines) => acks(lines).length >= 120, 45_000);
  await until('10 deliveries before the kill', () => readDeliveries(deliveries).length >= 10);
  first.process.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  const acknowledged = acks(first.lines);
  const deliveredBeforeKill = new Set(readDeliveries(deliveries).map((d) => d.id));
  expect(deliveredBeforeKill.size).toBeGreaterThan(0);
  expect(deliveredBeforeKill.size).toBeLessThan(acknowledged.length);

  const second = startChild([db.file, deliveries, 'drain']);
  children.push(second);
  await second.waitFor((lines) => lines.includes('ready'), 45_000);
  // Every alarm in the table was set before the kill, due at most 1.5 s after its set: the second
  // process must deliver every acknowledged one, and leave nothing pending at all.
  const wanted = new Set(acknowledged.map((a) => a.id));
  await until('every acknowledged alarm delivered', () => {
    const seen = new Set(readDeliveries(deliveries).map((d) => d.id));
    return [...wanted].every((id) => seen.has(id));
  });
  await until('no pending alarm left', () => rawRows(db.file).every((r) => r.status !== 'pending'));
  second.process.kill('SIGKILL');
  await second.exited;

  const fireAtById = new Map(acknowledged.map((a) => [a.id, a.fireAt]));
  for (const d of readDeliveries(deliveries)) {
    expect(d.receivedAt, `alarm ${d.id} delivered early`).toBeGreaterThanOrEqual(d.scheduledFor);
    const fireAt = fireAtById.get(d.id);
    if (fireAt !== undefined) expect(d.scheduledFor).toBe(fireAt);
  }
});

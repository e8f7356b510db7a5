/**
 * Runs one case of `cases.ts` in a child Node process (through tsx) and returns its result.
 * The child is killed if it outlives its time budget or if the orchestrator is interrupted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const RESULT_PREFIX = '@@result ';

const casesFile = fileURLToPath(new URL('./cases.ts', import.meta.url));
const live = new Set<ChildProcess>();

/** Kills every case still running (on SIGINT or error). */
export function killCases(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** A running case: its pid (for /proc reads while it runs) and its result. */
export interface RunningCase<T> {
  pid: number;
  result: Promise<T>;
}

export function startCase<T>(name: string, args: object, timeoutMs: number): RunningCase<T> {
  const child = spawn(
    process.execPath,
    // `--conditions=@vigil/source`, as the orchestrator has: the case measures the workspace's
    // sources, not whatever was last built to dist/ (which may be stale, or absent).
    ['--conditions=@vigil/source', '--import', 'tsx', '--expose-gc', casesFile, name, JSON.stringify(args)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = new Promise<T>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
        return;
      }
      const why = signal
        ? `killed by ${signal}${signal === 'SIGKILL' ? ` (budget ${timeoutMs} ms)` : ''}`
        : `exit ${code}`;
      reject(new Error(`case ${name} ${JSON.stringify(args)}: ${why}\n${stderr.trim().slice(-2000)}`));
    });
  });
  return { pid: child.pid ?? -1, result };
}

export function runCase<T>(name: string, args: object, timeoutMs: number): Promise<T> {
  return startCase<T>(name, args, timeoutMs).result;
}

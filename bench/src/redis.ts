/**
 * A throwaway redis-server on loopback: Debian's package, installed when missing, started on a
 * free port in a temp directory with Redis's built-in defaults (no config file: `hz 10`, RDB
 * snapshots on the default `save` rules, no AOF), and stopped afterwards. Every server started
 * here is remembered so that an error or SIGINT in the orchestrator still stops it.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep } from './stats.js';

/** A running server. `stop` is idempotent. */
export interface RedisServer {
  port: number;
  pid: number;
  version: string;
  stop: () => Promise<void>;
}

const running = new Set<RedisServer>();

/** Stops every server this process started (on error, SIGINT, exit). */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Installs Debian's redis-server when it is not on PATH (needs root and apt). */
export function ensureRedisInstalled(log: (line: string) => void): void {
  if (onPath('redis-server')) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'redis-server is not installed and this is not root: run `apt-get install -y redis-server`',
    );
  }
  if (!onPath('apt-get')) throw new Error('redis-server is not installed and apt-get is not available');
  log('redis-server not found: apt-get update && apt-get install -y redis-server');
  // In a container without an init system, the package's postinst cannot start the service
  // (invoke-rc.d finds no runlevel), so installing does not leave a server on port 6379.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  if (!onPath('redis-server')) throw new Error('apt-get installed redis-server but it is not on PATH');
}

export function redisVersion(): string {
  const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
}

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and returns the raw reply (enough for PING and SHUTDOWN). */
function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('redis did not answer'));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(data);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Starts redis-server with its built-in defaults plus `extra` directives (e.g. `['--hz', '100']`)
 * and waits until it answers PING.
 */
export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const server: RedisServer = {
    port,
    pid: child.pid ?? -1,
    version: redisVersion(),
    stop: () => {
      stopping ??= (async () => {
        running.delete(server);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
          if (timedOut) child.kill('SIGKILL');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  running.add(server);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start: ${stderr.trim()}`);
    try {
      if ((await rawCommand(port, 'PING')).startsWith('+PONG')) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error('redis-server did not answer PING within 10 s');
    }
    await sleep(20);
  }
}

/**
 * One measurement, run in its own process so that each system starts from a clean heap, RSS
 * and event loop: `tsx src/cases.ts <case> '<json args>'`. The result is printed as one line
 * `@@result <json>` on stdout; anything else on stdout or stderr is passed through as log.
 */
import {
  fsyncRate,
  heapTimerLateness,
  setTimeoutLateness,
  sqliteBatchedRate,
  sqliteNaiveRate,
  storeDrainRate,
} from './baselines.js';
import {
  bullAddBulkRate,
  bullAddRate,
  bullDrain,
  bullHoldRss,
  bullLateness,
  bullPopulate,
} from './bullmq.js';
import { RESULT_PREFIX } from './child.js';
import { graphileAddRate, graphileDrain, graphileLateness } from './graphile.js';
import { bossDrain, bossLateness, bossSendRate } from './pgboss.js';
import { dueInstants } from './stats.js';
import {
  vigilDrain,
  vigilHoldRss,
  vigilLateness,
  vigilPopulate,
  vigilSetManyRate,
  vigilSetRate,
} from './vigil.js';
import { pgAlarms, vigilPgNode, vigilPgSetRate } from './vigil-pg.js';

/** Arguments of every case; each case reads the fields it needs. */
export interface CaseArgs {
  system?: string;
  count?: number;
  spreadMs?: number;
  leadMs?: number;
  total?: number;
  callers?: number;
  chunk?: number;
  port?: number;
  file?: string;
  ms?: number;
  /** A `postgres://` URL (the PostgreSQL rows). */
  url?: string;
  /** Several-node cases: this node's number, the start file, rows to expect. */
  node?: number;
  go?: string;
  expect?: number;
}

const need = <T>(value: T | undefined, name: string): T => {
  if (value === undefined) throw new Error(`missing case argument '${name}'`);
  return value;
};

async function run(name: string, a: CaseArgs): Promise<unknown> {
  switch (name) {
    case 'fsync':
      return fsyncRate(a.ms ?? 1000);
    case 'lateness': {
      const dues = dueInstants(
        need(a.count, 'count'),
        Date.now() + need(a.leadMs, 'leadMs'),
        need(a.spreadMs, 'spreadMs'),
      );
      switch (a.system) {
        case 'vigil':
          return vigilLateness(dues);
        case 'bullmq':
          return bullLateness(need(a.port, 'port'), dues);
        case 'settimeout':
          return setTimeoutLateness(dues);
        case 'heap-timer':
          return heapTimerLateness(dues);
        case 'graphile-worker':
          return graphileLateness(need(a.url, 'url'), dues);
        case 'pg-boss':
          return bossLateness(need(a.url, 'url'), dues);
      }
      break;
    }
    case 'schedule': {
      const total = need(a.total, 'total');
      switch (a.system) {
        case 'vigil':
          return vigilSetRate(total, need(a.callers, 'callers'));
        case 'vigil-bulk':
          return vigilSetManyRate(total, need(a.chunk, 'chunk'));
        case 'bullmq':
          return bullAddRate(need(a.port, 'port'), total, need(a.callers, 'callers'));
        case 'bullmq-bulk':
          return bullAddBulkRate(need(a.port, 'port'), total, need(a.chunk, 'chunk'));
        case 'sqlite-naive-full':
          return sqliteNaiveRate(total);
        case 'sqlite-batched':
          return sqliteBatchedRate(total, need(a.chunk, 'chunk'));
        case 'vigil-pg':
          return vigilPgSetRate(need(a.url, 'url'), total, need(a.callers, 'callers'));
        case 'graphile-worker':
          return graphileAddRate(need(a.url, 'url'), total, need(a.callers, 'callers'));
        case 'pg-boss':
          return bossSendRate(need(a.url, 'url'), total, need(a.callers, 'callers'));
      }
      break;
    }
    case 'drain':
      if (a.system === 'vigil') return vigilDrain(need(a.total, 'total'));
      if (a.system === 'vigil-batch') return vigilDrain(need(a.total, 'total'), true);
      if (a.system === 'store-only') {
        const perS = await storeDrainRate(need(a.total, 'total'));
        return { perS, handlerPerS: perS };
      }
      if (a.system === 'bullmq') return bullDrain(need(a.port, 'port'), need(a.total, 'total'));
      if (a.system === 'graphile-worker') return graphileDrain(need(a.url, 'url'), need(a.total, 'total'));
      if (a.system === 'pg-boss') return bossDrain(need(a.url, 'url'), need(a.total, 'total'));
      break;
    case 'pg-alarms':
      return pgAlarms(
        need(a.url, 'url'),
        need(a.count, 'count'),
        need(a.leadMs, 'leadMs'),
        need(a.spreadMs, 'spreadMs'),
      );
    case 'pg-node':
      return vigilPgNode({
        url: need(a.url, 'url'),
        node: need(a.node, 'node'),
        go: need(a.go, 'go'),
        expect: need(a.expect, 'expect'),
        lateness: a.count !== undefined,
      });
    case 'populate':
      if (a.system === 'vigil') return vigilPopulate(need(a.file, 'file'), need(a.total, 'total'));
      if (a.system === 'bullmq') return bullPopulate(need(a.port, 'port'), need(a.total, 'total'));
      break;
    case 'hold':
      if (a.system === 'vigil') return vigilHoldRss(need(a.file, 'file'));
      if (a.system === 'bullmq') return bullHoldRss(need(a.port, 'port'));
      break;
  }
  throw new Error(`unknown case '${name}' for system '${a.system}'`);
}

const [name = '', json = '{}'] = process.argv.slice(2);
run(name, JSON.parse(json) as CaseArgs).then(
  (result) => {
    // Exit once the line is written (stdout to a pipe is asynchronous: a long line would be cut),
    // and no later: client libraries may keep sockets or timers that would hold the process.
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`, () => process.exit(0));
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

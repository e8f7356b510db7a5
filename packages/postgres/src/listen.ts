/**
 * Wake-ups between nodes: every insert transaction sends `NOTIFY vigil_alarms` with the earliest
 * instant it stored (sent by PostgreSQL only if the transaction commits), and each node keeps one
 * connection that LISTENs, so a set on one node that comes due before another node's armed
 * Timer wakes that node at once instead of at its next poll.
 *
 * A notification can be missed: the listening connection drops (the server restarts, a network
 * cut) and notifications sent meanwhile are gone. So the listener reconnects with a growing
 * wait, and after each reconnection tells its subscribers that anything may have changed; and
 * the Alarm still polls (`pollMs`) as the slow safety net.
 */
import pg from 'pg';

/** The channel, per database. */
export const CHANNEL = 'vigil_alarms';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

/** The payload of a notification: the sending node and the earliest instant it stored. */
export function payload(nodeId: string, fireAt: number): string {
  return `${fireAt} ${nodeId}`;
}

/** One LISTEN connection shared by the subscribers of a store. */
export class Listener {
  readonly #subscribers = new Set<(fireAt: number) => void>();
  #client: pg.Client | undefined;
  #retryMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly nodeId: string,
  ) {}

  /** Adds a subscriber (connecting on the first); returns its removal. */
  subscribe(onChange: (fireAt: number) => void): () => void {
    this.#subscribers.add(onChange);
    if (this.#client === undefined && this.#timer === undefined) void this.#connect(false);
    return () => {
      this.#subscribers.delete(onChange);
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    void client?.end().catch(() => {});
  }

  async #connect(again: boolean): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.connectionString });
    this.#client = client;
    // Errors and the end of the connection both mean: notifications may be lost from here on.
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || n.payload === undefined) return;
      const space = n.payload.indexOf(' ');
      if (n.payload.slice(space + 1) === this.nodeId) return; // our own set: the Alarm knows
      this.#notify(Number(n.payload.slice(0, space)));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch {
      this.#lost(client);
      return;
    }
    if (this.#closed) {
      void client.end().catch(() => {});
      return;
    }
    this.#retryMs = 0;
    // Whatever was notified while we were not listening is lost: have everyone read again.
    if (again) this.#notify(0);
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = undefined;
    void client.end().catch(() => {});
    this.#retryMs = Math.min(Math.max(RETRY_MIN_MS, this.#retryMs * 2), RETRY_MAX_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect(true);
    }, this.#retryMs);
    this.#timer.unref();
  }

  #notify(fireAt: number): void {
    for (const s of this.#subscribers) {
      try {
        s(Number.isFinite(fireAt) ? fireAt : 0);
      } catch {
        // A subscriber that throws must not stop the others or the connection.
      }
    }
  }
}

/**
 * Messages between the main thread and a pool thread (see pool.ts). Actors are addressed by a
 * key unique in the pool; a message to an actor carries a sequence number so the watchdog can
 * time the one the thread is handling.
 */

/** An error as it crosses the thread boundary. @internal */
export interface WireError {
  name: string;
  message: string;
  code?: string;
}

/** Main thread to pool thread. @internal */
export type ToThread =
  | { op: 'start'; key: number; module: string; export: string; input: unknown; name: string }
  | { op: 'msg'; key: number; seq: number; message: object; callId?: number }
  | { op: 'stop'; key: number };

/** Pool thread to main thread. @internal */
export type FromThread =
  | { op: 'started'; key: number }
  | { op: 'failed'; key: number; error: WireError }
  | { op: 'begin'; key: number; seq: number; type: string }
  | { op: 'end'; key: number; seq: number }
  | { op: 'reply'; key: number; callId: number; value: unknown }
  | { op: 'replyError'; key: number; callId: number; error: WireError }
  | { op: 'exit'; key: number; error?: WireError };

/** @internal */
export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

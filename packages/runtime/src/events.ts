/**
 * The runtime's one typed event bus (telemetry). Listeners can never hurt the runtime: each is
 * wrapped, and a throw becomes a `listener.error` event instead of unwinding the emitter.
 */
import { EventEmitter } from 'eventemitter3';
import { coerceError } from './errors.js';
import type { ExitReason } from './exit.js';

/**
 * Every event on the bus and its payload. Other packages add their events by declaration
 * merging (`declare module '@vigil/runtime' { interface VigilEvents { ... } }`).
 */
export interface VigilEvents {
  /** An actor incarnation started. */
  'actor.started': { name: string; incarnation: number; at: number };
  /** An actor exited abnormally (`error` or `killed`). */
  'actor.crashed': { name: string; incarnation: number; reason: ExitReason; at: number };
  /** An actor exited normally or was shut down. */
  'actor.stopped': { name: string; incarnation: number; reason: ExitReason; at: number };
  /** A supervisor restarted a child (or is about to, after `delayMs` of backoff). */
  'actor.restarted': { name: string; supervisor: string; restartCount: number; delayMs: number; at: number };
  /**
   * A running actor's logic was replaced by `runtime.upgrade`; `from` and `to` are the logics'
   * versions (an XState machine's `version`), undefined when the logic has none.
   */
  'actor.upgraded': {
    name: string;
    incarnation: number;
    from: string | undefined;
    to: string | undefined;
    at: number;
  };
  /** A supervisor exceeded its restart intensity and is exiting, escalating to its parent. */
  'supervisor.escalated': { name: string; restarts: number; withinMs: number; at: number };
  /** The runtime finished starting: the whole tree is up (`runtime.whenRunning()` resolves). */
  'runtime.started': { at: number };
  /** The root supervisor exited: the runtime is stopping. */
  'runtime.fatal': { reason: ExitReason; at: number };
  /** The runtime finished stopping. */
  'runtime.stopped': { reason: ExitReason; at: number };
  /** A message could not be delivered; it was dropped and counted. */
  deadLetter: { to: string; messageType: string; reason: 'undeclared' | 'down' | 'stopped'; at: number };
  /** An event listener threw; the error was contained. */
  'listener.error': { event: string; error: Error };
}

/** The name of an event on the bus. */
export type VigilEventName = keyof VigilEvents;

/** A listener for one event. */
export type VigilListener<K extends VigilEventName> = (payload: VigilEvents[K]) => void;

type AnyListener = (payload: unknown) => void;

/**
 * Typed event bus built on eventemitter3.
 *
 * @example
 * const off = runtime.events.on('actor.crashed', (e) => console.log(e.name, e.reason));
 * off();
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly wrapped = new Map<AnyListener, Map<string, AnyListener>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends VigilEventName>(event: K, listener: VigilListener<K>): () => void {
    const wrapper = this.wrap(event, listener as AnyListener, false);
    this.emitter.on(event, wrapper);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once; returns a function that removes it. */
  once<K extends VigilEventName>(event: K, listener: VigilListener<K>): () => void {
    const wrapper = this.wrap(event, listener as AnyListener, true);
    this.emitter.once(event, wrapper);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with `on` or `once`. */
  off<K extends VigilEventName>(event: K, listener: VigilListener<K>): void {
    const byEvent = this.wrapped.get(listener as AnyListener);
    const wrapper = byEvent?.get(event);
    if (!byEvent || !wrapper) return;
    this.emitter.off(event, wrapper);
    byEvent.delete(event);
    if (byEvent.size === 0) this.wrapped.delete(listener as AnyListener);
  }

  /** Emits an event. Never throws, whatever the listeners do. */
  emit<K extends VigilEventName>(event: K, payload: VigilEvents[K]): void {
    this.emitter.emit(event, payload);
  }

  /** True when at least one listener is attached (lets hot paths skip building payloads). */
  has(event: VigilEventName): boolean {
    return this.emitter.listenerCount(event) > 0;
  }

  /**
   * Resolves with the next payload of `event` that satisfies `predicate`. Tests use this to wait
   * for a named event instead of sleeping.
   */
  waitFor<K extends VigilEventName>(
    event: K,
    predicate: (payload: VigilEvents[K]) => boolean = () => true,
  ): Promise<VigilEvents[K]> {
    return new Promise((resolve) => {
      const listener = (payload: VigilEvents[K]) => {
        if (!predicate(payload)) return;
        this.off(event, listener);
        resolve(payload);
      };
      this.on(event, listener);
    });
  }

  private wrap(event: string, listener: AnyListener, once: boolean): AnyListener {
    const wrapper: AnyListener = (payload) => {
      if (once) this.wrapped.get(listener)?.delete(event);
      try {
        listener(payload);
      } catch (err) {
        // A listener of listener.error that throws is dropped: reporting it would loop.
        if (event !== 'listener.error') this.emit('listener.error', { event, error: coerceError(err) });
      }
    };
    let byEvent = this.wrapped.get(listener);
    if (!byEvent) {
      byEvent = new Map();
      this.wrapped.set(listener, byEvent);
    }
    const previous = byEvent.get(event);
    if (previous) this.emitter.off(event, previous);
    byEvent.set(event, wrapper);
    return wrapper;
  }
}

/**
 * A FIFO queue of messages for one actor. An array with a moving head: O(1) push and shift,
 * compacted when the consumed prefix grows, so a long-lived busy mailbox does not leak.
 */
export class Mailbox<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Number of queued messages. */
  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns everything queued. */
  drainAll(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }
}

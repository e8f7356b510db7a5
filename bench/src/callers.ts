/**
 * The scheduling-throughput loop every system's "durable schedules per second" case shares:
 * `callers` concurrent callers, each starting the next call as soon as its previous one was
 * acknowledged, until `total` calls were made. One loop, so each system is measured the same way.
 */

/**
 * Acknowledged calls per second: `one(i)` is called for i = 0 .. total - 1 by `callers` concurrent
 * callers; timed from the first call to the last acknowledgement.
 */
export async function callersRate(
  total: number,
  callers: number,
  one: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < total) await one(next++);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: callers }, caller));
  return (total / (performance.now() - t0)) * 1000;
}

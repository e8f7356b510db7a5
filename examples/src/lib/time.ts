/** Formatting instants and durations: the demo's, shipped in @vigil/cli. */
export { clockTime, elapsed, localZone } from '@vigil/cli/demo';

export { ManualClock, settle, systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export * from './errors.js';
export { Exit, isAbnormal } from './exit.js';
export type { ExitReason } from './exit.js';

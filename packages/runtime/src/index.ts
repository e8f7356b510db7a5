export { SHUTDOWN_EVENT } from './actor.js';
export { reply, replyError } from './call.js';
export type { Clock, TimerHandle } from './clock.js';
export { ManualClock, settle, systemClock } from './clock.js';
export { castTo, exit, nameOf, runtimeOf } from './context.js';
export type { VigilErrorCode } from './errors.js';
export {
  ActorDownError,
  AlreadyRunningError,
  CalleeExitedError,
  CallTimeoutError,
  coerceError,
  DuplicateNameError,
  describeValue,
  InvalidChildSpecError,
  InvalidMessageError,
  InvalidRuntimeOptionError,
  InvalidSupervisorOptionsError,
  isRetryable,
  NotASupervisorError,
  OutOfMemoryError,
  RuntimeStoppedError,
  StartError,
  ThreadExitedError,
  TurnTimeoutError,
  UnknownActorError,
  UnknownChildError,
  UpgradeFailedError,
  VigilError,
} from './errors.js';
export type { VigilEventName, VigilEvents, VigilListener } from './events.js';
export { EventBus } from './events.js';
export type { ExitReason } from './exit.js';
export { Exit, isAbnormal } from './exit.js';
export type { IsolatedActorOptions, ThreadPool, ThreadPoolOptions } from './isolation/pool.js';
export { threadPool } from './isolation/pool.js';
export { isReservedType } from './message.js';
export type {
  CallOptions,
  Down,
  DownMessage,
  Message,
  RuntimeOptions,
  RuntimeState,
  TreeNode,
} from './runtime.js';
export { createRuntime, Runtime } from './runtime.js';
export type {
  Backoff,
  ChildSpec,
  IsolatedModule,
  RestartType,
  Shutdown,
  StartContext,
  Strategy,
  SupervisorOptions,
  SupervisorSpec,
  WorkerOptions,
  WorkerSpec,
} from './spec.js';
export { supervisor, validateChildSpec, worker } from './spec.js';
export type { ChildInfo } from './supervisor.js';
export { INTENSITY_EXIT } from './supervisor.js';
export { threadEntry } from './thread-entry.js';
export { formatTree } from './tree.js';
export type { UpgradeOptions, UpgradeResult } from './upgrade.js';
export { versionOf } from './upgrade.js';
export type { ParseFailure } from './validate.js';
export { parseWith } from './validate.js';

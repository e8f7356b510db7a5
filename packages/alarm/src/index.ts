import './events.js';

export type { AlarmServiceInput, AlarmStats } from './alarm.js';
export { alarmLogic, isAlarmTarget } from './alarm.js';
export type { AlarmBatch, BatchItemError, BatchOutcome } from './batch.js';
export type { ClientOptions, SetInterceptor } from './client.js';
export { AlarmClient, interceptSets } from './client.js';
export { MAX_DURATION_MS, MAX_TEXT_LENGTH, parseDuration } from './duration.js';
export type { StoreErrorCode } from './errors.js';
export {
  InvalidBatchReplyError,
  InvalidOptionError,
  InvalidPayloadError,
  InvalidRecurrenceError,
  InvalidTimeError,
  InvalidZoneError,
  PastTimeError,
  PayloadTooLargeError,
  SchemaTooNewError,
  StoreError,
  UndecodableMessageError,
  UnknownTargetError,
} from './errors.js';
export { DEFAULT_MAX_MESSAGE_BYTES, decodeMessage, encodeMessage, MAX_MESSAGE_DEPTH } from './message.js';
export type { AlarmOptions, BatchTargetOptions, ResolvedAlarmOptions, RetryBackoff } from './options.js';
export { DEFAULT_MAX_BATCH, resolveOptions, retryDelay } from './options.js';
export type { ParsedWhen, ParseOptions, When } from './parse.js';
export { checkZone, formatInstant, MAX_INSTANT, parseWhen, zoneOffsetMinutes } from './parse.js';
export type { MisfirePolicy, Recurrence } from './recurrence.js';
export { MIN_INTERVAL_MS, nextOccurrence, validateMisfire, validateRecurrence } from './recurrence.js';
export type {
  Alarm,
  AlarmInput,
  AlarmRequest,
  Delivery,
  DeliveryInfo,
  Occurrence,
  SetOptions,
} from './request.js';
export { prepareAlarm, toAlarm, toOccurrence } from './request.js';
export { alarmSupervisor } from './spec.js';
export type { CheckedAlarm } from './store/check.js';
export { checkNewAlarm, oneShotHistory } from './store/check.js';
export { SCHEMA_VERSION } from './store/migrations.js';
export type { SqliteStoreOptions } from './store/sqlite.js';
export { openSqliteStore } from './store/sqlite.js';
export type {
  AlarmRow,
  AlarmStatus,
  AlarmStore,
  CompleteResult,
  Completion,
  DueCursor,
  ListFilter,
  NewAlarm,
  OccurrenceOutcome,
  OccurrenceRow,
  SettledOccurrence,
  StoreStats,
} from './store/types.js';
export { ALARM_STATUSES } from './store/types.js';
export { openWorkerStore } from './store/worker.js';
export type { DueMessage, TimerEvent, TimerInput } from './timer.js';
export { timerMachine } from './timer.js';

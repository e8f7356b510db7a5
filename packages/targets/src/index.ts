/**
 * `@vigil/targets`: ready target actors (Pushover, Webhook, Log), `defineTarget` for writing your
 * own, and the HTTP clients they are built on. The fake Pushover server is at
 * `@vigil/targets/testing`. Durable workflows (the Scheduler) are in `@vigil/workflow`.
 */

// HTTP layer.
export {
  FakePushoverClosedError,
  FakePushoverTimeoutError,
  InvalidNotificationError,
  InvalidPushoverOptionsError,
  InvalidWebhookError,
  PushoverNotConfiguredError,
} from './errors.js';
export type { DeliveryFailure, DeliverySuccess, StatusClass } from './http.js';
export { classifyStatus, parseRetryAfter, redact } from './http.js';
export { RejectedDeliveryError, TransientDeliveryError } from './http-target.js';
export type { LogTargetOptions } from './log.js';
export { logTarget } from './log.js';
export type { LogDelivery, LogWriter, LogWriterOptions } from './log-writer.js';
export { createLogWriter } from './log-writer.js';
// Targets.
export type {
  PushoverDelivery,
  PushoverReceipt,
  PushoverTargetOptions,
} from './pushover.js';
export { PUSHOVER_QUOTA_QUERY, pushoverTarget } from './pushover.js';
export type {
  PushoverCredentials,
  PushoverNotification,
  PushoverPriority,
  PushoverQuota,
  SendOutcome,
  SendPushoverOptions,
} from './pushover-client.js';
export {
  PUSHOVER_API_URL,
  PUSHOVER_TOKEN_ENV,
  PUSHOVER_USER_ENV,
  parsePushoverQuota,
  resolvePushoverCredentials,
  sendPushover,
  validateNotification,
} from './pushover-client.js';
// Custom targets.
export type { DefineTargetOptions, TargetContext, TargetHandler } from './target.js';
export { defineTarget, PermanentFailure } from './target.js';
export type { WebhookDelivery, WebhookTargetOptions } from './webhook.js';
export { webhookTarget } from './webhook.js';
export type { SendWebhookOptions, WebhookOutcome, WebhookRequest } from './webhook-client.js';
export {
  sendWebhook,
  signWebhookPayload,
  validateWebhookRequest,
  verifyWebhookSignature,
  WEBHOOK_DEFAULT_TOLERANCE_MS,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './webhook-client.js';

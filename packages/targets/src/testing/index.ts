/**
 * `@vigil/targets/testing`: a local server that speaks the Pushover messages API, for tests and
 * for examples run without a real token.
 */
export type {
  FakePushover,
  FakePushoverMode,
  FakePushoverOptions,
  ReceivedMessage,
} from './fake-pushover.js';
export { FAKE_PUSHOVER_TOKEN, FAKE_PUSHOVER_USER, startFakePushover } from './fake-pushover.js';

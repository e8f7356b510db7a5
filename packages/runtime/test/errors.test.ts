/** Error codes are data: `isRetryable` reads them (and `retryable: true`), never messages. */
import { describe, expect, it } from 'vitest';
import {
  ActorDownError,
  AlreadyRunningError,
  CalleeExitedError,
  CallTimeoutError,
  Exit,
  InvalidMessageError,
  isRetryable,
  RuntimeStoppedError,
  UnknownActorError,
  VigilError,
  type VigilErrorCode,
} from '../src/index.js';

describe('isRetryable', () => {
  it.each([
    ['ActorDownError', new ActorDownError('A'), true],
    ['CalleeExitedError', new CalleeExitedError('A', Exit.killed), true],
    ['CallTimeoutError', new CallTimeoutError('A', 10, 'GET'), true],
    ['RuntimeStoppedError', new RuntimeStoppedError('call'), true],
    ['UnknownActorError', new UnknownActorError('A'), false],
    ['InvalidMessageError', new InvalidMessageError('x'), false],
    ['AlreadyRunningError', new AlreadyRunningError('root', 'A', 'deleteChild'), false],
    ['an error with retryable: true', Object.assign(new Error('busy'), { retryable: true }), true],
    [
      'a VigilError of another package with retryable: true',
      Object.assign(new VigilError('TARGET_BUSY', 'busy'), { retryable: true }),
      true,
    ],
    ['a plain object with a retryable code', { code: 'ACTOR_DOWN' }, true],
    ['a plain Error', new Error('boom'), false],
    ['retryable: "yes" (not true)', Object.assign(new Error('x'), { retryable: 'yes' }), false],
    ['null', null, false],
    ['a string', 'ACTOR_DOWN', false],
  ])('%s → %s', (_label, error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });
});

describe('codes', () => {
  it('every runtime error class carries its code, typed as VigilErrorCode', () => {
    const codes: VigilErrorCode[] = [
      new ActorDownError('A').code,
      new AlreadyRunningError('root', 'A', 'restartChild').code,
      new RuntimeStoppedError('x').code,
    ];
    expect(codes).toEqual(['ACTOR_DOWN', 'ALREADY_RUNNING', 'RUNTIME_STOPPED']);
  });
});

/**
 * Target options and deliveries from untyped callers, refused by their schemas with the typed
 * error and code naming the field, before any request is made: `pushoverTarget`, `webhookTarget`
 * and `defineTarget` options, and random junk given to `validateNotification` and
 * `validateWebhookRequest`.
 */
import { VigilError } from '@vigil/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defineTarget,
  pushoverTarget,
  validateNotification,
  validateWebhookRequest,
  webhookTarget,
} from '../src/index.js';

const creds = { token: 'tok3nSECRETaaaaaaaaaaaaaaaaaaa', user: 'us3rSECRETbbbbbbbbbbbbbbbbbbbb', env: {} };

describe('target options refused by schema', () => {
  it.each([
    ['INVALID_PUSHOVER_OPTIONS', /baseUrl/, { baseUrl: 42 }],
    ['INVALID_PUSHOVER_OPTIONS', /baseUrl/, { baseUrl: 'relative/path' }],
    ['INVALID_PUSHOVER_OPTIONS', /baseUrl' must use http or https/, { baseUrl: 'ftp://x' }],
    ['INVALID_PUSHOVER_OPTIONS', /timeoutMs/, { timeoutMs: '10s' }],
    ['INVALID_PUSHOVER_OPTIONS', /timeoutMs/, { timeoutMs: Number.NaN }],
    ['INVALID_OPTION', /maxRetries must be an integer >= 0, got 1.5/, { maxRetries: 1.5 }],
    ['INVALID_OPTION', /concurrency must be a positive integer, got 0/, { concurrency: 0 }],
    ['INVALID_OPTION', /concurrency must be a positive integer, got 2/, { concurrency: '2' }],
  ])('pushoverTarget: %s %s', (code, message, options) => {
    expect(() => pushoverTarget({ ...creds, ...(options as object) })).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });

  it.each([
    ['INVALID_WEBHOOK', 'url', { url: 7 }],
    ['INVALID_WEBHOOK', 'headers', { headers: 'x-a: 1' }],
    ['INVALID_WEBHOOK', 'headers.x-a', { headers: { 'x-a': 1 } }],
    ['INVALID_WEBHOOK', 'secret', { secret: 5 }],
    ['INVALID_WEBHOOK', 'signatureHeader', { signatureHeader: 5 }],
    ['INVALID_WEBHOOK', 'timeoutMs', { timeoutMs: '1s' }],
  ])('webhookTarget: %s %s', (code, field, options) => {
    expect(() => webhookTarget(options as never)).toThrow(expect.objectContaining({ code, field }));
  });

  it.each([[0], [1.5], ['1'], [null]])('defineTarget concurrency %o', (concurrency) => {
    expect(() => defineTarget(async () => {}, { concurrency: concurrency as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/^concurrency /) }),
    );
  });
});

describe('random junk is refused with a typed error', () => {
  const junk = fc.oneof(
    fc.anything(),
    fc.record(
      {
        message: fc.anything(),
        title: fc.anything(),
        priority: fc.anything(),
        retry: fc.anything(),
        expire: fc.anything(),
        device: fc.anything(),
      },
      { requiredKeys: [] },
    ),
  );

  it('validateNotification: a clean copy of known fields, or INVALID_NOTIFICATION', () => {
    fc.assert(
      fc.property(junk, (input) => {
        try {
          const out = validateNotification(input);
          expect(typeof out.message).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(VigilError);
          expect((e as VigilError).code).toBe('INVALID_NOTIFICATION');
        }
      }),
    );
  });

  it('validateWebhookRequest: a request to send, or INVALID_WEBHOOK', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            url: fc.oneof(fc.webUrl(), fc.anything()),
            body: fc.anything(),
            headers: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.anything()),
            timeoutMs: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        (input) => {
          try {
            const out = validateWebhookRequest(input);
            expect(out.url).toMatch(/^https?:\/\//);
          } catch (e) {
            expect(e).toBeInstanceOf(VigilError);
            expect((e as VigilError).code).toBe('INVALID_WEBHOOK');
          }
        },
      ),
    );
  });
});

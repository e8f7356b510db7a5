/**
 * The per-user `Inbox` target (registered as `Inbox:<user>`). Each delivery is written to the
 * user's inbox table and committed before the Alarm gets its answer, so the Alarm marks the alarm
 * fired only once the inbox holds it (at least once); a redelivery of the same occurrence after a
 * crash finds its row and changes nothing (de-duplicated by occurrence id). Connected sessions are
 * told after the commit. A write that fails is answered with a retryable error: the Alarm retries
 * it with backoff, as for any target that is down.
 */
import { reply, replyError, VigilError } from '@vigil/runtime';
import { setup } from 'xstate';

/** What the Inbox needs from its host: store one delivery (sync, committed on return). */
export interface InboxInput {
  deliver: (delivery: Record<string, unknown> & { alarm: Record<string, unknown> }) => void;
}

class InboxWriteError extends VigilError {
  readonly retryable = true;
  constructor(cause: unknown) {
    super(
      'INBOX_WRITE_FAILED',
      `the inbox could not store the delivery: ${String((cause as Error)?.message ?? cause)}`,
      {
        cause,
      },
    );
  }
}

class NotADeliveryError extends VigilError {
  constructor() {
    super('NOT_A_DELIVERY', 'the Inbox accepts only alarm deliveries');
  }
}

/** The Inbox actor's logic; `input` gives it the user's store. @internal */
export const inboxLogic = setup({
  types: { input: {} as InboxInput, context: {} as InboxInput },
}).createMachine({
  id: 'inbox',
  context: ({ input }) => input,
  on: {
    '*': {
      actions: ({ context, event }) => {
        const alarm = (event as { alarm?: unknown }).alarm;
        if (typeof alarm !== 'object' || alarm === null) {
          replyError(event, new NotADeliveryError());
          return;
        }
        try {
          context.deliver(event as unknown as Record<string, unknown> & { alarm: Record<string, unknown> });
        } catch (err) {
          replyError(event, new InboxWriteError(err));
          return;
        }
        reply(event, { stored: true });
      },
    },
  },
});

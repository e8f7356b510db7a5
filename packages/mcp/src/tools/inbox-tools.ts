/**
 * The inbox tools: inbox_read and inbox_ack. The inbox holds every delivery of an alarm whose
 * target was `Inbox`, until it is acknowledged; it is the same list whether or not a session was
 * connected when the alarm fired.
 */
import { z } from 'zod';
import { defineTool } from './tool.js';

const itemView = z.object({
  id: z.number().int(),
  alarmId: z.number().int(),
  occurrenceId: z.string(),
  message: z.string().nullable(),
  scheduledFor: z.string(),
  deliveredAt: z.string(),
});

export const inboxRead = defineTool({
  name: 'inbox_read',
  title: 'Read the inbox',
  description: [
    'Returns the alarms that came back to you (target Inbox) and are not acknowledged yet, oldest first.',
    'Call inbox_ack with their ids once handled, or they are returned again. `since` skips items up to',
    'that id. Example: {"limit": 10}. Errors: INVALID_INPUT.',
  ].join(' '),
  input: z.strictObject({
    since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.number().int().min(1).max(100).optional().describe('default 20'),
  }),
  output: z.object({ items: z.array(itemView), unread: z.number().int() }),
  mutates: false,
  run: async (ctx, args) => {
    const items = ctx.user.store.read(args.since ?? 0, args.limit ?? 20).map((i) => ({
      id: i.id,
      alarmId: i.alarmId,
      occurrenceId: i.occurrenceId,
      message: typeof i.message.text === 'string' ? i.message.text : JSON.stringify(i.message),
      scheduledFor: new Date(i.scheduledFor).toISOString(),
      deliveredAt: new Date(i.receivedAt).toISOString(),
    }));
    const unread = ctx.user.store.unread();
    return {
      structured: { items, unread },
      text:
        items.length === 0
          ? 'The inbox is empty.'
          : items.map((i) => `[${i.id}] alarm #${i.alarmId}: ${i.message}`).join('\n'),
    };
  },
});

export const inboxAck = defineTool({
  name: 'inbox_ack',
  title: 'Acknowledge inbox items',
  description:
    'Marks inbox items handled, so inbox_read no longer returns them. Ids already acknowledged or not yours are ignored and not listed in `acked`. Example: {"ids": [3, 4]}. Errors: INVALID_INPUT.',
  input: z.strictObject({
    ids: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).min(1).max(1000),
  }),
  output: z.object({ acked: z.array(z.number().int()) }),
  mutates: true,
  run: async (ctx, args) => {
    const acked = ctx.user.store.ack(args.ids, ctx.now());
    return { structured: { acked }, text: `Acknowledged ${acked.length} item(s).` };
  },
});

/**
 * Bad input to every tool, generated with fast-check from the JSON Schemas the server lists:
 * each property replaced by a value of its type (often out of range) or of any other type, a
 * required one dropped, unknown ones added. Every answer is a success or a typed tool error (a
 * Vigil code, never INTERNAL, never a stack trace); what is stored matches the successes exactly;
 * the server keeps serving.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { defineWorkflow, end } from '@vigil/workflow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer, type VigilMcpServer } from '../src/index.js';
import { errorOf, ok, tempDir } from './helpers.js';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
};

/** Values for one schema: of its own type (unconstrained) or of any type at all. */
function valueFor(schema: Schema): fc.Arbitrary<unknown> {
  const own: fc.Arbitrary<unknown>[] = [];
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  for (const t of types) {
    if (t === 'string')
      own.push(
        fc.string({ maxLength: 300 }),
        fc.constantFrom('', 'in 2 hours', 'Inbox', '../x', 'a\u0000b', 'x'.repeat(5000)),
      );
    if (t === 'number' || t === 'integer')
      own.push(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 53, Number.MAX_VALUE));
    if (t === 'array')
      own.push(fc.array(schema.items ? valueFor(schema.items) : fc.anything(), { maxLength: 5 }));
    if (t === 'object') own.push(fc.dictionary(fc.string({ maxLength: 8 }), fc.anything(), { maxKeys: 4 }));
  }
  return fc.oneof(
    { weight: 3, arbitrary: fc.oneof(...(own.length ? own : [fc.anything()])) },
    { weight: 1, arbitrary: fc.anything() },
  );
}

/** Argument objects for a tool's input schema, valid or not. */
function argumentsFor(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const props = schema.properties ?? {};
  const record = fc.record(
    Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valueFor(s)])) as Record<
      string,
      fc.Arbitrary<unknown>
    >,
    { requiredKeys: [] },
  );
  return fc
    .tuple(record, fc.dictionary(fc.string({ maxLength: 6 }), fc.anything(), { maxKeys: 2 }), fc.boolean())
    .map(([args, extra, addExtra]) => (addExtra ? { ...extra, ...args } : args));
}

let server: VigilMcpServer;
let client: Client;

beforeAll(async () => {
  const wf = defineWorkflow({ name: 'noop', start: 'go', steps: { go: () => end() } });
  server = await createMcpServer({
    data: tempDir(),
    workflows: [wf],
    users: [
      { id: 'fuzz', policy: { workflows: ['*'], maxSetsPerMinute: 100_000, maxPendingAlarms: 100_000 } },
    ],
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect('fuzz', b);
  client = new Client({ name: 'fuzz', version: '1' });
  await client.connect(a);
});
afterAll(async () => {
  await client?.close();
  await server?.close();
});

describe('fuzzed tool input', () => {
  it('every tool answers a success or a typed tool error; stored data matches the successes; the server keeps serving', async () => {
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(12);
    let alarmsSet = 0;
    let runsStarted = 0;
    const codes = new Set<string>();
    for (const tool of tools) {
      await fc.assert(
        fc.asyncProperty(argumentsFor(tool.inputSchema as Schema), async (args) => {
          const before = await ok<{ alarms: { id: number }[] }>(client, 'alarm_list', {
            limit: 100,
            status: 'pending',
          });
          const result = (await client.callTool({ name: tool.name, arguments: args })) as CallToolResult;
          if (result.isError) {
            const { code, message } = errorOf(result);
            codes.add(code);
            expect(code).toMatch(/^[A-Z_]+$/);
            expect(code).not.toBe('INTERNAL');
            expect(message).not.toMatch(/\n\s+at /);
            if (tool.name === 'alarm_set' || tool.name === 'alarm_cancel') {
              const after = await ok<{ alarms: { id: number }[] }>(client, 'alarm_list', {
                limit: 100,
                status: 'pending',
              });
              expect(after.alarms).toEqual(before.alarms);
            }
          } else if (tool.name === 'alarm_set' && (result.structuredContent as { created: boolean }).created)
            alarmsSet++;
          else if (tool.name === 'workflow_start') runsStarted++;
        }),
        { numRuns: 40 },
      );
    }
    // Every tool call that was refused stored nothing: the stores hold exactly the successes.
    const all = await ok<{ alarms: unknown[] }>(client, 'alarm_list', { limit: 100 });
    expect(all.alarms).toHaveLength(alarmsSet);
    const runs = await ok<{ runs: unknown[] }>(client, 'workflow_list', {});
    expect(runs.runs).toHaveLength(runsStarted);
    expect(codes.has('INVALID_INPUT')).toBe(true);
    expect((await ok<{ in: string }>(client, 'time_parse', { text: 'in 5 minutes' })).in).toBe(
      'in 5 minutes',
    );
  });
});

/**
 * What a tool is here: a name, a description written for a model, zod input and output schemas
 * (the one source of truth: they are listed to clients as JSON Schema and parse every call), and
 * a function of the parsed arguments. `mutates` marks the calls written to the audit log.
 */
import type { z } from 'zod';
import type { UserService } from '../user-host.js';

/** What a tool's function gets besides its arguments. @internal */
export interface ToolContext {
  user: UserService;
  now: () => number;
  /** Serialises the user's `alarm_set` calls, so quota checks and the write are one step. */
  exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  /** Counts one `alarm_set` against the per-minute quota; throws `QUOTA_EXCEEDED` when full. */
  countSet: () => void;
}

/** A tool's answer: structured content and one short line for a model to read. @internal */
export interface ToolResult {
  structured: Record<string, unknown>;
  text: string;
}

/** One MCP tool. @internal */
export interface ToolDef<I extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: z.ZodObject;
  mutates: boolean;
  run: (ctx: ToolContext, args: z.infer<I>) => Promise<ToolResult>;
}

/** Keeps the argument type of `run` tied to the input schema. @internal */
export function defineTool<I extends z.ZodObject>(def: ToolDef<I>): ToolDef {
  return def as unknown as ToolDef;
}

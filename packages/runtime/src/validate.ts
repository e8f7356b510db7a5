/**
 * Validation at the edge: a public input is parsed once against a valibot schema, and the first
 * problem becomes the caller's typed error naming the field. Inside, the parsed value is trusted.
 * Parsing stops at the first issue (`abortEarly`): a bad input costs one check, and the error
 * names the first field in the schema's order, the order the checks are documented in.
 * Every Vigil package validates its public inputs through this one helper.
 */
import * as v from 'valibot';

/** Receives the first problem of a failed parse: the dotted field path ('' for the input itself). */
export type ParseFailure = (field: string, detail: string, value: unknown) => never;

const FIRST_ISSUE = { abortEarly: true } as const;

/**
 * Parses `input` with a valibot `schema`; on failure calls `fail` (which throws the caller's typed
 * error) with the field path and the schema's message.
 *
 * @example
 * const opts = parseWith(OptionsSchema, input, (field, detail, value) => {
 *   throw new InvalidOptionError(field, value, detail);
 * });
 */
export function parseWith<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  fail: ParseFailure,
): v.InferOutput<S> {
  const result = v.safeParse(schema, input, FIRST_ISSUE);
  if (result.success) return result.output;
  const issue = result.issues[0];
  return fail(v.getDotPath(issue) ?? '', issue.message, issue.input);
}

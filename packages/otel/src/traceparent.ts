/**
 * W3C trace context (`traceparent`, version 00) to and from an OpenTelemetry `SpanContext`. This
 * is the form in which a `set` span's context is stored with the alarm (the alarm's `trace`
 * option), so it survives restarts as plain text.
 */
import { isSpanContextValid, type SpanContext, TraceFlags } from '@opentelemetry/api';

/** `00-<trace id>-<span id>-<flags>` for a valid span context, else undefined. */
export function formatTraceparent(context: SpanContext): string | undefined {
  if (!isSpanContextValid(context)) return undefined;
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** The remote span context a stored `traceparent` names, or undefined if it is not one. */
export function parseTraceparent(text: string): SpanContext | undefined {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(text);
  if (!match) return undefined;
  const context: SpanContext = {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(context) ? context : undefined;
}

/**
 * Exit reasons are data, as in OTP: restart decisions read them.
 *
 * - `normal`: the actor finished (its machine reached a final state, or it exited normally);
 * - `shutdown`: its supervisor or the runtime stopped it on purpose;
 * - `killed`: it was stopped without a chance to clean up (shutdown timeout, `brutal_kill`);
 * - `noproc`: it was not running when asked (a monitor set on a dead name);
 * - `error`: it crashed; `error` holds the cause.
 */
export type ExitReason =
  | { readonly kind: 'normal' }
  | { readonly kind: 'shutdown'; readonly detail?: string }
  | { readonly kind: 'killed' }
  | { readonly kind: 'noproc' }
  | { readonly kind: 'error'; readonly error: Error };

/** Frozen constants for the reasons that carry no data. */
export const Exit = {
  normal: Object.freeze({ kind: 'normal' }) as ExitReason,
  shutdown: Object.freeze({ kind: 'shutdown' }) as ExitReason,
  killed: Object.freeze({ kind: 'killed' }) as ExitReason,
  noproc: Object.freeze({ kind: 'noproc' }) as ExitReason,
  error: (error: Error): ExitReason => ({ kind: 'error', error }),
} as const;

/** OTP's rule for `transient` children: `normal` and `shutdown` are not failures. */
export function isAbnormal(reason: ExitReason): boolean {
  return reason.kind !== 'normal' && reason.kind !== 'shutdown';
}

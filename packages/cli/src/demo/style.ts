/**
 * Terminal colours, on only when stdout is a terminal and NO_COLOR is unset
 * (https://no-color.org); FORCE_COLOR turns them on for a pipe.
 */
const enabled =
  !process.env.NO_COLOR &&
  (Boolean(process.env.FORCE_COLOR) || (process.stdout.isTTY === true && process.env.TERM !== 'dumb'));

const wrap = (open: number, close: number) => (text: string) =>
  enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;

export const bold = wrap(1, 22);
export const dim = wrap(2, 22);
export const red = wrap(31, 39);
export const green = wrap(32, 39);
export const yellow = wrap(33, 39);
export const cyan = wrap(36, 39);

/** The text without colour codes: what widths are measured on. */
export function plain(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape codes is the point
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

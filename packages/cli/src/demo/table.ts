/** Aligned plain-text tables for the examples' summaries. */
import { plain } from './style.js';

/** A column: its heading and whether it lines up on the right (numbers). */
export interface Column {
  title: string;
  align?: 'left' | 'right';
}

/**
 * Renders rows under headings, columns separated by two spaces, widths taken from the widest
 * cell (colour codes not counted).
 *
 * @example
 * formatTable([{ title: 'id' }, { title: 'late', align: 'right' }], [['#1', '4 ms']]);
 */
export function formatTable(columns: Column[], rows: string[][], indent = '  '): string {
  const widths = columns.map((c, i) =>
    Math.max(c.title.length, ...rows.map((r) => plain(r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    indent +
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - plain(cell).length));
        return columns[i]?.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w));
  return [line(columns.map((c) => c.title)), line(rule), ...rows.map(line)].join('\n');
}

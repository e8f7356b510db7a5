/** Printing the supervision tree, for the demo, the CLI and logs. */
import type { TreeNode } from './runtime.js';

/**
 * Renders a tree as indented text.
 *
 * @example
 * console.log(formatTree(runtime.tree()!));
 * // root (supervisor, one_for_one)
 * // ├─ Alarm  running #1
 * // └─ Timer  running #1
 */
export function formatTree(node: TreeNode): string {
  const lines: string[] = [label(node)];
  const walk = (children: TreeNode[], prefix: string) => {
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label(child)}`);
      if (child.children) walk(child.children, prefix + (last ? '   ' : '│  '));
    });
  };
  walk(node.children ?? [], '');
  return lines.join('\n');
}

function label(node: TreeNode): string {
  if (node.kind === 'supervisor') {
    return `${node.name} (supervisor, ${node.strategy ?? '?'}) ${node.status}${node.incarnation > 1 ? ` #${node.incarnation}` : ''}`;
  }
  return `${node.name}  ${node.status} #${node.incarnation}${node.restart && node.restart !== 'permanent' ? ` (${node.restart})` : ''}`;
}

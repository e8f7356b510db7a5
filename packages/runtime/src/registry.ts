/**
 * Names to processes. A name is *declared* while a child spec for it exists anywhere in the
 * supervision tree, and *bound* while an incarnation of it runs. The difference is what lets a
 * sender tell "down for a moment, retry" (declared, unbound) from "no such actor" (undeclared).
 */
import { DuplicateNameError } from './errors.js';
import type { Process } from './process.js';

interface Entry {
  kind: 'worker' | 'supervisor';
  process: Process | undefined;
}

export class Registry {
  private readonly entries = new Map<string, Entry>();

  /** Declares every name in `names`, or none if one is taken. */
  declareAll(names: { name: string; kind: 'worker' | 'supervisor' }[]): void {
    const seen = new Set<string>();
    for (const { name } of names) {
      if (this.entries.has(name) || seen.has(name)) throw new DuplicateNameError(name);
      seen.add(name);
    }
    for (const { name, kind } of names) this.entries.set(name, { kind, process: undefined });
  }

  undeclareAll(names: string[]): void {
    for (const name of names) this.entries.delete(name);
  }

  bind(process: Process): void {
    const entry = this.entries.get(process.name);
    if (entry) entry.process = process;
  }

  /** Unbinds `process` if it is still the bound incarnation (a newer one may have replaced it). */
  unbind(process: Process): void {
    const entry = this.entries.get(process.name);
    if (entry?.process === process) entry.process = undefined;
  }

  isDeclared(name: string): boolean {
    return this.entries.has(name);
  }

  lookup(name: string): Process | undefined {
    return this.entries.get(name)?.process;
  }

  kindOf(name: string): 'worker' | 'supervisor' | undefined {
    return this.entries.get(name)?.kind;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }
}

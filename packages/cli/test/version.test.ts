/** `--version` prints the installed package's version, on the program and on every command. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vigil } from './helpers.js';

const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

describe('vigil --version', () => {
  it.each([
    [['--version']],
    [['-V']],
    [['alarms', '--version']],
    [['alarms', 'list', '--version']],
    [['workflows', 'show', '-V']],
    [['parse', '--version']],
    [['demo', '--version']],
  ])('%j prints the version and exits 0', async (argv) => {
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await vigil(argv, { demo: async () => false })).toEqual({
      code: 0,
      stdout: `${version}\n`,
      stderr: '',
    });
  });

  it('lists --version in the help of every command', async () => {
    for (const argv of [['--help'], ['alarms', 'set', '--help'], ['workflows', 'list', '--help']]) {
      const r = await vigil(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('-V, --version');
    }
  });
});

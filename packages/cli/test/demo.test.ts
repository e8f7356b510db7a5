/** `vigil demo`: runs the demo program with tsx and exits with its status; a missing demo is an error. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, vigil } from './helpers.js';

describe('vigil demo', () => {
  it('fails with DEMO_NOT_FOUND when the program is missing', async () => {
    const script = join(tempDir(), 'demo.ts');
    const r = await vigil(['demo'], { demoScript: script });
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `vigil: DEMO_NOT_FOUND: the demo program is missing: ${script}\n`,
    });
  });

  it('runs a TypeScript program and exits with its status', async () => {
    const script = join(tempDir(), 'demo.ts');
    writeFileSync(script, 'const status: number = 3;\nprocess.exitCode = status;\n');
    const r = await vigil(['demo'], { demoScript: script });
    expect(r).toEqual({ code: 3, stdout: '', stderr: '' });
  });
});

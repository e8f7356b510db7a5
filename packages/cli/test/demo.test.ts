/** `vigil demo`: runs the demo, writes through the CLI's output and exits with its outcome. */
import { describe, expect, it } from 'vitest';
import { vigil } from './helpers.js';

describe('vigil demo', () => {
  it('exits 0 when the demo succeeds, its lines on stdout', async () => {
    const r = await vigil(['demo'], {
      demo: async (print) => {
        print('chain done');
        print();
        return true;
      },
    });
    expect(r).toEqual({ code: 0, stdout: 'chain done\n\n', stderr: '' });
  });

  it('exits 1 when the demo reports a failure', async () => {
    const r = await vigil(['demo'], { demo: async () => false });
    expect(r).toEqual({ code: 1, stdout: '', stderr: '' });
  });
});

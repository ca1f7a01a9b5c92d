import { goldenFile } from '../../../testing/golden.js';
import { runMae as mae } from './test-utils/run-mae.js';

describe('mae demo', () => {
  it('checks the golden case, then trains with AdamW (official parameter groups) and reports the held-out loss', async () => {
    const dir = goldenFile('tiny-gray', 'case.json').replace(/\/case\.json$/, '');
    const r = await mae('demo', '--golden', dir, '--steps', '2', '--batch', '4', '--backend', 'wasm');
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(/^ {2}loss 2\.6359\d* \(official 2\.6359267234802246\)$/m);
    expect(r.out).toContain('mask and ids_restore identical to the official ones');
    expect(r.out).toContain('AdamW lr 1e-3, betas (0.9, 0.95), weight decay 0.05 (none on 1-D parameters and biases)');
    expect(r.out).toMatch(/^ {2}step {3}2 {2}loss \d+\.\d{4}/m);
    const [, before, after] = r.out.match(/held-out reconstruction loss \(masked patches\): (\d+\.\d+) before, (\d+\.\d+) after 2 steps/)!;
    expect(Number(after)).not.toBe(Number(before)); // the optimizer changed the weights
  });

  it('names a --golden folder without case.json', async () => {
    const r = await mae('demo', '--golden', '/nonexistent-golden', '--steps', '1');
    expect([r.code, r.err.trim()]).toEqual([2, 'mae demo: --golden /nonexistent-golden holds no case.json']);
  });
});

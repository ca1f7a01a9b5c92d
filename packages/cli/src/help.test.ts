import { formatHelp, type CommandHelp, type FlagSpec } from './args.js';
import { backendsHelp } from './commands/backends.js';
import { convertHelp } from './commands/convert.js';
import { demoHelp } from './commands/demo.js';
import { downloadHelp } from './commands/download.js';
import { evalHelp } from './commands/eval.js';
import { featuresHelp } from './commands/features.js';
import { forwardHelp } from './commands/forward.js';
import { infoHelp } from './commands/info.js';
import { pretrainHelp } from './commands/pretrain.js';
import { visualizeHelp } from './commands/visualize.js';
import { runMae as mae } from './test-utils/run-mae.js';

const HELPS: [string, CommandHelp][] = [
  ['pretrain', pretrainHelp()],
  ['eval', evalHelp],
  ['visualize', visualizeHelp],
  ['features', featuresHelp],
  ['forward', forwardHelp],
  ['convert', convertHelp],
  ['info', infoHelp],
  ['download', downloadHelp],
  ['backends', backendsHelp],
  ['demo', demoHelp],
];

describe('mae <command> --help', () => {
  it('covers every command mae lists', async () => {
    const r = await mae('--help');
    const listed = [...r.out.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(HELPS.map(([name]) => name).sort());
  });

  it.each(HELPS)('mae %s --help prints usage, every flag with its default, and examples', async (name, help) => {
    for (const flag of ['--help', '-h']) {
      const r = await mae(name, flag);
      expect([r.code, r.err]).toEqual([0, '']);
      expect(r.out).toBe(formatHelp(help));
    }
    const r = await mae(name, '--help');
    expect(r.out.startsWith(`usage: mae ${name}`)).toBe(true);
    for (const [flag, f] of Object.entries(help.flags)) {
      const line = r.out.split('\n').findIndex((l) => l.startsWith(`  --${flag} `) || l === `  --${flag}`);
      expect([flag, line >= 0]).toEqual([flag, true]);
      if (typeof f.default === 'string') expect(r.out).toContain(`(default: ${f.default})`);
    }
    expect(help.examples.length).toBeGreaterThan(0);
    for (const example of help.examples) expect(example.startsWith(`mae ${name}`)).toBe(true);
    expect(r.out).toContain(`examples:\n  ${help.examples[0]}`);
  });

  it('help comes before any other check: a missing required flag or argument does not matter', async () => {
    expect((await mae('forward', '--help')).code).toBe(0); // --weights, --images, --out missing
    expect((await mae('convert', '--help')).code).toBe(0); // <in> <out> missing
  });

  it('pretrain --help gives the defaults of a run with no flags', async () => {
    const r = await mae('pretrain', '--help');
    expect(r.out).toMatch(/^ {2}--preset <value> +model preset .*\(default: mae_tiny_28\)$/m);
    expect(r.out).toMatch(/^ {2}--epochs <value> +passes over the data \(default: 4\)$/m);
    expect(r.out).toMatch(/^ {2}--norm-pix-loss <value> +.*\(default: true\)$/m);
  });

  it.each([
    ['features', 'cls'],
    ['eval', 'mean'],
  ])('mae %s --help lists the --pooling choices and says what each is', async (name, fallback) => {
    const r = await mae(name, '--help');
    expect(r.out).toMatch(new RegExp(`^ {2}--pooling <value> +.*cls, mean, mean-norm \\(see "poolings" below\\) \\(default: ${fallback}\\)$`, 'm'));
    expect(r.out).toMatch(/^poolings \(--pooling\):\n {2}cls {8}cls token after the final norm \(official global_pool=False\)\n {2}mean {7}LayerNorm \(weight 1, bias 0\) of the mean of the patch tokens before the final norm \(official global_pool=True.*\n {2}mean-norm {2}mean of the patch tokens after the final norm$/m);
  });

  it('formats a spec: aligned flags, defaults, long names on their own line, arguments and notes', () => {
    const flags: FlagSpec = {
      size: { type: 'string', description: 'side in pixels', default: '28' },
      verbose: { type: 'boolean', description: 'say more', default: false },
      'a-very-long-flag-name': { type: 'string', description: 'long' },
    };
    expect(formatHelp({ usage: 'mae x <in>', summary: 'Does x.', arguments: [['<in>', 'input']], flags, examples: ['mae x a.npy'], notes: 'Note.' })).toBe(
      [
        'usage: mae x <in>',
        '',
        'Does x.',
        '',
        'arguments:',
        '  <in>                    input',
        '',
        'flags:',
        '  --size <value>          side in pixels (default: 28)',
        '  --verbose               say more',
        '  --a-very-long-flag-name <value>',
        '                          long',
        '  --help, -h              print this help',
        '',
        'examples:',
        '  mae x a.npy',
        '',
        'Note.',
      ].join('\n'),
    );
  });

  it('an unknown flag is still a usage error naming it', async () => {
    const r = await mae('eval', '--bogus');
    expect(r.code).toBe(2);
    expect(r.err).toContain("mae eval: Unknown option '--bogus'");
  });
});

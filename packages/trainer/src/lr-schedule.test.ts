import { absoluteLr, epochFraction, lrAt, type LrSchedule } from './index.js';

// MAE ViT-Base recipe: blr 1.5e-4, effective batch 4096, 40 warmup epochs out of 400.
const base: LrSchedule = { lr: absoluteLr(1.5e-4, 4096), minLr: 0, warmupEpochs: 40, epochs: 400 };

describe('learning-rate rules (main_pretrain, util/lr_sched)', () => {
  it('absoluteLr = blr * effectiveBatch / 256', () => {
    expect(absoluteLr(1.5e-4, 4096)).toBeCloseTo(2.4e-3, 15);
    expect(absoluteLr(1.5e-4, 512)).toBeCloseTo(3e-4, 15);
    expect(absoluteLr(1e-3, 256)).toBe(1e-3);
  });

  it('warms up linearly, then decays along a half cosine to minLr (hand-computed points)', () => {
    expect(lrAt(0, base)).toBe(0);
    expect(lrAt(20, base)).toBeCloseTo(1.2e-3, 15); // half the warmup
    expect(lrAt(40, base)).toBeCloseTo(2.4e-3, 15); // peak: cos(0) = 1
    expect(lrAt(130, base)).toBeCloseTo(2.4e-3 * 0.8535533905932737, 15); // a quarter of the decay: (1 + cos(pi/4)) / 2
    expect(lrAt(220, base)).toBeCloseTo(1.2e-3, 15); // half the decay
    expect(lrAt(400, base)).toBeCloseTo(0, 15);
    const withMin: LrSchedule = { lr: 1e-3, minLr: 1e-6, warmupEpochs: 5, epochs: 10 };
    expect(lrAt(7.5, withMin)).toBeCloseTo(1e-6 + 0.999e-3 * 0.5, 15);
    expect(lrAt(10, withMin)).toBeCloseTo(1e-6, 15);
    expect(lrAt(0, { lr: 1e-3, minLr: 0, warmupEpochs: 0, epochs: 1 })).toBe(1e-3); // no warmup
  });

  it('is set per step at the fractional epoch epochIndex + iter / itersPerEpoch', () => {
    expect(epochFraction(2, 50, 100)).toBe(2.5);
    expect(lrAt(epochFraction(2, 50, 100), base)).toBeCloseTo((2.4e-3 * 2.5) / 40, 15);
    expect(lrAt(epochFraction(399, 99, 100), base)).toBeCloseTo(2.4e-3 * 0.5 * (1 + Math.cos((Math.PI * 359.99) / 360)), 15);
  });

  it('rejects bad arguments with messages naming the value and the range', () => {
    expect(() => absoluteLr(-1e-4, 256)).toThrow('absoluteLr: blr must be a finite number > 0, got -0.0001');
    expect(() => absoluteLr(1e-4, 0)).toThrow('absoluteLr: effectiveBatch must be an integer >= 1, got 0');
    expect(() => absoluteLr(1e-4, 2.5)).toThrow('absoluteLr: effectiveBatch must be an integer >= 1, got 2.5');
    expect(() => lrAt(-0.1, base)).toThrow('lrAt: epoch must be a number in [0, 400] (the schedule\'s epochs), got -0.1');
    expect(() => lrAt(400.5, base)).toThrow('lrAt: epoch must be a number in [0, 400] (the schedule\'s epochs), got 400.5');
    expect(() => lrAt(1, { ...base, lr: -1 })).toThrow('lr schedule: lr must be a finite number >= 0, got -1');
    expect(() => lrAt(1, { ...base, minLr: 1 })).toThrow('lr schedule: minLr must be <= lr (0.0024), got 1');
    expect(() => lrAt(1, { ...base, warmupEpochs: 400 })).toThrow('lr schedule: warmupEpochs must be < epochs (400), got 400');
    expect(() => lrAt(1, { ...base, epochs: 0 })).toThrow('lr schedule: epochs must be a finite number > 0, got 0');
    expect(() => epochFraction(0, 100, 100)).toThrow('epochFraction: iter must be < itersPerEpoch (100), got 100');
    expect(() => epochFraction(0, 0, 0)).toThrow('epochFraction: itersPerEpoch must be an integer >= 1, got 0');
  });
});

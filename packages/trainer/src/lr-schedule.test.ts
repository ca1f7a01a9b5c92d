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
    expect(() => absoluteLr(-1e-4, 256)).toThrow('absoluteLr: blr is -0.0001: expected a finite number > 0');
    expect(() => absoluteLr(1e-4, 0)).toThrow('absoluteLr: effectiveBatch is 0: expected an integer >= 1');
    expect(() => absoluteLr(1e-4, 2.5)).toThrow('absoluteLr: effectiveBatch is 2.5: expected an integer >= 1');
    expect(() => lrAt(-0.1, base)).toThrow('lrAt: epoch is -0.1: expected a number in [0, 400]');
    expect(() => lrAt(400.5, base)).toThrow('lrAt: epoch is 400.5: expected a number in [0, 400]');
    expect(() => lrAt(1, null as never)).toThrow('lr schedule is null: expected an object { lr, minLr, warmupEpochs, epochs }');
    expect(() => lrAt(1, { ...base, lr: -1 })).toThrow('lr schedule: lr is -1: expected a finite number >= 0');
    expect(() => lrAt(1, { ...base, minLr: 1 })).toThrow('lr schedule: minLr is 1: expected at most lr (0.0024)');
    expect(() => lrAt(1, { ...base, warmupEpochs: 400 })).toThrow('lr schedule: warmupEpochs is 400: expected less than epochs (400)');
    expect(() => lrAt(1, { ...base, epochs: 0 })).toThrow('lr schedule: epochs is 0: expected a finite number > 0');
    expect(() => epochFraction(0, 100, 100)).toThrow('epochFraction: iter is 100: expected less than itersPerEpoch (100)');
    expect(() => epochFraction(0, 0, 0)).toThrow('epochFraction: itersPerEpoch is 0: expected an integer >= 1');
  });
});

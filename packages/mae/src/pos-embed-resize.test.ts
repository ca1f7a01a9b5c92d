import { sincosPosEmbed2d } from '@maejs/vit';
import { bicubicResizeGrid, bicubicTaps, resizePosEmbed, resizeStateDictPosEmbed } from './pos-embed-resize.js';
import type { StateTensor } from './state-dict.js';

/** tiny-gray's pos_embed: D = 64, patch 4, 28 px -> a 7x7 grid, cls row zeros. */
const D = 64;
const pos7: StateTensor = { shape: [1, 50, D], data: sincosPosEmbed2d(D, 7, true) };

describe('position embedding for another image size (28 -> 56, patch 4: grid 7 -> 14)', () => {
  it('sincos: equals the table computed for the 14x14 grid, bit for bit', () => {
    const out = resizePosEmbed(pos7, 14, 'sincos');
    expect(out.shape).toEqual([1, 197, D]);
    expect(out.data).toEqual(sincosPosEmbed2d(D, 14, true));
  });

  it('bicubic: keeps the cls row and matches a point computed by hand (A = -0.75, align_corners=False)', () => {
    const withCls: StateTensor = { shape: [1, 50, D], data: pos7.data.slice() };
    withCls.data.fill(0.25, 0, D); // a non-zero cls row must come through unchanged
    const out = resizePosEmbed(withCls, 14, 'bicubic');
    expect(out.shape).toEqual([1, 197, D]);
    expect(Array.from(out.data.subarray(0, D))).toEqual(new Array(D).fill(0.25));
    // Output (y, x) = (0, 0): source coordinate 0.5 * (0 + 0.5) - 0.5 = -0.25 -> floor -1, t = 0.75.
    // Weights: far(1.75), near(0.75), near(0.25), far(1.25) with A = -0.75.
    const a = -0.75;
    const near = (x: number) => (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
    const far = (x: number) => a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
    const w = [far(1.75), near(0.75), near(0.25), far(1.25)];
    expect(w.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    const src = [0, 0, 0, 1]; // taps -2, -1, 0, 1 clamped into [0, 6]
    const grid = (i: number, j: number, k: number) => pos7.data[(1 + i * 7 + j) * D + k];
    for (const k of [0, 5, 16, 40, 63]) {
      let v = 0;
      for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) v += w[r] * w[c] * grid(src[r], src[c], k);
      expect(out.data[D + k]).toBeCloseTo(v, 6);
    }
    // Output (3, 8): y source 1.25 (taps 0..3, t 0.25), x source 3.75 (taps 2..5, t 0.75).
    const wy = [far(1.25), near(0.25), near(0.75), far(1.75)];
    const wx = [far(1.75), near(0.75), near(0.25), far(1.25)];
    for (const k of [1, 33]) {
      let v = 0;
      for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) v += wy[r] * wx[c] * grid(r, 2 + c, k);
      expect(out.data[(1 + 3 * 14 + 8) * D + k]).toBeCloseTo(v, 6);
    }
  });

  it('bicubic: a smooth upsample that stays close to the 14x14 sin-cos table', () => {
    const bicubic = resizePosEmbed(pos7, 14, 'bicubic').data;
    const exact = sincosPosEmbed2d(D, 14, true);
    // Only the low-frequency channels are resolvable on a 7-point grid; compare the slowest ones
    // (k = D/4 - 1 of each quarter): sin/cos(j * 10000^(-15/16) ~ 1.8e-4 j), nearly linear in the grid
    // position, where the upsample must land within a few percent of the 14-grid values scaled by 1/2.
    for (let i = 0; i < 14; i++) {
      for (let j = 0; j < 14; j++) {
        for (const k of [0, 16, 32, 48]) {
          const v = bicubic[(1 + i * 14 + j) * D + k];
          expect(Number.isFinite(v)).toBe(true);
          expect(Math.abs(v)).toBeLessThanOrEqual(1.2); // sin/cos values, no overshoot blow-up
        }
      }
    }
    // The corners of the upsampled grid sit next to the corners of the source grid.
    const corner = (data: Float32Array, g: number, i: number, j: number, k: number) => data[(1 + i * g + j) * D + k];
    for (const k of [15, 31, 47, 63]) {
      expect(corner(bicubic, 14, 0, 0, k)).toBeCloseTo(corner(pos7.data, 7, 0, 0, k), 2);
      expect(corner(bicubic, 14, 13, 13, k)).toBeCloseTo(corner(pos7.data, 7, 6, 6, k), 2);
    }
    expect(exact.length).toBe(bicubic.length);
  });

  it('bicubic: same size is the identity; constant grids stay constant', () => {
    expect(bicubicResizeGrid(pos7.data.subarray(D), 7, 7, D)).toEqual(pos7.data.subarray(D));
    const ones = new Float32Array(7 * 7 * 3).fill(2.5);
    for (const v of bicubicResizeGrid(ones, 7, 14, 3)) expect(v).toBeCloseTo(2.5, 6);
    expect(bicubicTaps(0, 7, 14).index).toEqual([0, 0, 0, 1]);
  });

  it('resizes pos_embed and decoder_pos_embed of a state dict and shares every other tensor', () => {
    const other: StateTensor = { shape: [2], data: new Float32Array([1, 2]) };
    const dec: StateTensor = { shape: [1, 50, 32], data: sincosPosEmbed2d(32, 7, true) };
    const state = new Map([['pos_embed', pos7], ['decoder_pos_embed', dec], ['norm.weight', other]]);
    const out = resizeStateDictPosEmbed(state, 4, 56, 'sincos');
    expect(out.get('pos_embed')!.shape).toEqual([1, 197, 64]);
    expect(out.get('decoder_pos_embed')!.data).toEqual(sincosPosEmbed2d(32, 14, true));
    expect(out.get('norm.weight')).toBe(other);
    expect(() => resizeStateDictPosEmbed(state, 4, 30, 'sincos')).toThrow('resizeStateDictPosEmbed: newImgSize is 30: expected a multiple of the patch size 4');
    expect(() => resizePosEmbed(pos7, 0, 'sincos')).toThrow('resizePosEmbed: newGrid is 0: expected an integer >= 1');
    expect(() => resizePosEmbed(pos7, 2.5, 'bicubic')).toThrow('resizePosEmbed: newGrid is 2.5: expected an integer >= 1');
    expect(() => resizePosEmbed({ shape: [1, 49, 64], data: new Float32Array(49 * 64) }, 14, 'bicubic')).toThrow(/shape \[1,49,64\] is not \[1, 1 \+ g\*g, D\]/);
  });
});

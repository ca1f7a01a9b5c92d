import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend } from '../../../testing/backends.js';
import { lineChart, reconstructionGrid } from './index.js';

describeEachBackend('figures', () => {
  it('draws original | masked | reconstruction | pasted, with visible patches equal to the original', async () => {
    const model = new MaskedAutoencoder({ imgSize: 8, patchSize: 4, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2, normPixLoss: true });
    const pixels = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 5);
    const images = tf.div(tf.sub(pixels, 0.5), 0.25) as tf.Tensor4D; // normalised with mean 0.5, std 0.25
    const grid = await reconstructionGrid(model, images, { mean: [0.5], std: [0.25], seed: 1, scale: 1, gap: 1 });
    expect([grid.width, grid.height]).toEqual([4 * 8 + 5, 2 * 8 + 3]);
    const px = (row: number, col: number, y: number, x: number) => grid.data[((1 + row * 9 + y) * grid.width + 1 + col * 9 + x) * 4];
    const original = pixels.arraySync() as number[][][][];
    const mask = model.forward(images, { seed: 1 }).mask.arraySync(); // same seed: same mask as the figure
    for (let row = 0; row < 2; row++) {
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const want = Math.round(255 * original[row][y][x][0]);
          expect(px(row, 0, y, x)).toBe(want);
          const removed = mask[row][Math.floor(y / 4) * 2 + Math.floor(x / 4)] === 1;
          if (!removed) expect(px(row, 3, y, x)).toBe(want); // visible patches pasted back
          if (removed) expect(px(row, 1, y, x)).toBe(0); // removed patches drawn black
        }
      }
    }
    tf.dispose([pixels, images]);
    model.dispose();
  });

  it('draws a line chart with its axes', () => {
    const chart = lineChart([3, 2, 1.5, 1], { width: 200, height: 100 });
    expect(chart.data.length).toBe(200 * 100 * 4);
    const dark = (x: number, y: number) => chart.data[(y * 200 + x) * 4] < 128;
    expect(dark(70, 40)).toBe(true); // the y axis
    expect(dark(120, 54)).toBe(true); // the x axis (bottom = height - 46)
  });

  describe('line chart titles and ticks', () => {
    const W = 400;
    const H = 240;
    const values = Array.from({ length: 101 }, (_, i) => 2 - i / 100); // loss 2 -> 1 over updates 0..100
    const darkIn = (img: { data: Uint8Array }, x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (img.data[(y * W + x) * 4] < 128) n++;
      return n;
    };
    const chart = lineChart(values, { width: W, height: H });
    const untitled = lineChart(values, { width: W, height: H, xLabel: ' ', yLabel: ' ' });
    const bottom = H - 46;

    it("titles the x axis 'update' (centred below the tick labels) and the y axis 'loss' (above it)", () => {
      const xTitle: [number, number, number, number] = [150, bottom + 26, 260, H]; // 'update': 48 px wide around x = 167
      const yTitle: [number, number, number, number] = [40, 0, 110, 22]; // 'loss' above the y axis at x = 70
      expect(darkIn(chart, ...xTitle)).toBeGreaterThan(20);
      expect(darkIn(untitled, ...xTitle)).toBe(0);
      expect(darkIn(chart, ...yTitle)).toBeGreaterThan(20);
      expect(darkIn(untitled, ...yTitle)).toBe(0);
      expect(darkIn(lineChart(values, { width: W, height: H, xLabel: 'epoch' }), ...xTitle)).not.toBe(darkIn(chart, ...xTitle));
    });

    it('labels five y ticks and x ticks at round update numbers', () => {
      const right = W - 15;
      for (let k = 0; k <= 4; k++) {
        const y = Math.round(bottom - ((bottom - 30) * k) / 4);
        expect([k, darkIn(chart, 65, y, 69, y + 1)]).toEqual([k, 4]); // tick mark left of the axis
        expect([k, darkIn(chart, 0, y - 5, 62, y + 5) > 10]).toEqual([k, true]); // its value (2.000 ... 1.000)
      }
      // 100 updates: a tick every 20 (1, 2 or 5 times a power of ten, at most ~5 intervals)
      for (const i of [0, 20, 40, 60, 80, 100]) {
        const x = Math.round(70 + ((right - 70) * i) / 100);
        expect([i, darkIn(chart, x, bottom + 1, x + 1, bottom + 6)]).toEqual([i, 5]);
        expect([i, darkIn(chart, x - 12, bottom + 9, x + 13, bottom + 19) > 5]).toEqual([i, true]);
      }
      const between = Math.round(70 + ((right - 70) * 10) / 100);
      expect(darkIn(chart, between, bottom + 1, between + 1, bottom + 6)).toBe(0); // no tick at 10
    });

    it('rejects a title it has no glyphs for, naming the character', () => {
      expect(() => lineChart(values, { yLabel: 'Loss' })).toThrow("lineChart: yLabel 'Loss' has the character 'L', which has no glyph: expected only");
    });
  });
});

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
    expect(dark(70, 50)).toBe(true); // the y axis
    expect(dark(120, 70)).toBe(true); // the x axis
  });
});

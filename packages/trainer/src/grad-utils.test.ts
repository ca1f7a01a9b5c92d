import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { AdamW, clipGradNorm, GradientAccumulator, variableGradsByName } from './index.js';

/** a = [3, 4] (norm 5), b = [[12]] (norm 12): total norm sqrt(25 + 144) = 13. */
function handGrads(): Map<string, tf.Tensor> {
  return new Map<string, tf.Tensor>([
    ['a', tf.tensor1d([3, 4])],
    ['b', tf.tensor2d([[12]])],
  ]);
}

const small = { imgSize: 16, patchSize: 4, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };

describeEachBackend('clipGradNorm', () => {
  it('scales every gradient by maxNorm / (totalNorm + 1e-6) and returns the total norm (hand computation)', () => {
    const grads = handGrads();
    const originals = [...grads.values()];
    const norm = clipGradNorm(grads, 6.5);
    expect(norm.dataSync()[0]).toBeCloseTo(13, 5);
    const coef = 6.5 / (13 + 1e-6);
    expectClose('a', grads.get('a')!.dataSync(), [3 * coef, 4 * coef], 1e-6, 1e-6);
    expectClose('b', grads.get('b')!.dataSync(), [12 * coef], 1e-6, 1e-6);
    expect(grads.get('b')!.shape).toEqual([1, 1]);
    expect(originals.every((t) => t.isDisposed)).toBe(true); // replaced in place
    tf.dispose([norm, ...grads.values()]);
  });

  it('leaves gradients below maxNorm unchanged, measures only with Infinity, and supports the max norm', () => {
    const grads = handGrads();
    const n1 = clipGradNorm(grads, 100);
    expect(Array.from(grads.get('a')!.dataSync())).toEqual([3, 4]); // coefficient clamped to 1
    const a = grads.get('a');
    const n2 = clipGradNorm(grads, Infinity);
    expect(grads.get('a')).toBe(a);
    const n3 = clipGradNorm(grads, 6, Infinity);
    expect(n3.dataSync()[0]).toBe(12); // max |g|
    expectClose('a (inf norm)', grads.get('a')!.dataSync(), [(3 * 6) / (12 + 1e-6), (4 * 6) / (12 + 1e-6)], 1e-6, 1e-6);
    expect([n1.dataSync()[0], n2.dataSync()[0]]).toEqual([13, 13]);
    const empty = clipGradNorm(new Map(), 1);
    expect(empty.dataSync()[0]).toBe(0);
    tf.dispose([n1, n2, n3, empty, ...grads.values()]);
  });

  it('adds no tensors beyond the returned norm', () => {
    const grads = handGrads();
    const before = tf.memory().numTensors;
    const norm = clipGradNorm(grads, 1);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([norm, ...grads.values()]);
  });

  it('rejects bad arguments', () => {
    const grads = handGrads();
    expect(() => clipGradNorm(grads, 0)).toThrow('clipGradNorm: maxNorm is 0: expected a number in (0, Infinity]');
    expect(() => clipGradNorm(grads, NaN)).toThrow('clipGradNorm: maxNorm is NaN: expected a number in (0, Infinity]');
    expect(() => clipGradNorm(grads, 1, 1)).toThrow('clipGradNorm: normType is 1: expected 2 or Infinity');
    expect(() => clipGradNorm({} as never, 1)).toThrow(new TypeError('clipGradNorm: grads is {}: expected a Map<string, tf.Tensor>'));
    expect(() => clipGradNorm({} as never, 1)).toThrow(TypeError);
    tf.dispose([...grads.values()]);
  });
});

describeEachBackend('GradientAccumulator', () => {
  let model: MaskedAutoencoder;
  let images: tf.Tensor4D;
  let noise: tf.Tensor2D;
  beforeAll(() => {
    model = new MaskedAutoencoder(small, { seed: 3 });
    images = tf.randomNormal([4, 16, 16, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    noise = tf.randomUniform([4, 16], 0, 1, 'float32', 12) as tf.Tensor2D;
  });
  afterAll(() => {
    tf.dispose([images, noise]);
    model.dispose();
  });

  /** Gradients of the loss on images[start, start+size) with the matching rows of the noise. */
  function gradsOf(start: number, size: number) {
    const x = tf.slice(images, [start, 0, 0, 0], [size, 16, 16, 1]);
    const n = tf.slice(noise, [start, 0], [size, 16]);
    const out = variableGradsByName(() => model.loss(x, { noise: n }), model.trainableVariables());
    tf.dispose([x, n, out.value]);
    return out.grads;
  }

  it('2 micro-batches of 2 give the gradient of one batch of 4 (within 1e-6)', () => {
    const acc = new GradientAccumulator(model, 2);
    for (const start of [0, 2]) {
      const g = gradsOf(start, 2);
      acc.add(g);
      tf.dispose([...g.values()]);
      expect(acc.count).toBe(start / 2 + 1);
    }
    expect(acc.ready).toBe(true);
    const mean = acc.mean();
    const full = gradsOf(0, 4);
    expect([...mean.keys()]).toEqual([...full.keys()]);
    let worst = 0;
    for (const [name, g] of full) worst = Math.max(worst, expectClose(`grad ${name}`, mean.get(name)!.dataSync(), g.dataSync(), 1e-6, 0).maxAbs);
    expect(worst).toBeLessThan(1e-6);
    tf.dispose([...mean.values(), ...full.values()]);
    acc.dispose();
  });

  it('step(optimizer) applies the mean and resets; the tensor count stays flat over cycles', () => {
    const acc = new GradientAccumulator(model, 2);
    const opt = new AdamW(model, { lr: 1e-4 });
    const counts: number[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      for (const start of [0, 2]) {
        const g = gradsOf(start, 2);
        acc.add(g);
        tf.dispose([...g.values()]);
      }
      acc.step(opt);
      expect(acc.count).toBe(0);
      counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
    expect(opt.step).toBe(3);
    opt.dispose();
    acc.dispose();
  });

  it('rejects bad use with messages', () => {
    expect(() => new GradientAccumulator(model, 0)).toThrow('GradientAccumulator: steps is 0: expected an integer >= 1');
    const acc = new GradientAccumulator(model, 1);
    expect(() => acc.mean()).toThrow('GradientAccumulator.mean: holds 0 of 1 micro-batches; add 1 more first');
    const unknown = new Map([['head.weight', tf.zeros([2, 2])]]);
    expect(() => acc.add(unknown)).toThrow("GradientAccumulator.add: gradient for unknown parameter 'head.weight'");
    const wrong = new Map([['decoder_pred.bias', tf.zeros([3])]]);
    expect(() => acc.add(wrong)).toThrow("GradientAccumulator.add: gradient for 'decoder_pred.bias' has shape [3], expected [16] (the parameter's shape)");
    acc.add(new Map());
    expect(() => acc.add(new Map())).toThrow('GradientAccumulator.add: already holds 1 of 1 micro-batches; call step(optimizer), mean() + reset() first');
    tf.dispose([...unknown.values(), ...wrong.values()]);
    acc.dispose();
  });
});

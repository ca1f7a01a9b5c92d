import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { Block, ParamRegistry } from './index.js';

const DIM = 8;
const HEADS = 2;
const HIDDEN = 4 * DIM;

// The block op by op, from its 12 parameters in Block.parameters() order: the definition the
// hand-written backward pass must match (tfjs's own gradients of every op).
function referenceBlock(x: tf.Tensor3D, p: tf.Tensor[], eps: number): tf.Tensor {
  const [n1w, n1b, qkvW, qkvB, projW, projB, n2w, n2b, fc1W, fc1B, fc2W, fc2B] = p;
  const [b, t, d] = x.shape;
  const hd = d / HEADS;
  const norm = (z: tf.Tensor, g: tf.Tensor, beta: tf.Tensor) => {
    const centered = tf.sub(z, tf.mean(z, -1, true));
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps))), g), beta);
  };
  const rows = (z: tf.Tensor) => tf.reshape(z, [b * t, -1]);
  const a1 = norm(rows(x), n1w, n1b);
  const qkv = tf.add(tf.matMul(a1 as tf.Tensor2D, qkvW as tf.Tensor2D), qkvB); // [M, 3D]
  const heads = (i: number) => tf.transpose(tf.reshape(tf.slice(qkv, [0, i * d], [b * t, d]), [b, t, HEADS, hd]), [0, 2, 1, 3]);
  const probs = tf.softmax(tf.mul(tf.matMul(heads(0), heads(1), false, true), hd ** -0.5));
  const context = tf.reshape(tf.transpose(tf.matMul(probs, heads(2)), [0, 2, 1, 3]), [b * t, d]);
  const h = tf.add(rows(x), tf.add(tf.matMul(context as tf.Tensor2D, projW as tf.Tensor2D), projB));
  const u = tf.add(tf.matMul(norm(h, n2w, n2b) as tf.Tensor2D, fc1W as tf.Tensor2D), fc1B);
  const g = tf.mul(tf.mul(u, 0.5), tf.add(tf.erf(tf.mul(u, Math.SQRT1_2)), 1));
  return tf.reshape(tf.add(h, tf.add(tf.matMul(g as tf.Tensor2D, fc2W as tf.Tensor2D), fc2B)), [b, t, d]);
}

const PARAM_NAMES = ['norm1.weight', 'norm1.bias', 'qkv.weight', 'qkv.bias', 'proj.weight', 'proj.bias', 'norm2.weight', 'norm2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'];

describeEachBackend('Block with its hand-written gradient', () => {
  let params: ParamRegistry;
  let block: Block;
  beforeEach(() => {
    params = new ParamRegistry(3);
    block = new Block(params, 'blocks.0', { dim: DIM, numHeads: HEADS, mlpRatio: 4, layerNormEps: 1e-6 });
    // Every parameter away from its init (LayerNorm 1/0, zero biases), so a wrong term shows.
    block.parameters().forEach((v, i) => v.assign(tf.randomNormal(v.shape, v.shape.length === 1 && i % 2 === 0 ? 1 : 0, 0.5, 'float32', 100 + i)));
  });
  afterEach(() => params.dispose());

  it('has the value and the gradients (input and all 12 parameters) of the block op by op', () => {
    const x = tf.randomNormal([3, 5, DIM], 0.2, 1.5, 'float32', 21) as tf.Tensor3D;
    const up = tf.randomNormal([3, 5, DIM], 0, 1, 'float32', 22); // a random upstream gradient
    const loss = (run: (x: tf.Tensor3D, p: tf.Tensor[]) => tf.Tensor) => (...inputs: tf.Tensor[]) => tf.sum(tf.mul(run(inputs[0] as tf.Tensor3D, inputs.slice(1)), up));
    const inputs = [x, ...block.parameters()];
    const mine = tf.grads(loss((xIn) => block.apply(xIn)))(inputs);
    const reference = tf.grads(loss((xIn, p) => referenceBlock(xIn, p, 1e-6)))(inputs);
    expectClose('value', block.apply(x).dataSync(), referenceBlock(x, block.parameters(), 1e-6).dataSync(), 1e-5, 1e-4);
    ['x', ...PARAM_NAMES].forEach((name, i) => {
      expect(mine[i].shape).toEqual(inputs[i].shape);
      expectClose(`d ${name}`, mine[i].dataSync(), reference[i].dataSync(), 2e-5, 2e-4);
    });
  });

  it('keeps far less memory during a training step than the op-by-op block, and leaks no tensor', async () => {
    const x = tf.randomNormal([4, 9, DIM], 0, 1, 'float32', 23) as tf.Tensor3D;
    const peakOf = async (run: () => void) => (await tf.profile(run)).peakBytes;
    const step = (apply: (x: tf.Tensor3D) => tf.Tensor) => () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(apply(apply(x) as tf.Tensor3D))));
      tf.dispose([value, ...Object.values(grads)]);
    };
    step((xIn) => block.apply(xIn))(); // first-call allocations out of the count
    const before = tf.memory().numTensors;
    const mine = await peakOf(step((xIn) => block.apply(xIn)));
    expect(tf.memory().numTensors).toBe(before);
    const reference = await peakOf(step((xIn) => referenceBlock(xIn, block.parameters(), 1e-6)));
    expect(mine).toBeLessThan(0.45 * reference); // measured: 0.29
  });

  it('refuses an input that is not [B, T, dim], naming the block', () => {
    expect(() => block.apply(tf.zeros([5, DIM]))).toThrow("Block 'blocks.0': input has shape [5,8], expected [B, T, 8]");
    expect(() => block.apply(tf.zeros([1, 5, DIM + 1]))).toThrow("Block 'blocks.0': input has shape [1,5,9], expected [B, T, 8]");
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkPositive, failArgument, linear } from '@maejs/backend';
import { gelu, layerNorm2d } from './fused.js';
import { ParamRegistry, xavierUniform } from './params.js';

/** Throws unless the last axis of x has `expected` features; `what` names the layer. */
function checkLastDim(what: string, x: tf.Tensor, expected: number): void {
  if (x.rank < 1 || x.shape[x.rank - 1] !== expected) {
    throw new Error(`${what}: input has shape [${x.shape}], expected [..., ${expected}] (last axis = features)`);
  }
}

/**
 * Fully connected layer y = x W + b. x: [..., in] -> [..., out]. The weight is kept [in, out]
 * (the PyTorch [out, in] transposed) so the product is a plain 2-D matMul, the fast path on
 * every tfjs backend.
 */
export class Linear {
  readonly weight: tf.Variable; // [in, out]
  readonly bias: tf.Variable; // [out]

  constructor(
    params: ParamRegistry,
    readonly name: string,
    readonly inDim: number,
    readonly outDim: number,
  ) {
    checkInteger(`Linear '${name}': inDim`, inDim, 1);
    checkInteger(`Linear '${name}': outDim`, outDim, 1);
    const weightName = `${name}.weight`;
    this.weight = params.add(weightName, xavierUniform([inDim, outDim], params.initSeed(weightName)), 'linear');
    this.bias = params.add(`${name}.bias`, tf.zeros([outDim]));
  }

  /** x: [..., inDim] -> x W + b: [..., outDim]. */
  apply(x: tf.Tensor): tf.Tensor {
    checkLastDim(`Linear '${this.name}'`, x, this.inDim);
    const lead = x.shape.slice(0, -1);
    const rows = tf.reshape(x, [-1, this.inDim]) as tf.Tensor2D; // [M, in]
    const y = linear(rows, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D); // [M, out]
    return tf.reshape(y, [...lead, this.outDim]);
  }
}

/** LayerNorm over the last axis with biased variance, as torch.nn.LayerNorm. x: [..., D] -> [..., D]. */
export class LayerNorm {
  readonly weight: tf.Variable; // [D]
  readonly bias: tf.Variable; // [D]

  constructor(
    params: ParamRegistry,
    readonly name: string,
    readonly dim: number,
    readonly eps: number,
  ) {
    checkInteger(`LayerNorm '${name}': dim`, dim, 1);
    checkPositive(`LayerNorm '${name}': eps`, eps);
    this.weight = params.add(`${name}.weight`, tf.ones([dim]));
    this.bias = params.add(`${name}.bias`, tf.zeros([dim]));
  }

  /** Normalises x: [..., D] over its last axis, then scales by `weight` and adds `bias`. */
  apply(x: tf.Tensor): tf.Tensor {
    checkLastDim(`LayerNorm '${this.name}'`, x, this.dim);
    const rows = tf.reshape(x, [-1, this.dim]) as tf.Tensor2D; // [M, D]
    return tf.reshape(layerNorm2d(rows, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, this.eps), x.shape);
  }
}


/**
 * Multi-head self-attention with a fused qkv projection (timm 0.3.2 `Attention`, qkv_bias).
 * x: [B, T, D] -> [B, T, D]. The qkv output is [q | k | v]; each splits into heads of
 * contiguous features; scores are (q k^T) * headDim^-0.5.
 */
export class Attention {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly headDim: number;
  readonly scale: number;

  constructor(
    params: ParamRegistry,
    readonly name: string,
    readonly dim: number,
    readonly numHeads: number,
  ) {
    checkInteger(`Attention '${name}': numHeads`, numHeads, 1);
    if (dim % numHeads !== 0) failArgument(`Attention '${name}': dim`, dim, `a multiple of numHeads ${numHeads} (dim = numHeads * headDim)`);
    this.headDim = dim / numHeads;
    this.scale = this.headDim ** -0.5;
    this.qkv = new Linear(params, `${name}.qkv`, dim, 3 * dim);
    this.proj = new Linear(params, `${name}.proj`, dim, dim);
  }

  /** Multi-head self-attention of x: [B, T, D] -> [B, T, D]. */
  apply(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dim) throw new Error(`Attention '${this.name}': input has shape [${x.shape}], expected [B, T, ${this.dim}]`);
    const [b, t] = x.shape;
    const toHeads = (part: tf.Tensor) => tf.transpose(tf.reshape(part, [b, t, this.numHeads, this.headDim]), [0, 2, 1, 3]); // [B, H, T, hd]
    // q, k and v from column blocks of the fused qkv weight: three matMuls instead of one and a
    // split of the [B*T, 3D] activations (a large copy on wasm).
    const rows = tf.reshape(x, [-1, this.dim]) as tf.Tensor2D; // [B*T, D]
    const part = (i: number) => {
      const w = tf.slice(this.qkv.weight, [0, i * this.dim], [this.dim, this.dim]) as tf.Tensor2D; // [D, D]
      const bias = tf.slice(this.qkv.bias, [i * this.dim], [this.dim]) as tf.Tensor1D; // [D]
      return toHeads(linear(rows, w, bias));
    };
    const [q, k, v] = [part(0), part(1), part(2)];
    const scores = tf.mul(tf.matMul(q, k, false, true), this.scale); // [B, H, T, T]
    const context = tf.matMul(tf.softmax(scores), v); // [B, H, T, hd]
    const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b, t, this.dim]); // [B, T, D]
    return this.proj.apply(merged);
  }
}

/** Two-layer MLP with exact GELU. x: [..., D] -> [..., D]. */
export class Mlp {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(params: ParamRegistry, name: string, dim: number, hidden: number) {
    this.fc1 = new Linear(params, `${name}.fc1`, dim, hidden);
    this.fc2 = new Linear(params, `${name}.fc2`, hidden, dim);
  }

  /** fc2(GELU(fc1(x))): [..., D] -> [..., D]. */
  apply(x: tf.Tensor): tf.Tensor {
    return this.fc2.apply(gelu(this.fc1.apply(x)));
  }
}

/** Sizes of one transformer block. */
export interface BlockOptions {
  dim: number;
  numHeads: number;
  mlpRatio: number;
  layerNormEps: number;
}

/** Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)). x: [B, T, D] -> [B, T, D]. */
export class Block {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(params: ParamRegistry, name: string, o: BlockOptions) {
    this.norm1 = new LayerNorm(params, `${name}.norm1`, o.dim, o.layerNormEps);
    this.attn = new Attention(params, `${name}.attn`, o.dim, o.numHeads);
    this.norm2 = new LayerNorm(params, `${name}.norm2`, o.dim, o.layerNormEps);
    this.mlp = new Mlp(params, `${name}.mlp`, o.dim, Math.trunc(o.dim * o.mlpRatio));
  }

  /**
   * In a tidy of its own, so inference frees each block's intermediates as soon as the block is
   * done (under a gradient tape, what the backward pass needs is kept by the tape).
   */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = tf.add(x, this.attn.apply(this.norm1.apply(x)));
      return tf.add(h, this.mlp.apply(this.norm2.apply(h)));
    });
  }
}

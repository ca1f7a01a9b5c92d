import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkPositive, failArgument, linear } from '@maejs/backend';
import { blockOp } from './block-gradient.js';
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
    return tf.tidy(() => this.forwardParts(x).out);
  }

  /** [B, T, D] rows -> heads [B, H, T, hd] (a transpose copy). */
  splitHeads(rows: tf.Tensor, b: number, t: number): tf.Tensor4D {
    return tf.transpose(tf.reshape(rows, [b, t, this.numHeads, this.headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
  }

  /** Heads [B, H, T, hd] -> rows [B*T, D] (a transpose copy). */
  mergeHeads(heads: tf.Tensor4D): tf.Tensor2D {
    const [b, , t] = heads.shape;
    return tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [b * t, this.dim]) as tf.Tensor2D;
  }

  /**
   * The forward pass with the tensors its gradient needs (see block-gradient.ts): q, k, v as
   * heads [B, H, T, hd], the attention probabilities [B, H, T, T], the merged context [B*T, D]
   * (the input of `proj`) and the output [B, T, D].
   */
  forwardParts(x: tf.Tensor): AttentionParts {
    if (x.rank !== 3 || x.shape[2] !== this.dim) throw new Error(`Attention '${this.name}': input has shape [${x.shape}], expected [B, T, ${this.dim}]`);
    const [b, t] = x.shape;
    // q, k and v from column blocks of the fused qkv weight: three matMuls instead of one and a
    // split of the [B*T, 3D] activations (a large copy on wasm).
    const rows = tf.reshape(x, [-1, this.dim]) as tf.Tensor2D; // [B*T, D]
    const part = (i: number) => this.splitHeads(linear(rows, this.qkvWeightPart(i), this.qkvBiasPart(i)), b, t);
    const [q, k, v] = [part(0), part(1), part(2)];
    const scores = tf.mul(tf.matMul(q, k, false, true), this.scale); // [B, H, T, T]
    const probs = tf.softmax(scores) as tf.Tensor4D;
    const context = this.mergeHeads(tf.matMul(probs, v) as tf.Tensor4D); // [B*T, D]
    const out = tf.reshape(this.proj.apply(context), [b, t, this.dim]) as tf.Tensor3D;
    return { q, k, v, probs, context, out };
  }

  /** Columns [i*D, (i+1)*D) of the qkv weight: i = 0 q, 1 k, 2 v. [D, D] */
  qkvWeightPart(i: number): tf.Tensor2D {
    return tf.slice(this.qkv.weight, [0, i * this.dim], [this.dim, this.dim]) as tf.Tensor2D;
  }

  /** Entries [i*D, (i+1)*D) of the qkv bias. [D] */
  qkvBiasPart(i: number): tf.Tensor1D {
    return tf.slice(this.qkv.bias, [i * this.dim], [this.dim]) as tf.Tensor1D;
  }
}

/** What {@link Attention.forwardParts} returns. */
export interface AttentionParts {
  q: tf.Tensor4D; // [B, H, T, hd]
  k: tf.Tensor4D; // [B, H, T, hd]
  v: tf.Tensor4D; // [B, H, T, hd]
  probs: tf.Tensor4D; // softmax(q k^T * scale): [B, H, T, T]
  context: tf.Tensor2D; // probs v, heads merged: [B*T, D]
  out: tf.Tensor3D; // proj(context): [B, T, D]
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

  constructor(
    params: ParamRegistry,
    readonly name: string,
    o: BlockOptions,
  ) {
    this.norm1 = new LayerNorm(params, `${name}.norm1`, o.dim, o.layerNormEps);
    this.attn = new Attention(params, `${name}.attn`, o.dim, o.numHeads);
    this.norm2 = new LayerNorm(params, `${name}.norm2`, o.dim, o.layerNormEps);
    this.mlp = new Mlp(params, `${name}.mlp`, o.dim, Math.trunc(o.dim * o.mlpRatio));
  }

  /**
   * One differentiable op with a hand-written backward pass (block-gradient.ts): under a
   * gradient tape it keeps what its backward pass needs instead of every intermediate, and its
   * backward pass frees its own intermediates. In a tidy of its own, so inference frees each
   * block's intermediates as soon as the block is done.
   */
  apply(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.attn.dim) throw new Error(`Block '${this.name}': input has shape [${x.shape}], expected [B, T, ${this.attn.dim}]`);
    return tf.tidy(() => blockOp(this, x as tf.Tensor3D));
  }

  /** The 12 parameters in the order of the official state dict (norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2; weight then bias). */
  parameters(): tf.Variable[] {
    const { norm1, attn, norm2, mlp } = this;
    return [norm1.weight, norm1.bias, attn.qkv.weight, attn.qkv.bias, attn.proj.weight, attn.proj.bias, norm2.weight, norm2.bias, mlp.fc1.weight, mlp.fc1.bias, mlp.fc2.weight, mlp.fc2.bias];
  }
}

/**
 * The pre-norm transformer block as one differentiable op (tf.customGrad) with a hand-written
 * backward pass.
 *
 * Op by op, the tfjs tape keeps every intermediate of the forward pass and every gradient of
 * the backward pass until the whole backward pass ends: about 57 [B, T, D]-sized tensors per
 * block (measured on a mae_tiny_28 training step). This op keeps what the backward pass needs
 * and no more, per block:
 * - the normalised inputs of both LayerNorms (xhat) and their 1/std, q, k, v and the merged
 *   attention context: 6 [B, T, D]-sized tensors;
 * - the fc1 output u and Phi(u), GELU's slope term (4 each at mlpRatio 4);
 * - the attention probabilities [B, H, T, T].
 * The backward pass rebuilds the LayerNorm outputs (xhat * gamma + beta) and GELU(u) = u Phi(u)
 * with one elementwise kernel each instead of keeping them, and runs in a tidy of its own, so
 * only the block's gradients outlive it.
 *
 * Gradients are first order: the backward pass is not itself differentiable under an outer tape.
 */
import * as tf from '@tensorflow/tfjs-core';
import { geluBackward, geluForward, sumRows } from '@maejs/backend';
import { layerNormBackward, layerNormForward } from './fused.js';
import type { Block } from './layers.js';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

/** What the backward pass of a block needs from its forward pass. M = B*T rows. */
interface BlockSaved {
  xhat1: tf.Tensor2D; // norm1's normalised input [M, D]
  rstd1: tf.Tensor2D; // norm1's 1/std [M, 1]
  q: tf.Tensor4D; // [B, H, T, hd]
  k: tf.Tensor4D; // [B, H, T, hd]
  v: tf.Tensor4D; // [B, H, T, hd]
  probs: tf.Tensor4D; // softmax(q k^T * scale) [B, H, T, T]
  context: tf.Tensor2D; // probs v with heads merged [M, D]
  xhat2: tf.Tensor2D; // norm2's normalised input [M, D]
  rstd2: tf.Tensor2D; // norm2's 1/std [M, 1]
  u: tf.Tensor2D; // fc1 output, before GELU [M, hidden]
  phi: tf.Tensor2D; // Phi(u) [M, hidden]
}

const SAVED_ORDER = ['xhat1', 'rstd1', 'q', 'k', 'v', 'probs', 'context', 'xhat2', 'rstd2', 'u', 'phi'] as const;

/** Forward pass: x [B, T, D] -> y [B, T, D], and the tensors the backward pass needs. */
function blockForward(block: Block, x: tf.Tensor3D): { y: tf.Tensor3D; saved: BlockSaved } {
  const [b, t, d] = x.shape;
  const { norm1, attn, norm2, mlp } = block;
  const rows = tf.reshape(x, [b * t, d]) as tf.Tensor2D; // [M, D]
  const ln1 = layerNormForward(rows, norm1.weight as tf.Tensor1D, norm1.bias as tf.Tensor1D, norm1.eps);
  const { q, k, v, probs, context, out } = attn.forwardParts(tf.reshape(ln1.y, [b, t, d]));
  const h = tf.add(rows, tf.reshape(out, [b * t, d])) as tf.Tensor2D; // [M, D]
  const ln2 = layerNormForward(h, norm2.weight as tf.Tensor1D, norm2.bias as tf.Tensor1D, norm2.eps);
  const u = mlp.fc1.apply(ln2.y) as tf.Tensor2D; // [M, hidden]
  const [g, phi] = geluForward(u) as [tf.Tensor2D, tf.Tensor2D];
  const y = tf.reshape(tf.add(h, mlp.fc2.apply(g)), [b, t, d]) as tf.Tensor3D;
  return { y, saved: { xhat1: ln1.xhat, rstd1: ln1.rstd, q, k, v, probs, context, xhat2: ln2.xhat, rstd2: ln2.rstd, u, phi } };
}

/**
 * Backward pass of y = h + fc2(GELU(fc1(norm2(h)))), h = x + proj(attention(norm1(x))).
 * dy [B, T, D] -> [dx, then the gradients of block.parameters() in their order].
 */
function blockBackward(block: Block, s: BlockSaved, dy: tf.Tensor3D): tf.Tensor[] {
  const { norm1, attn, norm2, mlp } = block;
  const [b, t, d] = dy.shape;
  const dOut = tf.reshape(dy, [b * t, d]) as tf.Tensor2D; // [M, D]

  // MLP branch: y = h + fc2(g), g = GELU(u), u = fc1(a2), a2 = norm2(h).
  const g = tf.mul(s.u, s.phi) as tf.Tensor2D; // GELU(u) [M, hidden]
  const dFc2Weight = tf.matMul(g, dOut, true, false); // [hidden, D]
  const dFc2Bias = sumRows(dOut);
  const du = geluBackward(s.u, s.phi, tf.matMul(dOut, mlp.fc2.weight, false, true)) as tf.Tensor2D; // [M, hidden]
  const a2 = tf.add(tf.mul(s.xhat2, norm2.weight), norm2.bias) as tf.Tensor2D; // norm2(h) [M, D]
  const dFc1Weight = tf.matMul(a2, du, true, false); // [D, hidden]
  const dFc1Bias = sumRows(du);
  const [dhNorm, dNorm2Weight, dNorm2Bias] = layerNormBackward(tf.matMul(du, mlp.fc1.weight, false, true), s.xhat2, s.rstd2, norm2.weight as tf.Tensor1D);
  const dh = tf.add(dOut, dhNorm) as tf.Tensor2D; // [M, D]

  // Attention branch: h = x + proj(context), context = merge(probs v), probs = softmax(q k^T * scale).
  const dProjWeight = tf.matMul(s.context, dh, true, false); // [D, D]
  const dProjBias = sumRows(dh);
  const dContext = attn.splitHeads(tf.matMul(dh, attn.proj.weight, false, true), b, t); // [B, H, T, hd]
  const dProbs = tf.matMul(dContext, s.v, false, true); // [B, H, T, T]
  const dv = tf.matMul(s.probs, dContext, true, false); // [B, H, T, hd]
  // softmax backward: dScores = probs * (dProbs - sum_j dProbs * probs), then the scale.
  const rowDot = tf.sum(tf.mul(dProbs, s.probs), -1, true); // [B, H, T, 1]
  const dScores = tf.mul(tf.mul(s.probs, tf.sub(dProbs, rowDot)), attn.scale); // [B, H, T, T]
  const dq = tf.matMul(dScores, s.k); // [B, H, T, hd]
  const dk = tf.matMul(dScores, s.q, true, false); // [B, H, T, hd]
  const dQkv = tf.concat([attn.mergeHeads(dq as tf.Tensor4D), attn.mergeHeads(dk as tf.Tensor4D), attn.mergeHeads(dv as tf.Tensor4D)], 1) as tf.Tensor2D; // [M, 3D]
  const a1 = tf.add(tf.mul(s.xhat1, norm1.weight), norm1.bias) as tf.Tensor2D; // norm1(x) [M, D]
  const dQkvWeight = tf.matMul(a1, dQkv, true, false); // [D, 3D]
  const dQkvBias = sumRows(dQkv);
  const [dxNorm, dNorm1Weight, dNorm1Bias] = layerNormBackward(tf.matMul(dQkv, attn.qkv.weight, false, true), s.xhat1, s.rstd1, norm1.weight as tf.Tensor1D);
  const dx = tf.reshape(tf.add(dh, dxNorm), [b, t, d]);

  return [dx, dNorm1Weight, dNorm1Bias, dQkvWeight, dQkvBias, dProjWeight, dProjBias, dNorm2Weight, dNorm2Bias, dFc1Weight, dFc1Bias, dFc2Weight, dFc2Bias];
}

/** The block as one differentiable op: x [B, T, D] -> [B, T, D]; inputs x and block.parameters(). */
export function blockOp(block: Block, x: tf.Tensor3D): tf.Tensor3D {
  const op = tf.customGrad((...args: Args) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { y, saved } = blockForward(block, args[0] as tf.Tensor3D);
    save(SAVED_ORDER.map((key) => saved[key]));
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const s = Object.fromEntries(SAVED_ORDER.map((key, i) => [key, kept[i]])) as unknown as BlockSaved;
        return tf.tidy(() => blockBackward(block, s, dy as tf.Tensor3D));
      },
    };
  });
  return op(x, ...block.parameters()) as tf.Tensor3D;
}

import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@maejs/backend';
import { MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { LayerwiseAdamW, layerIdForVit, paramGroupsLrd } from './lr-decay.js';

const tinyConfig = { imgSize: 8, patchSize: 4, inChans: 1, embedDim: 8, depth: 2, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };

// Depth 2, layerDecay 0.75: num_layers = 3, scale = 0.75^(3 - layerId):
// layer 0 -> 0.421875, blocks.0 (layer 1) -> 0.5625, blocks.1 (layer 2) -> 0.75, the rest (layer 3) -> 1.
const L0 = 0.421875;
const L1 = 0.5625;
const L2 = 0.75;
const L3 = 1;
/** [name, layerId, lrScale, group], written out by hand for every fine-tuned parameter of the depth-2 model. */
const expected: [string, number, number, 'decay' | 'no_decay'][] = [
  ['cls_token', 0, L0, 'no_decay'],
  ['pos_embed', 0, L0, 'no_decay'],
  ['patch_embed.proj.weight', 0, L0, 'decay'],
  ['patch_embed.proj.bias', 0, L0, 'no_decay'],
  ['blocks.0.norm1.weight', 1, L1, 'no_decay'],
  ['blocks.0.norm1.bias', 1, L1, 'no_decay'],
  ['blocks.0.attn.qkv.weight', 1, L1, 'decay'],
  ['blocks.0.attn.qkv.bias', 1, L1, 'no_decay'],
  ['blocks.0.attn.proj.weight', 1, L1, 'decay'],
  ['blocks.0.attn.proj.bias', 1, L1, 'no_decay'],
  ['blocks.0.norm2.weight', 1, L1, 'no_decay'],
  ['blocks.0.norm2.bias', 1, L1, 'no_decay'],
  ['blocks.0.mlp.fc1.weight', 1, L1, 'decay'],
  ['blocks.0.mlp.fc1.bias', 1, L1, 'no_decay'],
  ['blocks.0.mlp.fc2.weight', 1, L1, 'decay'],
  ['blocks.0.mlp.fc2.bias', 1, L1, 'no_decay'],
  ['blocks.1.norm1.weight', 2, L2, 'no_decay'],
  ['blocks.1.norm1.bias', 2, L2, 'no_decay'],
  ['blocks.1.attn.qkv.weight', 2, L2, 'decay'],
  ['blocks.1.attn.qkv.bias', 2, L2, 'no_decay'],
  ['blocks.1.attn.proj.weight', 2, L2, 'decay'],
  ['blocks.1.attn.proj.bias', 2, L2, 'no_decay'],
  ['blocks.1.norm2.weight', 2, L2, 'no_decay'],
  ['blocks.1.norm2.bias', 2, L2, 'no_decay'],
  ['blocks.1.mlp.fc1.weight', 2, L2, 'decay'],
  ['blocks.1.mlp.fc1.bias', 2, L2, 'no_decay'],
  ['blocks.1.mlp.fc2.weight', 2, L2, 'decay'],
  ['blocks.1.mlp.fc2.bias', 2, L2, 'no_decay'],
  ['norm.weight', 3, L3, 'no_decay'],
  ['norm.bias', 3, L3, 'no_decay'],
  ['fc_norm.weight', 3, L3, 'no_decay'],
  ['fc_norm.bias', 3, L3, 'no_decay'],
  ['head.weight', 3, L3, 'decay'],
  ['head.bias', 3, L3, 'no_decay'],
];

describe('paramGroupsLrd', () => {
  beforeAll(() => initBackend('cpu')); // only to build a model whose parameter names and shapes are read
  it('matches the hand-computed layer ids, lr scales and decay groups of a depth-2 ViT', () => {
    const model = new MaskedAutoencoder(tinyConfig, { seed: 1 });
    const shapes = new Map<string, readonly number[]>(model.params.entries().filter(([name]) => !name.startsWith('decoder') && name !== 'mask_token').map(([name, p]) => [name, p.variable.shape]));
    shapes.set('fc_norm.weight', [8]).set('fc_norm.bias', [8]).set('head.weight', [8, 10]).set('head.bias', [10]);
    model.dispose();
    const groups = paramGroupsLrd(shapes, { depth: 2, layerDecay: 0.75 });
    expect([...groups.keys()].sort()).toEqual(expected.map(([name]) => name).sort());
    for (const [name, layerId, lrScale, group] of expected) expect({ name, ...groups.get(name) }).toEqual({ name, layerId, lrScale, group });
  });

  it('rejects a block index beyond the depth and a bad layerDecay', () => {
    expect(() => layerIdForVit('blocks.2.norm1.weight', 2)).toThrow("layerIdForVit: the block index of 'blocks.2.norm1.weight' is 2: expected an integer in [0, 2) (depth 2)");
    expect(() => layerIdForVit('blocks.x.norm1.weight', 2)).toThrow(`layerIdForVit: the block index of 'blocks.x.norm1.weight' is "x": expected an integer in [0, 2) (depth 2)`);
    expect(() => paramGroupsLrd(new Map(), { depth: 1.5, layerDecay: 0.75 })).toThrow('paramGroupsLrd: depth (number of blocks) is 1.5: expected an integer >= 0');
    expect(() => paramGroupsLrd(new Map(), { depth: 2, layerDecay: 0 })).toThrow('paramGroupsLrd: layerDecay is 0: expected a number in (0, 1]');
  });
});

describeEachBackend('LayerwiseAdamW', () => {
  // depth 2, layerDecay 0.5: scales 0.125 (layer 0), 0.25 (blocks.0), 0.5 (blocks.1), 1 (head).
  const shapes: [string, number[]][] = [
    ['cls_token', [1, 1, 2]],
    ['patch_embed.proj.weight', [2, 2]],
    ['blocks.0.attn.qkv.weight', [2, 2]],
    ['blocks.1.norm1.weight', [2]],
    ['head.weight', [2, 2]],
    ['head.bias', [2]],
  ];
  const scale: Record<string, number> = { cls_token: 0.125, 'patch_embed.proj.weight': 0.125, 'blocks.0.attn.qkv.weight': 0.25, 'blocks.1.norm1.weight': 0.5, 'head.weight': 1, 'head.bias': 1 };
  const decays: Record<string, boolean> = { cls_token: false, 'patch_embed.proj.weight': true, 'blocks.0.attn.qkv.weight': true, 'blocks.1.norm1.weight': false, 'head.weight': true, 'head.bias': false };

  function setup(weightDecay: number) {
    const vars = new Map(shapes.map(([name, shape], i) => [name, tf.variable(tf.add(tf.ones(shape), i))]));
    const groups = paramGroupsLrd(new Map(shapes), { depth: 2, layerDecay: 0.5 });
    return { vars, optimizer: new LayerwiseAdamW(vars, groups, { weightDecay }) };
  }

  it('updates each parameter with base lr x its layer scale (first Adam step moves every weight by lr x scale)', async () => {
    const { vars, optimizer } = setup(0);
    optimizer.lr = 0.1;
    for (const [name] of shapes) expect(optimizer.lrOf(name)).toBeCloseTo(0.1 * scale[name], 12);
    const grads = new Map([...vars].map(([name, v]) => [name, tf.onesLike(v)]));
    optimizer.applyGradients(grads);
    let i = 0;
    for (const [name, v] of vars) {
      const expectedValue = 1 + i++ - 0.1 * scale[name]; // Adam's first step is lr * g / (|g| + eps)
      expectClose(name, await v.data(), new Array(v.size).fill(expectedValue), 1e-6, 1e-6);
    }
    tf.dispose([...grads.values(), ...vars.values()]);
    optimizer.dispose();
  });

  it('decays the decay group with its scaled lr (p *= 1 - lr x scale x wd) and leaves the no_decay group alone', async () => {
    const { vars, optimizer } = setup(0.5);
    optimizer.lr = 0.2;
    const grads = new Map([...vars].map(([name, v]) => [name, tf.zerosLike(v)])); // zero gradient: only the decay acts
    optimizer.applyGradients(grads);
    let i = 0;
    for (const [name, v] of vars) {
      const start = 1 + i++;
      const expectedValue = decays[name] ? start * (1 - 0.2 * scale[name] * 0.5) : start;
      expectClose(name, await v.data(), new Array(v.size).fill(expectedValue), 1e-6, 1e-6);
    }
    tf.dispose([...grads.values(), ...vars.values()]);
    optimizer.dispose();
  });

  it('rejects a gradient for an unknown parameter and a variable without assignment', () => {
    const { vars, optimizer } = setup(0);
    const g = tf.zeros([2]);
    expect(() => optimizer.applyGradients(new Map([['blocks.9.x', g]]))).toThrow("LayerwiseAdamW.applyGradients: gradient for unknown parameter 'blocks.9.x'");
    expect(() => new LayerwiseAdamW(vars, new Map())).toThrow("LayerwiseAdamW: no layer-decay assignment for parameter 'cls_token', expected one for every variable (see paramGroupsLrd)");
    const groups = paramGroupsLrd(new Map(shapes), { depth: 2, layerDecay: 0.5 });
    expect(() => new LayerwiseAdamW(vars, groups, { betas: [0.9, 1] })).toThrow('LayerwiseAdamW: betas[1] is 1: expected a number in [0, 1)');
    expect(() => new LayerwiseAdamW(vars, groups, { weightDecay: -1 })).toThrow('LayerwiseAdamW: weightDecay is -1: expected a finite number >= 0');
    tf.dispose([g, ...vars.values()]);
    optimizer.dispose();
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { AdamW, officialParamGroups, variableGradsByName, type AdamWState } from './index.js';

/** The torch.optim.AdamW recurrence on plain numbers (float64), for hand-checkable values. */
function referenceAdamW(p: number[], grads: number[][], lrs: number[], o: { b1: number; b2: number; eps: number; wd: number }): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, k) => {
    const t = k + 1;
    const lr = lrs[k];
    for (let i = 0; i < x.length; i++) {
      x[i] *= 1 - lr * o.wd;
      m[i] = o.b1 * m[i] + (1 - o.b1) * g[i];
      v[i] = o.b2 * v[i] + (1 - o.b2) * g[i] * g[i];
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - o.b2 ** t) + o.eps;
      x[i] -= (lr / (1 - o.b1 ** t)) * (m[i] / denom);
    }
  });
  return x;
}

/** Deterministic pseudo-random gradients for a set of variables (seeded, same on every backend). */
function fakeGrads(vars: Map<string, tf.Variable>, seed: number): Map<string, tf.Tensor> {
  return new Map([...vars].map(([name, v], i) => [name, tf.randomNormal(v.shape, 0, 1, 'float32', seed * 100 + i)]));
}

function disposeGrads(grads: Map<string, tf.Tensor>): void {
  tf.dispose([...grads.values()]);
}

/** Three small named variables: a matrix, a bias and a token. */
function smallVars(): Map<string, tf.Variable> {
  return new Map([
    ['fc.weight', tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 1))],
    ['fc.bias', tf.variable(tf.randomNormal([4], 0, 1, 'float32', 2))],
    ['cls_token', tf.variable(tf.randomNormal([1, 1, 4], 0, 1, 'float32', 3))],
  ]);
}

describeEachBackend('AdamW', () => {
  it('defaults to MAE main_pretrain hyperparameters', () => {
    const vars = smallVars();
    const opt = new AdamW(vars, { lr: 1e-3 });
    expect(opt.betas).toEqual([0.9, 0.95]);
    expect(opt.eps).toBe(1e-8);
    expect(opt.weightDecay).toBe(0.05);
    expect(opt.names()).toEqual(['fc.weight', 'fc.bias', 'cls_token']);
    expect(opt.groupOf('fc.bias')).toBe('decay'); // plain AdamW(model.parameters()) decays everything
    opt.dispose();
    tf.dispose([...vars.values()]);
  });

  it('follows the torch.optim.AdamW recurrence over three steps with a changing lr (hand computation)', () => {
    const p0 = [1, -2, 0.5, 3];
    const grads = [
      [0.5, -0.25, 1e-3, 0],
      [0.1, 0.4, -2, 1e-9],
      [-0.3, 0.2, 0.7, 5],
    ];
    const lrs = [0.1, 0.05, 0.2];
    const o = { b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1 };
    const w = tf.variable(tf.tensor1d(p0));
    const opt = new AdamW(new Map([['w', w]]), { lr: lrs[0], betas: [o.b1, o.b2], eps: o.eps, weightDecay: o.wd });
    grads.forEach((g, k) => {
      opt.lr = lrs[k];
      const gt = tf.tensor1d(g);
      opt.applyGradients(new Map([['w', gt]]));
      gt.dispose();
    });
    expect(opt.step).toBe(3);
    expectClose('w after 3 steps', w.dataSync(), referenceAdamW(p0, grads, lrs, o), 1e-6, 1e-6);
    // the reference itself, first step by hand: p*(1 - lr*wd) - lr * g/(|g| + eps), e.g. 1*0.99 - 0.1 ~= 0.89
    const first = referenceAdamW(p0, grads.slice(0, 1), lrs, o);
    const byHand = [0.99 - (0.1 * 0.5) / (0.5 + 1e-8), -1.98 + (0.1 * 0.25) / (0.25 + 1e-8), 0.495 - (0.1 * 1e-3) / (1e-3 + 1e-8), 2.97];
    expectClose('first step', first, byHand, 1e-12, 0);
    expectClose('first step (rounded)', first, [0.89, -1.88, 0.395001, 2.97], 1e-6, 0);
    opt.dispose();
    w.dispose();
  });

  it("does not decay the 'no_decay' group and skips parameters without a gradient", () => {
    const vars = smallVars();
    const before = new Map([...vars].map(([n, v]) => [n, Array.from(v.dataSync())]));
    const opt = new AdamW(vars, { lr: 0.1, weightDecay: 0.5, groups: (name) => (name.endsWith('.bias') ? 'no_decay' : 'decay') });
    const zero = new Map<string, tf.Tensor>([
      ['fc.weight', tf.zeros([3, 4])],
      ['fc.bias', tf.zeros([4])],
    ]);
    opt.applyGradients(zero); // zero gradient: only the decoupled decay moves a parameter
    expectClose('fc.weight decayed', vars.get('fc.weight')!.dataSync(), before.get('fc.weight')!.map((x) => x * (1 - 0.1 * 0.5)), 1e-7, 1e-6);
    expect(Array.from(vars.get('fc.bias')!.dataSync())).toEqual(before.get('fc.bias'));
    expect(Array.from(vars.get('cls_token')!.dataSync())).toEqual(before.get('cls_token')); // no gradient: untouched
    disposeGrads(zero);
    opt.dispose();
    tf.dispose([...vars.values()]);
  });

  it('getState/setState round trip: the next steps are bit-identical to an uninterrupted optimizer', async () => {
    const a = smallVars();
    const b = smallVars();
    const optA = new AdamW(a, { lr: 1e-2, weightDecay: 0.05, groups: (n) => (n.endsWith('.bias') ? 'no_decay' : 'decay') });
    for (let k = 0; k < 2; k++) {
      optA.lr = 1e-2 * (k + 1);
      const g = fakeGrads(a, k);
      optA.applyGradients(g);
      disposeGrads(g);
    }
    const snapshot = await optA.getState();
    // b: the same weights (as a checkpoint would restore them) and a fresh optimizer restored from the snapshot
    for (const [name, v] of b) v.assign(a.get(name)!);
    const optB = new AdamW(b, { lr: 123, betas: [0.5, 0.5], eps: 1, weightDecay: 0, groups: (n) => (n.endsWith('.bias') ? 'no_decay' : 'decay') });
    optB.setState(snapshot);
    expect(optB.step).toBe(2);
    expect(optB.lr).toBe(2e-2);
    expect(optB.betas).toEqual([0.9, 0.95]);
    for (let k = 2; k < 5; k++) {
      const g = fakeGrads(a, k);
      optA.lr = optB.lr = 1e-2 / k;
      optA.applyGradients(g);
      optB.applyGradients(g);
      disposeGrads(g);
    }
    for (const [name, v] of a) expect(Array.from(b.get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
    const [sa, sb] = [await optA.getState(), await optB.getState()];
    expect(sb).toEqual(sa);
    sa.params.forEach((p, i) => expect(Array.from(sb.params[i].v)).toEqual(Array.from(p.v)));
    optA.dispose();
    optB.dispose();
    tf.dispose([...a.values(), ...b.values()]);
  });

  it('getState copies: changing the snapshot or later steps does not alias each other', async () => {
    const vars = smallVars();
    const opt = new AdamW(vars, { lr: 1e-2 });
    const g = fakeGrads(vars, 7);
    opt.applyGradients(g);
    const s1 = await opt.getState();
    const m0 = s1.params[0].m[0];
    opt.applyGradients(g);
    expect(s1.params[0].m[0]).toBe(m0);
    opt.setState(s1);
    s1.params[0].m[0] = 42;
    expect((await opt.getState()).params[0].m[0]).toBe(m0);
    disposeGrads(g);
    opt.dispose();
    tf.dispose([...vars.values()]);
  });

  it('setState lists every mismatch at once and changes nothing', async () => {
    const vars = smallVars();
    const opt = new AdamW(vars, { lr: 1e-2 });
    const good = await opt.getState();
    const bad: AdamWState = {
      ...good,
      params: [
        { ...good.params[0], shape: [4, 3] },
        { ...good.params[1], v: new Float32Array(3) },
        { ...good.params[0], name: 'decoder.weight' },
      ],
    };
    expect(() => opt.setState(bad)).toThrow(
      "AdamW.setState: the snapshot does not match this optimizer (4 problems):\n" +
        "  'fc.weight'.shape is [4, 3]: expected [3, 4]\n" +
        "  'fc.bias'.v.length is 3: expected 4 (shape [4])\n" +
        "  unknown parameter 'decoder.weight'\n" +
        "  missing parameter 'cls_token'",
    );
    expect(() => opt.setState({ ...good, betas: [0.9, 1] })).toThrow('AdamW.setState: betas[1] is 1: expected a number in [0, 1)');
    expect(() => opt.setState({ ...good, step: -1 })).toThrow('AdamW.setState: step is -1: expected an integer >= 0');
    const badEntry = { ...good.params[1], m: new Float64Array(4) as unknown as Float32Array, step: 1.5 };
    expect(() => opt.setState({ ...good, params: [good.params[0], badEntry, good.params[2]] })).toThrow(
      "AdamW.setState: the snapshot does not match this optimizer (2 problems):\n  'fc.bias'.m is a Float64Array of length 4: expected a Float32Array\n  'fc.bias'.step is 1.5: expected an integer >= 0",
    );
    expect(() => opt.setState({ ...good, params: [{ ...good.params[0], group: 'no_decay' }, good.params[1], good.params[2]] })).toThrow(
      "'fc.weight' is in group 'no_decay' in the snapshot but 'decay' in this optimizer",
    );
    expect(() => opt.setState({} as AdamWState)).toThrow('AdamW.setState: expected a snapshot from getState()');
    expect(await opt.getState()).toEqual(good);
    opt.dispose();
    tf.dispose([...vars.values()]);
  });

  it('rejects bad hyperparameters and gradients with messages naming the value', () => {
    const vars = smallVars();
    expect(() => new AdamW(vars, { lr: -1 })).toThrow('AdamW: lr is -1: expected a finite number >= 0');
    expect(() => new AdamW(vars, { lr: NaN })).toThrow('AdamW: lr is NaN: expected a finite number >= 0');
    expect(() => new AdamW(vars, { lr: 1e-3, betas: [1, 0.95] })).toThrow('AdamW: betas[0] is 1: expected a number in [0, 1)');
    expect(() => new AdamW(vars, { lr: 1e-3, betas: [0.9, -0.1] })).toThrow('AdamW: betas[1] is -0.1: expected a number in [0, 1)');
    expect(() => new AdamW(vars, { lr: 1e-3, eps: -1e-8 })).toThrow('AdamW: eps is -1e-8: expected a finite number >= 0');
    expect(() => new AdamW(vars, { lr: 1e-3, weightDecay: -0.05 })).toThrow('AdamW: weightDecay is -0.05: expected a finite number >= 0');
    const n0 = tf.memory().numTensors;
    const badSecond = (name: string) => (name === 'fc.bias' ? ('decoy' as 'decay') : 'decay');
    expect(() => new AdamW(vars, { lr: 1e-3, groups: badSecond })).toThrow(`AdamW: groups('fc.bias') is "decoy": expected "decay" or "no_decay"`);
    expect(tf.memory().numTensors).toBe(n0); // the moments of 'fc.weight' were freed
    expect(() => new AdamW(new Map(), { lr: 1e-3 })).toThrow('AdamW: no parameters to optimize (the variable map is empty)');

    const opt = new AdamW(vars, { lr: 1e-3 });
    expect(() => {
      opt.lr = -0.5;
    }).toThrow('AdamW: lr is -0.5: expected a finite number >= 0');
    expect(opt.lr).toBe(1e-3);
    const unknown = new Map([['decoder_pred.weight', tf.zeros([3, 4])]]);
    expect(() => opt.applyGradients(unknown)).toThrow(
      "AdamW.applyGradients: gradient for unknown parameter 'decoder_pred.weight' (expected one of the 3 parameter names, e.g. 'fc.weight', 'fc.bias', 'cls_token')",
    );
    const transposed = new Map([['fc.weight', tf.zeros([4, 3])]]);
    expect(() => opt.applyGradients({} as never)).toThrow(new TypeError('AdamW.applyGradients: gradients is {}: expected a Map<string, tf.Tensor> keyed by parameter name'));
    expect(() => opt.applyGradients(transposed)).toThrow("AdamW.applyGradients: gradient for 'fc.weight' has shape [4, 3], expected [3, 4] (the parameter's shape)");
    expect(opt.step).toBe(0);
    disposeGrads(unknown);
    disposeGrads(transposed);
    opt.dispose();
    expect(() => opt.applyGradients(new Map())).toThrow('AdamW.applyGradients: the optimizer has been disposed');
    tf.dispose([...vars.values()]);
  });

  it('keeps tf.memory().numTensors flat over 10 MAE training steps', () => {
    const model = new MaskedAutoencoder({ imgSize: 8, patchSize: 4, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 }, { seed: 1 });
    const images = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const vars = model.trainableVariables();
    const opt = new AdamW(model, { lr: 1e-3, groups: officialParamGroups(model) });
    const counts: number[] = [];
    for (let k = 0; k < 10; k++) {
      const { value, grads } = variableGradsByName(() => model.loss(images, { seed: k }), vars);
      opt.applyGradients(grads);
      tf.dispose([value, ...grads.values()]);
      counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual(counts.map(() => counts[0]));
    const before = tf.memory().numTensors;
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before - 2 * vars.size); // m and v of every parameter
    tf.dispose(images);
    model.dispose();
  });
});

describeEachBackend('officialParamGroups', () => {
  it('matches timm add_weight_decay: no decay on 1-D (official shape) parameters and biases', () => {
    const model = new MaskedAutoencoder({ imgSize: 8, patchSize: 4, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 });
    const groups = officialParamGroups(model);
    const opt = new AdamW(model, { lr: 1e-3, groups });
    const decay = opt.names().filter((n) => opt.groupOf(n) === 'decay');
    expect(decay).toEqual([
      'cls_token',
      'mask_token',
      'patch_embed.proj.weight',
      'blocks.0.attn.qkv.weight',
      'blocks.0.attn.proj.weight',
      'blocks.0.mlp.fc1.weight',
      'blocks.0.mlp.fc2.weight',
      'decoder_embed.weight',
      'decoder_blocks.0.attn.qkv.weight',
      'decoder_blocks.0.attn.proj.weight',
      'decoder_blocks.0.mlp.fc1.weight',
      'decoder_blocks.0.mlp.fc2.weight',
      'decoder_pred.weight',
    ].sort((x, y) => opt.names().indexOf(x) - opt.names().indexOf(y)));
    expect(groups('norm.weight', model.params.get('norm.weight').variable)).toBe('no_decay');
    expect(groups('decoder_pred.bias', model.params.get('decoder_pred.bias').variable)).toBe('no_decay');
    expect(opt.names()).not.toContain('pos_embed'); // fixed, not optimized
    expect(() => officialParamGroups({} as MaskedAutoencoder)).toThrow('officialParamGroups: expected a model with a params registry (e.g. a MaskedAutoencoder)');
    opt.dispose();
    model.dispose();
  });
});

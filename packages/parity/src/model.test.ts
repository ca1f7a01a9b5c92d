import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder, toOfficial } from '@maejs/mae';
import { patchify } from '@maejs/patchify';
import { describeEachBackend, expectClose, GPU_TEST_BACKENDS } from '../../../testing/backends.js';
import { tinyGray } from '../../../testing/golden.js';

// Golden README tolerances (float32).
const LOSS_RTOL = 1e-5;
const OUT_ATOL = 1e-5;
const OUT_RTOL = 1e-4;

/** Errors measured per check, printed once per backend for the closing notes and docs. */
const measured: Record<string, { maxAbs: number; maxRel: number }> = {};

describeEachBackend('tiny-gray golden forward', (backend) => {
  const { config, raw } = tinyGray.readCase();
  let images: tf.Tensor4D;
  let noise: tf.Tensor2D;

  beforeAll(() => {
    images = tinyGray.images();
    noise = tinyGray.noise();
  });
  afterAll(() => {
    tf.dispose([images, noise]);
    console.log(`[${backend}] measured errors vs official:\n${Object.entries(measured).map(([k, v]) => `  ${k}: max abs ${v.maxAbs.toExponential(2)}, max rel ${v.maxRel.toExponential(2)}`).join('\n')}`);
  });

  it('patchify reproduces the official target layout', async () => {
    const target = patchify(images, config.patchSize);
    const golden = tinyGray.npy('target.npy');
    expect(target.shape).toEqual(golden.shape);
    expect(Array.from(await target.data())).toEqual(Array.from(golden.data)); // a pure reordering: exact
    target.dispose();
  });

  for (const source of ['safetensors', 'pth'] as const) {
    it(`matches target, latent, pred, mask, ids_restore and loss (weights from .${source})`, async () => {
      const model = new MaskedAutoencoder(config);
      model.loadStateDict(source === 'pth' ? tinyGray.stateFromPth() : tinyGray.stateFromSafetensors());
      const out = model.forward(images, { noise });
      expect(Array.from(await out.mask.data())).toEqual(Array.from(tinyGray.npy('mask.npy').data));
      expect(out.idsRestore.dtype).toBe('int32');
      expect(Array.from(await out.idsRestore.data())).toEqual(Array.from(tinyGray.npy('ids_restore.npy').data));
      expect(out.latent.shape).toEqual(tinyGray.npy('latent.npy').shape);
      measured[`latent (${source})`] = expectClose('latent', await out.latent.data(), tinyGray.npy('latent.npy').data, OUT_ATOL, OUT_RTOL);
      measured[`pred (${source})`] = expectClose('pred', await out.pred.data(), tinyGray.npy('pred.npy').data, OUT_ATOL, OUT_RTOL);
      const loss = (await out.loss.data())[0];
      measured[`loss (${source})`] = expectClose('loss', [loss], [raw.values.loss], 0, LOSS_RTOL);
      tf.dispose(Object.values(out));
      model.dispose();
    });
  }

  it('matches the gradient of every trainable parameter', async () => {
    const model = new MaskedAutoencoder(config);
    model.loadStateDict(tinyGray.stateFromSafetensors());
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => model.loss(images, { noise }), [...vars.values()]);
    const golden = tinyGray.safetensors('grads.safetensors');
    expect(new Set(golden.keys())).toEqual(new Set(vars.keys()));
    let worst = { maxAbs: 0, maxRel: 0 };
    for (const [name, variable] of vars) {
      const g = grads[variable.name];
      const official = tf.tidy(() => toOfficial(model.params.get(name), g));
      const want = golden.get(name)!;
      expect(official.shape).toEqual(want.shape);
      let maxAbsGrad = 0;
      for (const v of want.data) maxAbsGrad = Math.max(maxAbsGrad, Math.abs(v));
      const r = expectClose(`grad ${name}`, await official.data(), want.data, 1e-5 * maxAbsGrad, 1e-4);
      worst = { maxAbs: Math.max(worst.maxAbs, r.maxAbs), maxRel: Math.max(worst.maxRel, r.maxAbs / (maxAbsGrad || 1)) };
      official.dispose();
    }
    measured['grads (max abs, max abs / max|g|)'] = worst;
    // The standalone patch-embedding gradient file, in the Conv2d layout [D, C, p, p].
    const pe = tf.tidy(() => toOfficial(model.params.get('patch_embed.proj.weight'), grads[vars.get('patch_embed.proj.weight')!.name]));
    expectClose('grad patch_embed.proj.weight', await pe.data(), tinyGray.npy('grad_patch_embed_proj_weight.npy').data, 1e-7, 1e-4);
    tf.dispose([value, pe, ...Object.values(grads)]);
    model.dispose();
  });

  // A forward+backward pass takes ~3 s on a software GPU adapter (SwiftShader): fewer passes there.
  const passes = GPU_TEST_BACKENDS.includes(backend) ? 3 : 10;
  it(`keeps the tensor count flat over ${passes} forward+backward passes`, async () => {
    const model = new MaskedAutoencoder(config);
    const vars = [...model.trainableVariables().values()];
    const step = () => {
      const { value, grads } = tf.variableGrads(() => model.loss(images, { noise }), vars);
      tf.dispose(Object.values(grads));
      return value;
    };
    step().dispose();
    const after1 = tf.memory().numTensors;
    for (let i = 1; i < passes - 1; i++) step().dispose();
    const last = step();
    expect(Number.isFinite((await last.data())[0])).toBe(true); // waits for the queued passes (GPU backends)
    last.dispose();
    expect(tf.memory().numTensors).toBe(after1);
    model.dispose();
  });

  it('state dict round-trips bit-exactly in the official layout and order', async () => {
    const model = new MaskedAutoencoder(config);
    const original = tinyGray.stateFromSafetensors();
    model.loadStateDict(original);
    const saved = await model.stateDict();
    expect([...saved.keys()]).toEqual([...original.keys()]);
    for (const [k, t] of original) {
      expect(saved.get(k)!.shape).toEqual(t.shape);
      expect(Buffer.from(saved.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
    }
    model.dispose();
  });
}, { gpu: true });

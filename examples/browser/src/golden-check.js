// The golden tiny-gray model check for the conformance kit: the official PyTorch MAE's forward
// outputs and gradients (../shared/golden/tiny-gray) against maejs on the active backend.
// Plain JavaScript (types in golden-check.d.ts). The golden files are parsed by the one golden
// parser of the repository's tests, testing/golden-case.ts: Vite compiles it into the page (it
// imports nothing from Node), and scripts/conformance-node.mjs bundles this file with esbuild
// to run it in Node. The case's bytes come from a `read(fileName)` function: fetch in the
// page, readFile in Node; nothing here touches a file system.
import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder, toOfficial } from '@maejs/mae';
import { GOLDEN_FILES, imagesFromNchw, loadGoldenCase } from '../../../testing/golden-case.ts';

/** Files of the case that the check reads; `loadGoldenCase(read)` reads the case through `read(fileName) -> bytes`. */
export { GOLDEN_FILES, loadGoldenCase };

/** The golden README's tolerances (float32 backends) or 1e-3 (webgl, webgpu). */
export function goldenTolerance(backend) {
  const gpu = backend === 'webgl' || backend === 'webgpu';
  return gpu
    ? { loss: { atol: 0, rtol: 1e-3 }, out: { atol: 1e-3, rtol: 1e-3 }, grad: { atol: 1e-3, rtol: 1e-3 } }
    : { loss: { atol: 0, rtol: 1e-5 }, out: { atol: 1e-5, rtol: 1e-4 }, grad: { atol: 1e-5, rtol: 1e-4 } };
}

/**
 * A GoldenCheck for runConformance: loss, pred, latent, mask and ids_restore of the forward
 * pass with the official noise, and (unless gradients: false) the gradient of every trainable
 * parameter, each scaled by its own max |g| (the golden README's criterion
 * |a - b| <= atol * max|g| + rtol * |b|).
 */
export function tinyGrayGoldenCheck(golden, options = {}) {
  return async ({ backend }) => {
    const tol = goldenTolerance(backend);
    const model = new MaskedAutoencoder(golden.config);
    const images = imagesFromNchw(golden.inputs); // NCHW -> NHWC
    const noise = tf.tensor2d(golden.noise.data, golden.noise.shape);
    try {
      model.loadStateDict(golden.state);
      const out = model.forward(images, { noise });
      const [loss, pred, mask, ids, latent] = await Promise.all([out.loss, out.pred, out.mask, out.idsRestore, out.latent].map((t) => t.data()));
      tf.dispose([out.loss, out.pred, out.mask, out.idsRestore, out.idsKeep, out.latent]);
      const rows = [
        { name: 'golden tiny-gray loss', actual: loss, expected: [golden.loss], tolerance: tol.loss },
        { name: 'golden tiny-gray pred [3,49,16]', actual: pred, expected: golden.pred.data, tolerance: tol.out },
        { name: 'golden tiny-gray latent [3,13,64]', actual: latent, expected: golden.latent.data, tolerance: tol.out },
        { name: 'golden tiny-gray mask', actual: mask, expected: golden.mask.data, exact: true },
        { name: 'golden tiny-gray ids_restore', actual: ids, expected: golden.idsRestore.data, exact: true },
      ];
      if (options.gradients !== false) {
        const vars = model.trainableVariables();
        const { value, grads } = tf.variableGrads(() => model.loss(images, { noise }), [...vars.values()]);
        const actual = [];
        const expected = [];
        for (const [name, variable] of vars) {
          const want = golden.grads.get(name);
          if (!want) throw new Error(`grads.safetensors has no gradient for ${name}`);
          const official = toOfficial(model.params.get(name), grads[variable.name]);
          const got = await official.data();
          official.dispose();
          let maxG = 0;
          for (const v of want.data) maxG = Math.max(maxG, Math.abs(v));
          maxG ||= 1;
          for (let i = 0; i < want.data.length; i++) {
            actual.push(got[i] / maxG);
            expected.push(want.data[i] / maxG);
          }
        }
        tf.dispose([value, ...Object.values(grads)]);
        rows.push({ name: `golden tiny-gray gradients of all ${vars.size} parameters (each / its max|g|)`, actual, expected, tolerance: tol.grad });
      }
      return rows;
    } finally {
      tf.dispose([images, noise]);
      model.dispose();
    }
  };
}

/**
 * One AdamW step on the tiny-gray golden case (official PyTorch MAE + torch.optim.AdamW),
 * procedure of case.json `train_step`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { tinyGray } from '../../../testing/golden.js';
import { officialParamGroups } from './index.js';
import { compareWeights, goldenStep, LOSS_RTOL, TINY_GRAD } from './test-utils/golden-step.js';

describeEachBackend('AdamW one step on the tiny-gray golden case', (backend) => {
  const { config, raw } = tinyGray.readCase();
  const train = raw.train_step;
  let images: tf.Tensor4D;
  let noise: tf.Tensor2D;
  let model: MaskedAutoencoder;
  const notes: string[] = [];

  beforeAll(() => {
    images = tinyGray.images();
    noise = tinyGray.noise();
    model = new MaskedAutoencoder(config);
  });
  afterAll(() => {
    tf.dispose([images, noise]);
    model.dispose();
    console.log(`[${backend}] AdamW golden step:\n${notes.map((n) => `  ${n}`).join('\n')}`);
  });

  it('plain AdamW on every parameter: loss after the step and every weight match torch', async () => {
    const step = await goldenStep(model, images, noise);
    const { before, after } = step;
    expectClose('loss before', [before], [train.loss_before], 0, LOSS_RTOL);
    const r = expectClose('loss after', [after], [train.loss_after], 0, LOSS_RTOL);
    expect(train.loss_after).toBe(2.10182523727417);
    const errors = compareWeights(model, step);
    notes.push(`plain: loss after ${after} (golden ${train.loss_after}, rel err ${r.maxRel.toExponential(2)})`);
    notes.push(`plain weights: max abs err ${errors.maxAbs.toExponential(2)}, max rel err ${errors.maxRel.toExponential(2)}; ${errors.tinyCount} elements with |grad| < ${TINY_GRAD} (qkv key-bias thirds and a few more): max abs err ${errors.tinyMaxAbs.toExponential(2)}`);
  });

  it('official main_pretrain parameter groups: loss after the step matches torch', async () => {
    const { after } = await goldenStep(model, images, noise, officialParamGroups(model));
    const golden = train.official_param_groups_variant.loss_after;
    expect(golden).toBe(2.101912260055542);
    const r = expectClose('loss after (official groups)', [after], [golden], 0, LOSS_RTOL);
    notes.push(`official groups: loss after ${after} (golden ${golden}, rel err ${r.maxRel.toExponential(2)})`);
  });
}, { gpu: true });

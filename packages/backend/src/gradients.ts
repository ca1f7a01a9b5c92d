import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import { gradientConfigs } from '../generated/tfjs-gradients.cjs';
import { LINEAR_GRADIENT, PERMUTE_TOKENS_GRADIENT } from './ops.js';

/**
 * Registers every tfjs-core gradient that is not registered yet.
 *
 * tfjs-core's Node entry registers no gradients (only the `@tensorflow/tfjs` umbrella does),
 * so without this `tf.grad` fails with "gradient function not found for Sum". Gradients that
 * are already registered (by the umbrella, or by the user) are left alone. Idempotent.
 *
 * @returns the number of gradients this call registered.
 */
export function registerTfjsGradients(): number {
  let added = 0;
  for (const config of gradientConfigs) {
    if (getGradient(config.kernelName) === undefined) {
      registerGradient(config);
      added++;
    }
  }
  return added;
}

/**
 * Registers the gradients of maejs's differentiable kernels (`MaejsLinear`, `MaejsPermuteTokens`)
 * with tfjs: they apply whichever implementation of the kernel ran (see kernel-registry.ts).
 * Idempotent; done on import of @maejs/backend.
 */
export function registerMaejsGradients(): void {
  for (const config of [LINEAR_GRADIENT, PERMUTE_TOKENS_GRADIENT]) {
    if (getGradient(config.kernelName) === undefined) registerGradient(config);
  }
}

import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import { gradientConfigs } from '../generated/tfjs-gradients.cjs';

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

/**
 * `@maejs/backend`: the bottom floor of maejs. Starts a tfjs backend, registers tfjs-core's
 * gradients (tfjs-core's Node entry has none), and provides the few ops maejs needs that
 * some backend lacks, written once for every backend.
 *
 * @module index
 */
import { registerMaejsGradients, registerTfjsGradients } from './gradients.js';
import { registerCpuMemoryKernels } from './kernels.js';

registerTfjsGradients();
registerMaejsGradients();
registerCpuMemoryKernels(); // nothing while switched off (MAEJS_KERNELS=off)

export { registerMaejsGradients, registerTfjsGradients } from './gradients.js';
export { BACKEND_NAMES, BackendUnavailableError, initBackend, listBackends } from './backends.js';
export type { BackendName, BackendStatus, InitBackendOptions } from './backends.js';
export { formatAdapter, SWIFTSHADER_ICD, WEBGPU_OPTIONS_ENV } from './webgpu-node.js';
export type { WebGpuAdapterInfo, WebGpuOptions } from './webgpu-node.js';
export { GPU_BACKENDS, isGpuBackend, resolveThreads, supportsDataParallel } from './threads.js';
export { detectEnvironment } from './environment.js';
export type { Environment } from './environment.js';
export { argsort, expandTo, inversePermutation, linear, permuteTokens, stableRanks, sumRows, tfSeed } from './ops.js';
export { adamwUpdate } from './adamw-update.js';
export { GELU_KERNELS, geluBackward, geluForward } from './gelu.js';
export type { AdamWScalars } from './adamw-update.js';
export { installWasmKernels } from './wasm-kernels.js';
export { RELAXED_SIMD_ENV, relaxedSimdSupport, useWasmKernelVariant, wasmKernelVariant } from './wasm-module.js';
export type { RelaxedSimdSupport, WasmKernelChoice, WasmKernelVariant } from './wasm-module.js';
export { countDeviceWork } from './device-counters.js';
export type { DeviceCounts } from './device-counters.js';
export { KERNELS_ENV, maejsKernelsEnabled, registeredMaejsKernels, replacedTfjsKernels, useMaejsKernels } from './kernels.js';
export { isOpLevelKernel } from './kernel-registry.js';
export {
  argumentMessage,
  checkBetas,
  checkFinite,
  checkInRange,
  checkInteger,
  checkNonNegative,
  checkOneOf,
  checkPositive,
  choicesExpectation,
  describeMismatch,
  failArgument,
  rangeError,
  sameShape,
  showShape,
  showValue,
  typeError,
} from './validate.js';
export type { ArgumentErrorMaker, IntervalBounds } from './validate.js';

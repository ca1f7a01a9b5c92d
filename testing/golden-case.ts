/**
 * The one parser of the golden cases made with the official PyTorch MAE code (see the golden
 * folder's README.md): case.json, the .npy arrays, the state dict (.safetensors or .pth),
 * grads.safetensors and the state dict after one AdamW step.
 *
 * It never touches a file system or the network: it takes the bytes of a case's files from a
 * `read(fileName)` function. Node tests pass a file-system reader (testing/golden.ts); the
 * browser example passes a fetch reader (examples/browser/src/golden-check.js, bundled by Vite),
 * so this module must import nothing from Node.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configFromOfficial, type MaeConfig, type StateTensor } from '@maejs/mae';
import { parseNpy, parseSafetensors, stateDictFromPth, type TensorRecord } from '@maejs/formats';

/** Bytes of one file of a golden case, e.g. `read('pred.npy')`. */
export type SyncGoldenReader = (file: string) => Uint8Array;
/** Bytes of one file of a golden case, synchronously or not (fetch in a page). */
export type GoldenReader = (file: string) => Uint8Array | Promise<Uint8Array>;

/** The golden case's case.json: `config` (official names), `values.loss`, `train_step`, key names, shapes. */
export type GoldenCaseJson = Record<string, any>;

/** Parsers of one golden case's files, each reading its bytes through `read` when called. */
export interface GoldenFiles {
  /** case.json, parsed. */
  caseJson(): GoldenCaseJson;
  /** The maejs config of case.json's official `config`, and case.json itself. */
  readCase(): { config: Readonly<MaeConfig>; raw: GoldenCaseJson };
  /** One .npy array, e.g. `npy('pred.npy')`. */
  npy(file: string): TensorRecord;
  /** The tensors of a .safetensors file (default `state_dict.safetensors`), as read. */
  safetensors(file?: string): Map<string, TensorRecord>;
  /** A .safetensors state dict (default `state_dict.safetensors`) for `loadStateDict`. */
  stateFromSafetensors(file?: string): Map<string, StateTensor>;
  /** A PyTorch .pth state dict (default `state_dict.pth`) for `loadStateDict`. */
  stateFromPth(file?: string): Map<string, StateTensor>;
  /** inputs.npy (NCHW) as the NHWC image batch maejs takes. */
  images(): tf.Tensor4D;
  /** noise.npy, the masking noise that replaces `torch.rand(N, L)`. */
  noise(): tf.Tensor2D;
}

function asState(tensors: Map<string, TensorRecord>): Map<string, StateTensor> {
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
}

/** NCHW images (inputs.npy) as an NHWC tensor. */
export function imagesFromNchw(r: TensorRecord): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(r.data as Float32Array, r.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** The parsers of one golden case whose files `read` returns. */
export function goldenFiles(read: SyncGoldenReader): GoldenFiles {
  const caseJson = (): GoldenCaseJson => JSON.parse(new TextDecoder().decode(read('case.json')));
  const npy = (file: string): TensorRecord => parseNpy(read(file), file);
  const safetensors = (file = 'state_dict.safetensors') => parseSafetensors(read(file), file).tensors;
  return {
    caseJson,
    readCase() {
      const raw = caseJson();
      return { config: configFromOfficial(raw.config), raw };
    },
    npy,
    safetensors,
    stateFromSafetensors: (file = 'state_dict.safetensors') => asState(safetensors(file)),
    stateFromPth: (file = 'state_dict.pth') => asState(stateDictFromPth(read(file), file).tensors),
    images: () => imagesFromNchw(npy('inputs.npy')),
    noise() {
      const r = npy('noise.npy');
      return tf.tensor2d(r.data as Float32Array, r.shape as [number, number]);
    },
  };
}

/** Files of the case that the forward + gradient check reads (`loadGoldenCase`'s default). */
export const GOLDEN_FILES = ['case.json', 'state_dict.safetensors', 'inputs.npy', 'noise.npy', 'pred.npy', 'mask.npy', 'ids_restore.npy', 'latent.npy', 'grads.safetensors'];

/** A golden case's forward outputs and gradients, parsed. */
export interface GoldenCase {
  config: Readonly<MaeConfig>;
  loss: number;
  state: Map<string, StateTensor>;
  /** NCHW. */
  inputs: TensorRecord;
  noise: TensorRecord;
  pred: TensorRecord;
  mask: TensorRecord;
  idsRestore: TensorRecord;
  latent: TensorRecord;
  grads: Map<string, TensorRecord>;
}

/** The forward outputs and gradients of a case whose files `read` returns. */
export function goldenCase(read: SyncGoldenReader): GoldenCase {
  const files = goldenFiles(read);
  const { config, raw } = files.readCase();
  return {
    config,
    loss: raw.values.loss,
    state: files.stateFromSafetensors(),
    inputs: files.npy('inputs.npy'),
    noise: files.npy('noise.npy'),
    pred: files.npy('pred.npy'),
    mask: files.npy('mask.npy'),
    idsRestore: files.npy('ids_restore.npy'),
    latent: files.npy('latent.npy'),
    grads: files.safetensors('grads.safetensors'),
  };
}

/** Reads `files` through an asynchronous reader (all at once) and returns a synchronous reader of their bytes. */
export async function prefetchGolden(read: GoldenReader, files: readonly string[]): Promise<SyncGoldenReader> {
  const bytes = new Map(await Promise.all(files.map(async (f) => [f, await read(f)] as const)));
  return (file) => {
    const b = bytes.get(file);
    if (!b) throw new Error(`golden file ${file} was not read (read: ${files.join(', ')})`);
    return b;
  };
}

/** `goldenCase` over a reader that may be asynchronous (the page's fetch): reads GOLDEN_FILES first. */
export async function loadGoldenCase(read: GoldenReader): Promise<GoldenCase> {
  return goldenCase(await prefetchGolden(read, GOLDEN_FILES));
}

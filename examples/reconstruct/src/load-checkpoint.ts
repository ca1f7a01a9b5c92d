/**
 * A MaskedAutoencoder from a checkpoint on disk, in any layout @maejs/weights reads: an official
 * state dict (`.pth` from facebookresearch/mae, `.safetensors`), maejs's own export
 * (`model.safetensors` with the config in its metadata), or a Hugging Face ViTMAE folder
 * (`model.safetensors` or `pytorch_model.bin` beside `config.json`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadEncoderStateDict, MaskedAutoencoder, preset } from '@maejs/mae';
import { analyzeCheckpoint, importCheckpoint, maeStateOf, type ImportedCheckpoint } from '@maejs/weights';

/** What {@link loadMae} returns. */
export interface LoadedMae {
  model: MaskedAutoencoder;
  /** Remarks on the checkpoint: decoder absent, fields taken from the preset or defaults. */
  notes: string[];
  /** False for encoder-only checkpoints: the decoder keeps its random initialisation. */
  decoderLoaded: boolean;
}

/**
 * The tiny-gray state dict made with the official PyTorch code (28x28 gray, encoder 64x2, decoder
 * 32x1, 4 heads each), from the golden cases beside this repository (`../shared/golden`, or the
 * folder `MAEJS_GOLDEN` names). Its weights are the official random initialisation: it proves the
 * loading path, not the quality of a reconstruction.
 */
export function goldenTinyGray(): string {
  const golden = process.env.MAEJS_GOLDEN ?? resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'golden');
  return join(golden, 'tiny-gray', 'state_dict.pth');
}

function importFile(path: string): ImportedCheckpoint {
  if (!existsSync(path)) throw new Error(`checkpoint ${path} does not exist`);
  if (!statSync(path).isDirectory()) return importCheckpoint(readFileSync(path), path);
  const weights = ['model.safetensors', 'pytorch_model.bin'].map((f) => join(path, f)).find((f) => existsSync(f));
  if (!weights) throw new Error(`checkpoint folder ${path} holds neither model.safetensors nor pytorch_model.bin (the Hugging Face layout)`);
  const config = join(path, 'config.json');
  return importCheckpoint(readFileSync(weights), weights, existsSync(config) ? { hfConfig: { bytes: readFileSync(config), source: config } } : {});
}

/**
 * Reads the checkpoint, infers the architecture from its tensor shapes (the head counts, which
 * shapes do not determine, come from what the file declares, else from the preset `presetName`),
 * builds the model and loads the weights. An encoder-only checkpoint loads with a random decoder.
 */
export function loadMae(path: string, presetName: string): LoadedMae {
  const imported = importFile(path);
  const analysis = analyzeCheckpoint(imported, {}, preset(presetName));
  const model = new MaskedAutoencoder(analysis.config);
  const report = loadEncoderStateDict(model, maeStateOf(imported, analysis).state);
  return { model, notes: analysis.notes, decoderLoaded: report.decoderLoaded };
}

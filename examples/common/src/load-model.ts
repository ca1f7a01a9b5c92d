/**
 * The model an example runs, from `loadPretrained` (@maejs/weights/node). It takes a Hugging Face
 * id (`hf:facebook/vit-mae-base`), an official checkpoint name (`mae_visualize_vit_base`), an
 * http(s) URL, or a local file or folder in any layout @maejs/weights reads (official `.pth` /
 * `.safetensors`, maejs's `model.safetensors`, a Hugging Face folder, tfjs `model.json`). Remote
 * files are downloaded once into the cache (`~/.cache/maejs/hub`, or `$MAEJS_CACHE/hub`) and read
 * from there afterwards, offline too.
 */
import { join, resolve } from 'node:path';
import { loadPretrained, type Pretrained } from '@maejs/weights/node';

/**
 * The tiny-gray state dict made with the official PyTorch code (28x28 gray, encoder 64x2, decoder
 * 32x1), from the golden cases beside this repository (`../shared/golden`, or the folder
 * `MAEJS_GOLDEN` names). Its weights are the official random initialisation: it proves the
 * loading path, not the quality of what the model computes.
 */
export function goldenTinyGray(): string {
  const golden = process.env.MAEJS_GOLDEN ?? resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'golden');
  return join(golden, 'tiny-gray', 'state_dict.pth');
}

/**
 * Loads `source` (default: {@link goldenTinyGray}). `preset` gives what the tensors do not
 * determine (the attention head counts) when the files do not declare it; official names bring
 * their own. With `offline`, remote sources are read from the cache only.
 */
export async function loadModel(source: string | undefined, preset: string | undefined, offline: boolean): Promise<Pretrained> {
  const reported = new Set<string>();
  return loadPretrained(source ?? goldenTinyGray(), {
    // tiny-gray's head counts (4 and 4) are not in its tensors; mae_tiny_28 has the same.
    preset: preset ?? (source === undefined ? 'mae_tiny_28' : undefined),
    offline,
    onProgress: (event) => {
      if (event.cached || event.bytesTotal === null || event.bytesDone < event.bytesTotal || reported.has(event.file)) return;
      reported.add(event.file);
      console.log(`downloaded ${event.file} of ${event.source} (${(event.bytesTotal / 2 ** 20).toFixed(1)} MiB)`);
    },
  });
}

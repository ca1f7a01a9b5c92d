/**
 * Official and HF checkpoints in and out, on the tiny-gray golden state dict (official PyTorch
 * MAE): .pth and .safetensors agree; HF-layout exports load back to the same function; official
 * and HF round trips are bit-exact; encoder-only and training checkpoints; tfjs artifacts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isDecoderKey, loadEncoderStateDict, MaskedAutoencoder, resizeStateDictPosEmbed, type MaeConfig, type StateTensor } from '@maejs/mae';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { analyzeCheckpoint, CheckpointError, exportSafetensors, exportTfjsArtifacts, importCheckpoint, importTfjsArtifacts, maeStateOf, type ImportedCheckpoint } from './checkpoint.js';
import { hfToOfficial, officialToHf } from './hf-vitmae.js';
import { parseNpy, parseSafetensors, type TensorRecord, WeightsFormatError } from '@maejs/formats';
import { readGolden, tinyGray } from '../../../testing/golden.js';
import { buildPth, float32Bytes, type TensorSpec, writeStateDictPickle } from '../../formats/src/test-utils/pth-builder.js';
import { parseTfjsModel, tfjsFilesFromArtifacts } from './tfjs-format.js';

const heads = { numHeads: 4, decoderNumHeads: 4 };
const caseJson = tinyGray.caseJson();

/** Bit-level equality of two tensor maps: same keys in the same order, shapes, dtypes and bytes. */
function expectSameTensors(a: Map<string, { shape: number[]; data: Float32Array | Int32Array }>, b: Map<string, { shape: number[]; data: Float32Array | Int32Array }>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of a) {
    const u = b.get(k)!;
    expect({ k, shape: t.shape }).toEqual({ k, shape: u.shape });
    expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength))).toBe(true);
  }
}

const golden = () => importCheckpoint(readGolden('state_dict.safetensors'), 'state_dict.safetensors');
const stateOf = (imported: ImportedCheckpoint) => maeStateOf(imported, analyzeCheckpoint(imported, heads)).state;

/** Writes `files` as a map name -> bytes. */
const filesByName = (files: { name: string; bytes: Uint8Array }[]) => new Map(files.map((f) => [f.name, f.bytes]));

describe('official checkpoints in', () => {
  it('tiny-gray from .pth and from .safetensors gives identical tensors (keys, order, shapes, bits)', () => {
    const pth = importCheckpoint(readGolden('state_dict.pth'), 'state_dict.pth');
    const st = golden();
    expect(pth).toMatchObject({ format: 'pth', layout: 'official', wrapper: null, skipped: [] });
    expect(st).toMatchObject({ format: 'safetensors', layout: 'official' });
    expect(pth.tensors.size).toBe(50);
    expectSameTensors(pth.tensors, st.tensors);
  });

  it('infers the tiny-gray architecture; the head counts must be given, and the error names the file', () => {
    expect(() => analyzeCheckpoint(golden())).toThrow(CheckpointError);
    expect(() => analyzeCheckpoint(golden())).toThrow(/^state_dict\.safetensors: numHeads is not determined by the tensors/);
    const r = analyzeCheckpoint(golden(), heads);
    const c = caseJson.config;
    expect(r.config).toEqual({ imgSize: c.img_size, patchSize: c.patch_size, inChans: c.in_chans, embedDim: c.embed_dim, depth: c.depth, numHeads: c.num_heads, decoderEmbedDim: c.decoder_embed_dim, decoderDepth: c.decoder_depth, decoderNumHeads: c.decoder_num_heads, mlpRatio: c.mlp_ratio, normPixLoss: false, maskRatio: 0.75, layerNormEps: 1e-6 });
  });

  it('unwraps a training checkpoint {model, optimizer, epoch} and reports the other entries', () => {
    const st = golden().tensors;
    const storages: Record<string, Uint8Array> = {};
    const specs: TensorSpec[] = [...st].map(([key, t], i) => {
      storages[String(i)] = float32Bytes(t.data);
      const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      return { key, storageClass: 'FloatStorage', storageKey: String(i), storageNumel: t.data.length, offset: 0, size: t.shape, stride };
    });
    const pickle = writeStateDictPickle(specs, { key: 'model', extra: [['optimizer', { dict: [['state', { dict: [] }], ['lr', 1]] }], ['epoch', 399]] });
    const imported = importCheckpoint(buildPth(pickle, storages), 'checkpoint-399.pth');
    expect(imported.wrapper).toBe('model');
    expectSameTensors(imported.tensors, st);
    expect(analyzeCheckpoint(imported, heads).hasDecoder).toBe(true);
  });

  it('encoder-only (as mae_pretrain_vit_*.pth): decoder reported absent, only numHeads needed', () => {
    const enc = new Map([...golden().tensors].filter(([k]) => !isDecoderKey(k)));
    const bytes = exportSafetensors(new Map([...enc].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])), { ...analyzeCheckpoint(golden(), heads).config }, 'official')[0].bytes;
    const imported = importCheckpoint(bytes, 'mae_pretrain_vit_tiny.safetensors');
    const r = analyzeCheckpoint(imported, { numHeads: 4 });
    expect(r.hasDecoder).toBe(false);
    expect(r.notes[0]).toMatch(/^decoder absent/);
    expect(maeStateOf(imported, r).state.size).toBe(30);
  });

  it('fine-tuned keys (head.*) are kept on import, reported, and dropped from the MAE state', () => {
    const st = new Map<string, TensorRecord>(golden().tensors);
    st.set('head.weight', { dtype: 'float32', shape: [10, 64], data: new Float32Array(640) });
    st.set('head.bias', { dtype: 'float32', shape: [10], data: new Float32Array(10) });
    const imported: ImportedCheckpoint = { ...golden(), tensors: st };
    const r = analyzeCheckpoint(imported, heads);
    expect(r.extraKeys).toEqual(['head.weight', 'head.bias']);
    expect(r.notes.join('\n')).toMatch(/fine-tuned classifier head present/);
    expect(maeStateOf(imported, r).dropped).toEqual(['head.weight', 'head.bias']);
  });

  it('a misshapen or missing encoder tensor is a CheckpointError listing each problem', () => {
    const st = new Map<string, TensorRecord>(golden().tensors);
    st.delete('norm.bias');
    st.set('blocks.1.mlp.fc2.bias', { dtype: 'float32', shape: [65], data: new Float32Array(65) });
    const imported: ImportedCheckpoint = { ...golden(), tensors: st };
    expect(() => maeStateOf(imported, analyzeCheckpoint(imported, heads))).toThrow(/^state_dict\.safetensors: does not match the inferred config:\n  missing key: norm\.bias\n  wrong shape for blocks\.1\.mlp\.fc2\.bias: expected \[64\], got \[65\]/);
  });
});

describe('Hugging Face ViTMAE layout', () => {
  const config = () => analyzeCheckpoint(golden(), heads).config;

  it('writes the transformers key names and config.json fields', () => {
    const files = filesByName(exportSafetensors(stateOf(golden()), config(), 'hf'));
    const { tensors, metadata } = parseSafetensors(files.get('model.safetensors')!, 'model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()].slice(0, 6)).toEqual(['vit.embeddings.cls_token', 'vit.embeddings.position_embeddings', 'vit.embeddings.patch_embeddings.projection.weight', 'vit.embeddings.patch_embeddings.projection.bias', 'vit.encoder.layer.0.attention.attention.query.weight', 'vit.encoder.layer.0.attention.attention.query.bias']);
    const names = [...tensors.keys()];
    for (const k of ['vit.encoder.layer.1.attention.output.dense.weight', 'vit.encoder.layer.1.intermediate.dense.weight', 'vit.encoder.layer.1.output.dense.bias', 'vit.encoder.layer.1.layernorm_before.weight', 'vit.encoder.layer.1.layernorm_after.bias', 'vit.layernorm.weight', 'decoder.mask_token', 'decoder.decoder_pos_embed', 'decoder.decoder_embed.weight', 'decoder.decoder_layers.0.attention.attention.value.bias', 'decoder.decoder_norm.weight', 'decoder.decoder_pred.bias']) {
      expect(names).toContain(k);
    }
    expect(tensors.size).toBe(50 + 4 * 3); // each of the 3 qkv weight/bias pairs becomes three
    expect(tensors.get('vit.encoder.layer.0.attention.attention.key.weight')!.shape).toEqual([64, 64]);
    const qkv = golden().tensors.get('blocks.0.attn.qkv.weight')!.data;
    expect(tensors.get('vit.encoder.layer.0.attention.attention.value.weight')!.data).toEqual(qkv.slice(2 * 64 * 64));
    const hfConfig = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    expect(hfConfig).toMatchObject({ model_type: 'vit_mae', architectures: ['ViTMAEForPreTraining'], hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, image_size: 28, patch_size: 4, num_channels: 1, decoder_hidden_size: 32, decoder_num_hidden_layers: 1, decoder_num_attention_heads: 4, decoder_intermediate_size: 128, layer_norm_eps: 1e-6, norm_pix_loss: false, mask_ratio: 0.75, hidden_act: 'gelu', qkv_bias: true });
  });

  it('round trip HF -> maejs -> HF is bit-exact, and the import equals the golden official tensors', () => {
    const first = filesByName(exportSafetensors(stateOf(golden()), config(), 'hf'));
    const imported = importCheckpoint(first.get('model.safetensors')!, 'model.safetensors', { hfConfig: { bytes: first.get('config.json')!, source: 'config.json' } });
    expect(imported).toMatchObject({ layout: 'hf', declaredBy: 'config.json' });
    expectSameTensors(imported.tensors, golden().tensors);
    const analysis = analyzeCheckpoint(imported); // the heads come from config.json
    expect(analysis.config).toEqual(config());
    const second = filesByName(exportSafetensors(maeStateOf(imported, analysis).state, analysis.config, 'hf'));
    expect(Buffer.from(second.get('model.safetensors')!).equals(Buffer.from(first.get('model.safetensors')!))).toBe(true);
    expect(Buffer.from(second.get('config.json')!).equals(Buffer.from(first.get('config.json')!))).toBe(true);
  });

  it('takes layer_norm_eps (1e-12 default in HF) and absent fields from the ViTMAEConfig defaults', () => {
    const files = filesByName(exportSafetensors(stateOf(golden()), config(), 'hf'));
    const json = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    delete json.layer_norm_eps;
    const imported = importCheckpoint(files.get('model.safetensors')!, 'model.safetensors', { hfConfig: { bytes: new TextEncoder().encode(JSON.stringify(json)), source: 'config.json' } });
    expect(analyzeCheckpoint(imported).config.layerNormEps).toBe(1e-12);
  });

  it('accepts a bare ViTMAEModel state dict (no vit. prefix, no decoder)', () => {
    const hf = officialToHf(new Map([...golden().tensors].filter(([k]) => !isDecoderKey(k))));
    const bare = new Map([...hf].map(([k, t]) => [k.replace(/^vit\./, ''), t] as [string, TensorRecord]));
    expectSameTensors(hfToOfficial(bare, 'bare'), new Map([...golden().tensors].filter(([k]) => !isDecoderKey(k))));
  });

  it('refuses a qkv with a part missing, naming the file and the keys', () => {
    const hf = officialToHf(golden().tensors);
    hf.delete('vit.encoder.layer.1.attention.attention.key.bias');
    expect(() => hfToOfficial(hf, 'model.safetensors')).toThrow(WeightsFormatError);
    expect(() => hfToOfficial(hf, 'model.safetensors')).toThrow(/^model\.safetensors: 'blocks\.1\.attn\.qkv\.bias' needs .*; missing 'vit\.encoder\.layer\.1\.attention\.attention\.key\.bias'/);
  });

  it.each([
    [{ hidden_act: 'relu' }, /^config\.json: hidden_act is "relu"; maejs implements only "gelu"/],
    [{ qkv_bias: false }, /qkv_bias is false/],
    [{ model_type: 'vit' }, /model_type is "vit"; expected "vit_mae"/],
    [{ hidden_size: 'big' }, /field 'hidden_size' is "big"; expected a number/],
    [{ decoder_intermediate_size: 100 }, /the decoder MLP ratio .* differs from the encoder's \(4\)/],
  ])('refuses config.json %j with a message naming the field', (patch, message) => {
    const files = filesByName(exportSafetensors(stateOf(golden()), config(), 'hf'));
    const json = { ...JSON.parse(new TextDecoder().decode(files.get('config.json'))), ...patch };
    const run = () => importCheckpoint(files.get('model.safetensors')!, 'model.safetensors', { hfConfig: { bytes: new TextEncoder().encode(JSON.stringify(json)), source: 'config.json' } });
    expect(run).toThrow(WeightsFormatError);
    expect(run).toThrow(message);
  });

  it('a config.json that contradicts the tensors is an error naming the field', () => {
    const files = filesByName(exportSafetensors(stateOf(golden()), config(), 'hf'));
    const json = { ...JSON.parse(new TextDecoder().decode(files.get('config.json'))), hidden_size: 768, intermediate_size: 3072 };
    const imported = importCheckpoint(files.get('model.safetensors')!, 'model.safetensors', { hfConfig: { bytes: new TextEncoder().encode(JSON.stringify(json)), source: 'config.json' } });
    expect(() => analyzeCheckpoint(imported)).toThrow(/^model\.safetensors: the given config contradicts the checkpoint:\n  embedDim is 768 in the given config but 64 in the checkpoint/);
    expect(() => importCheckpoint(files.get('model.safetensors')!, 'model.safetensors', { hfConfig: { bytes: new TextEncoder().encode('{"a":'), source: 'config.json' } })).toThrow(/^config\.json: is not valid JSON/);
  });
});

describe('tfjs format', () => {
  it('model.json + shards round trip is bit-exact and carries the config', () => {
    const config = analyzeCheckpoint(golden(), heads).config;
    const { modelJson, shards } = tfjsFilesFromArtifacts(exportTfjsArtifacts(stateOf(golden()), config), { shardBytes: 100_000 });
    expect(shards.map(([n]) => n)).toEqual(['group1-shard1of5.bin', 'group1-shard2of5.bin', 'group1-shard3of5.bin', 'group1-shard4of5.bin', 'group1-shard5of5.bin']);
    const byName = new Map(shards);
    const { tensors, metadata, format } = parseTfjsModel(modelJson, (p) => byName.get(p));
    expect(format).toBe('maejs-state-dict');
    expect(metadata).toEqual({ layout: 'official', config: { ...config } });
    expectSameTensors(tensors, golden().tensors);
  });

  it('through tfjs-core IO handlers: withSaveHandler -> fromMemory, with the config declared', async () => {
    const config = analyzeCheckpoint(golden(), heads).config;
    let saved: tf.io.ModelArtifacts | undefined;
    const handler = tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    });
    const { saveStateDictTfjs, loadStateDictTfjs } = await import('./tfjs-io.js');
    await saveStateDictTfjs(stateOf(golden()), handler, { layout: 'official', config: { ...config } });
    const loaded = await loadStateDictTfjs(tf.io.fromMemory(saved!), 'memory');
    expectSameTensors(loaded.tensors, golden().tensors);
    const imported = importTfjsArtifacts(saved!, 'memory');
    expect(analyzeCheckpoint(imported).config).toEqual(config);
    await expect(saveStateDictTfjs(stateOf(golden()), 'nowhere://x')).rejects.toThrow(/^nowhere:\/\/x: no tfjs save handler for this URL here/);
  });

  it('routes a URL scheme to a registered handler (as indexeddb:// and downloads:// are in a browser)', async () => {
    const store = new Map<string, tf.io.ModelArtifacts>();
    const handler = (url: string): tf.io.IOHandler => ({
      save: async (a) => (store.set(url, a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      load: async () => store.get(url)!,
    });
    // tfjs routers return null for URLs they do not handle (the IORouter type omits that).
    const router = ((url: string | string[]) => (typeof url === 'string' && url.startsWith('testmem://') ? handler(url) : null)) as unknown as Parameters<typeof tf.io.registerSaveRouter>[0];
    tf.io.registerSaveRouter(router);
    tf.io.registerLoadRouter(router);
    const { saveStateDictTfjs, loadStateDictTfjs } = await import('./tfjs-io.js');
    await saveStateDictTfjs(stateOf(golden()), 'testmem://tiny');
    expectSameTensors((await loadStateDictTfjs('testmem://tiny')).tensors, golden().tensors);
  });
});

describeEachBackend('checkpoints compute the golden function', () => {
  const images = () => {
    const r = parseNpy(readGolden('inputs.npy'), 'inputs.npy');
    return tf.tidy(() => tf.transpose(tf.tensor4d(r.data as Float32Array, r.shape as [number, number, number, number]), [0, 2, 3, 1]));
  };
  const noise = () => {
    const r = parseNpy(readGolden('noise.npy'), 'noise.npy');
    return tf.tensor2d(r.data as Float32Array, r.shape as [number, number]);
  };
  const want = (f: string) => parseNpy(readGolden(f), f).data;

  /** Forward pass on the golden inputs; checks pred, latent and loss against the official outputs. */
  async function expectGoldenForward(config: MaeConfig, state: Map<string, StateTensor>): Promise<void> {
    const model = new MaskedAutoencoder(config);
    model.loadStateDict(state);
    const [x, n] = [images(), noise()];
    const out = model.forward(x, { noise: n });
    expectClose('pred', await out.pred.data(), want('pred.npy'), 1e-5, 1e-4);
    expectClose('latent', await out.latent.data(), want('latent.npy'), 1e-5, 1e-4);
    expectClose('loss', await out.loss.data(), [caseJson.values.loss], 0, 1e-5);
    tf.dispose([x, n, ...Object.values(out)]);
    model.dispose();
  }

  it('an HF-layout export of tiny-gray, loaded back, gives the golden pred, latent and loss', async () => {
    const config = analyzeCheckpoint(golden(), heads).config;
    const files = filesByName(exportSafetensors(stateOf(golden()), config, 'hf'));
    const imported = importCheckpoint(files.get('model.safetensors')!, 'model.safetensors', { hfConfig: { bytes: files.get('config.json')!, source: 'config.json' } });
    const analysis = analyzeCheckpoint(imported);
    await expectGoldenForward(analysis.config, maeStateOf(imported, analysis).state);
  });

  it('official -> maejs -> official is bit-exact (model.loadStateDict, model.stateDict, safetensors)', async () => {
    const imported = importCheckpoint(readGolden('state_dict.pth'), 'state_dict.pth');
    const analysis = analyzeCheckpoint(imported, heads);
    const model = new MaskedAutoencoder(analysis.config);
    model.loadStateDict(maeStateOf(imported, analysis).state);
    const [file] = exportSafetensors(await model.stateDict(), model.config, 'official');
    model.dispose();
    const again = importCheckpoint(file.bytes, 'model.safetensors');
    expectSameTensors(again.tensors, imported.tensors);
    expect(again.declared).toEqual(analysis.config); // maejs_config metadata
    await expectGoldenForward(analyzeCheckpoint(again).config, maeStateOf(again, analyzeCheckpoint(again)).state);
  });

  it('an encoder-only checkpoint loads with loadEncoderStateDict and gives the golden latent', async () => {
    const enc = new Map([...stateOf(golden())].filter(([k]) => !isDecoderKey(k)));
    const config = analyzeCheckpoint(golden(), heads).config;
    const model = new MaskedAutoencoder(config, { seed: 7 });
    expect(loadEncoderStateDict(model, enc).decoderLoaded).toBe(false);
    const [x, n] = [images(), noise()];
    const { latent, mask, idsRestore, idsKeep } = model.forwardEncoder(x, { noise: n });
    expectClose('latent', await latent.data(), want('latent.npy'), 1e-5, 1e-4);
    tf.dispose([x, n, latent, mask, idsRestore, idsKeep]);
    model.dispose();
  });

  it('resized to 56 px (sincos or bicubic position embeddings), the golden weights run at the new size', async () => {
    const config = analyzeCheckpoint(golden(), heads).config;
    for (const method of ['sincos', 'bicubic'] as const) {
      const resized = resizeStateDictPosEmbed(stateOf(golden()), 4, 56, method);
      const model = new MaskedAutoencoder({ ...config, imgSize: 56 });
      model.loadStateDict(resized);
      const x = tf.tidy(() => tf.image.resizeBilinear(tf.slice(images(), [0, 0, 0, 0], [1, 28, 28, 1]), [56, 56]) as tf.Tensor4D);
      const out = model.forward(x, { seed: 1 });
      expect(out.pred.shape).toEqual([1, 196, 16]);
      expect(Number.isFinite((await out.loss.data())[0])).toBe(true);
      tf.dispose([x, ...Object.values(out)]);
      model.dispose();
    }
  });
});

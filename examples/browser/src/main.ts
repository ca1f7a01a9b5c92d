/**
 * The maejs browser example: pick a tfjs backend, train the 28x28 MAE on the bundled
 * Fashion-MNIST sample with a live loss chart and reconstruction grid, load weights from a
 * file or a pretrained model by hub id, official name or URL (downloaded once with a progress
 * bar, kept in the Cache API), reconstruct your own images, save to / restore from IndexedDB,
 * download weights, and run the backend conformance kit. Everything through the packages'
 * public entry points.
 *
 * `window.maejsApp` exposes the same actions to the browser tests (scripts/browser-test.mjs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork, type DeviceCounts } from '@maejs/backend';
import { formatReport, runConformance, type ConformanceReport } from '@maejs/backend/conformance';
import { createAugmentation, FASHION_MNIST_MEAN, FASHION_MNIST_STD, IMAGENET_MEAN, IMAGENET_STD, pairImagesAndLabels, parseIdx, uint8ImageDataset, type LabelledImages } from '@maejs/data';
import { loadEncoderStateDict, MaskedAutoencoder, maeTiny28, type MaeConfig } from '@maejs/mae';
import { decodeCheckpoint, newestFirst, pretrain, reconstructionGrid, type TrainEvent } from '@maejs/trainer';
import { analyzeCheckpoint, exportSafetensors, importCheckpoint, loadPretrained, maeStateOf, type DownloadProgress } from '@maejs/weights';
import { backendInfo, startBackend, type BackendInfo, type PageBackend } from './backends.js';
import { loadGoldenCase, tinyGrayGoldenCheck } from './golden-check.js';
import { IndexedDbCheckpointStore } from './idb-store.js';
import { drawLossChart, drawRgba, imagesToBatch } from './images.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const SAMPLE = { images: 'data/fashion-mnist-sample-images-idx3-ubyte.gz', labels: 'data/fashion-mnist-sample-labels-idx1-ubyte.gz' };
const WEIGHTS_KEY = 'weights.safetensors';

/** What one training run measured (also read by the browser tests). */
export interface TrainingSummary {
  backend: string;
  batchSize: number;
  steps: number;
  losses: number[];
  /** Wall time of each update (batch preparation, forward, backward, AdamW, loss read-back), ms. */
  stepMs: number[];
  /** tf.memory().numTensors after each update. */
  numTensors: number[];
  imagesPerSec: number;
  stopped: boolean;
  checkpoint: string | null;
}

const state = {
  backend: null as BackendInfo | null,
  model: null as MaskedAutoencoder | null,
  modelSource: '',
  sample: null as LabelledImages | null,
  training: false,
  stopRequested: false,
  lastTraining: null as TrainingSummary | null,
  userFiles: [] as File[],
  store: new IndexedDbCheckpointStore(),
  errors: [] as string[],
};

// ---------------------------------------------------------------------------------------
// Errors: shown in the page, never a blank screen

function showError(context: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const text = `${context}: ${message}`;
  state.errors.push(text);
  const box = $('error');
  box.textContent = text;
  box.hidden = false;
  console.error(text, error);
}

function clearError(): void {
  $('error').hidden = true;
  $('error').textContent = '';
}

window.addEventListener('error', (e) => showError('Unexpected error', e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => showError('Unexpected error', e.reason));

/**
 * Runs an action from a button; errors go to the error box. `document.body.dataset.busy` counts
 * the actions still running, so a test (or a user script) can wait for the page to settle.
 */
function action<A extends unknown[]>(context: string, body: (...args: A) => Promise<unknown>) {
  return async (...args: A) => {
    document.body.dataset.busy = String(Number(document.body.dataset.busy ?? 0) + 1);
    clearError();
    try {
      await body(...args);
    } catch (error) {
      showError(context, error);
    } finally {
      document.body.dataset.busy = String(Number(document.body.dataset.busy) - 1);
    }
  };
}

// ---------------------------------------------------------------------------------------
// Backend

async function useBackend(name: PageBackend): Promise<BackendInfo> {
  $('backend-name').textContent = `starting ${name}…`;
  try {
    state.backend = await startBackend(name);
  } catch (error) {
    state.backend = tf.getBackend() ? await backendInfo() : null;
    showBackend();
    throw error;
  }
  showBackend();
  return state.backend;
}

function showBackend(): void {
  const info = state.backend;
  $('backend-name').textContent = info ? info.name : 'none';
  $('backend-renderer').textContent = info?.renderer ? `— ${info.renderer}` : '';
  const flags = info ? Object.entries(info.flags).map(([k, v]) => `${k}=${String(v)}`) : [];
  $('backend-flags').textContent = `${flags.join(', ')}${flags.length ? '; ' : ''}WebGPU adapter ${info?.webgpuAvailable ? 'available' : 'not available (Chromium: --enable-unsafe-webgpu)'}`;
  ($('backend-select') as HTMLSelectElement).value = info?.name ?? 'auto';
}

// ---------------------------------------------------------------------------------------
// Data and model

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function loadSample(): Promise<LabelledImages> {
  if (!state.sample) {
    const [images, labels] = await Promise.all([fetchBytes(SAMPLE.images), fetchBytes(SAMPLE.labels)]);
    state.sample = pairImagesAndLabels(parseIdx(images, SAMPLE.images), parseIdx(labels, SAMPLE.labels), { images: SAMPLE.images, labels: SAMPLE.labels });
  }
  return state.sample;
}

function normalisation(config: Readonly<MaeConfig>): { mean: readonly number[]; std: readonly number[] } {
  return config.inChans === 1 ? { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD } : { mean: IMAGENET_MEAN, std: IMAGENET_STD };
}

function setModel(model: MaskedAutoencoder, source: string): void {
  if (state.model && state.model !== model) state.model.dispose();
  state.model = model;
  state.modelSource = source;
  const c = model.config;
  $('model-info').textContent = `${source} — ${c.imgSize}x${c.imgSize}x${c.inChans}, patch ${c.patchSize}, encoder ${c.embedDim}x${c.depth} (${c.numHeads} heads), decoder ${c.decoderEmbedDim}x${c.decoderDepth} (${c.decoderNumHeads} heads), ${c.normPixLoss ? 'norm-pix' : 'plain'} loss, ${model.params.count().toLocaleString()} parameters`;
}

/** The model to train: the current one if it takes 28x28 gray images, else a new mae_tiny_28. */
function trainableModel(): MaskedAutoencoder {
  const m = state.model;
  if (m && m.config.imgSize === 28 && m.config.inChans === 1) return m;
  setModel(new MaskedAutoencoder({ ...maeTiny28, normPixLoss: true }, { seed: 0 }), 'new mae_tiny_28 (seed 0)');
  return state.model!;
}

/** Sample images [n, 28, 28, 1], normalised, from the bundled set (no augmentation). */
async function sampleBatch(count: number, offset = 0): Promise<tf.Tensor4D> {
  const s = await loadSample();
  const px = s.height * s.width;
  const data = new Float32Array(count * px);
  for (let i = 0; i < count * px; i++) data[i] = (s.images[offset * px + i] / 255 - FASHION_MNIST_MEAN[0]) / FASHION_MNIST_STD[0];
  return tf.tensor4d(data, [count, s.height, s.width, 1]);
}

// ---------------------------------------------------------------------------------------
// Training

class StopTraining extends Error {}

async function train(options: { batchSize?: number; steps?: number; lr?: number; refreshEvery?: number } = {}): Promise<TrainingSummary> {
  if (state.training) throw new Error('a training run is already going');
  const batchSize = options.batchSize ?? Number(($('batch') as HTMLInputElement).value);
  const steps = options.steps ?? Number(($('steps') as HTMLInputElement).value);
  const lr = options.lr ?? Number(($('lr') as HTMLInputElement).value);
  const refreshEvery = Math.max(1, options.refreshEvery ?? Number(($('refresh') as HTMLInputElement).value));
  if (!state.backend) await useBackend('auto');
  const sample = await loadSample();
  const model = trainableModel();
  const dataset = uint8ImageDataset(sample.images, sample.labels, [sample.n, sample.height, sample.width]);
  const augment = createAugmentation({ size: 28, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD });
  const stepsPerEpoch = Math.floor(sample.n / batchSize);
  if (stepsPerEpoch < 1) throw new Error(`batch ${batchSize} is larger than the ${sample.n} sample images`);
  const epochs = Math.max(1, Math.ceil(steps / stepsPerEpoch));
  const preview = await sampleBatch(4);
  const summary: TrainingSummary = { backend: tf.getBackend(), batchSize, steps, losses: [], stepMs: [], numTensors: [], imagesPerSec: 0, stopped: false, checkpoint: null };
  state.lastTraining = summary;
  state.training = true;
  state.stopRequested = false;
  ($('train-btn') as HTMLButtonElement).disabled = true;
  ($('stop-btn') as HTMLButtonElement).disabled = false;
  document.body.dataset.train = 'running';
  const grid = async () => {
    drawRgba($('recon') as HTMLCanvasElement, await reconstructionGrid(model, preview, { maskRatio: 0.75, seed: 1, ...normalisation(model.config) }));
  };
  await grid();
  let lastEnd = performance.now();
  const onEvent = async (event: TrainEvent) => {
    if (event.type === 'step') {
      summary.stepMs.push(performance.now() - lastEnd);
      summary.losses.push(event.loss);
      summary.numTensors.push(tf.memory().numTensors);
      summary.imagesPerSec = event.imagesPerSec;
      const ms = summary.stepMs[summary.stepMs.length - 1];
      $('train-stats').textContent = `${summary.backend}: update ${event.step}/${steps}  loss ${event.loss.toFixed(4)}  lr ${event.lr.toExponential(2)}  ${(1000 * batchSize / ms).toFixed(1)} images/s (${(ms / 1000).toFixed(2)} s/update at batch ${batchSize}; mean ${event.imagesPerSec.toFixed(1)} images/s)  tensors ${tf.memory().numTensors}`;
      drawLossChart($('loss-chart') as HTMLCanvasElement, summary.losses);
      if (event.step % refreshEvery === 0 || event.step === steps) await grid();
      await tf.nextFrame(); // let the page paint and handle input between updates
      if (state.stopRequested) throw new StopTraining('stopped');
      lastEnd = performance.now();
    } else if (event.type === 'checkpoint') {
      summary.checkpoint = event.name;
    }
  };
  try {
    await pretrain({
      model,
      dataset,
      augment,
      store: state.store,
      config: { epochs, batchSize, lr, minLr: lr / 10, warmupEpochs: 0, weightDecay: 0.05, seed: 0, maxSteps: steps, keepCheckpoints: 2 },
      onEvent,
    });
    setModel(model, `trained in this page (${summary.losses.length} updates on ${summary.backend})`);
  } catch (error) {
    if (!(error instanceof StopTraining)) throw error;
    summary.stopped = true;
    setModel(model, `trained in this page (${summary.losses.length} updates on ${summary.backend}, stopped)`);
  } finally {
    preview.dispose();
    state.training = false;
    ($('train-btn') as HTMLButtonElement).disabled = false;
    ($('stop-btn') as HTMLButtonElement).disabled = true;
    document.body.dataset.train = 'done';
  }
  return summary;
}

/** What {@link countTrainingWork} measured. */
export interface TrainingWork {
  backend: string;
  batchSize: number;
  steps: number;
  logEvery: number;
  counts: DeviceCounts;
  losses: number[];
  seconds: number;
}

/**
 * `steps` updates of a new mae_tiny_28 (norm-pix) on the bundled sample, through `pretrain`
 * with nothing else on the page (no figures, no checkpoints), counting the reads, kernels and
 * GPU programs the backend is asked for (countDeviceWork from @maejs/backend).
 */
async function countTrainingWork(options: { batchSize: number; steps: number; logEvery: number }): Promise<TrainingWork> {
  if (!state.backend) await useBackend('auto');
  const sample = await loadSample();
  const dataset = uint8ImageDataset(sample.images, sample.labels, [sample.n, sample.height, sample.width]);
  const augment = createAugmentation({ size: 28, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD });
  const model = new MaskedAutoencoder({ ...maeTiny28, normPixLoss: true }, { seed: 0 });
  const losses: number[] = [];
  const started = performance.now();
  try {
    const { counts } = await countDeviceWork(() =>
      pretrain({
        model,
        dataset,
        augment,
        config: { epochs: 1, batchSize: options.batchSize, lr: 1e-3, warmupEpochs: 0, maxSteps: options.steps, logEvery: options.logEvery },
        onEvent: (e) => void (e.type === 'step' && losses.push(e.loss)),
      }),
    );
    return { backend: tf.getBackend(), ...options, counts, losses, seconds: (performance.now() - started) / 1000 };
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// Weights: files, IndexedDB, download

/** Official-layout state dict + the maejs config as metadata (readable by safetensors.torch.load_file), through `exportSafetensors`. */
async function encodeWeights(model: MaskedAutoencoder): Promise<Uint8Array> {
  return exportSafetensors(await model.stateDict(), model.config, 'official')[0].bytes;
}

/** A head-count field of the page: undefined when empty, else a positive whole number. */
function headsField(id: 'enc-heads' | 'dec-heads'): number | undefined {
  const text = ($(id) as HTMLInputElement).value.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${id === 'enc-heads' ? 'encoder' : 'decoder'} heads: '${text}' is not a positive whole number`);
  return value;
}

/**
 * The head counts typed into the page, as the `given` config of a checkpoint import: they win
 * over what the file declares. Empty fields give nothing; the library then takes the counts from
 * the file (maejs metadata, an HF config.json) or, for an official checkpoint name, its preset,
 * and refuses a checkpoint that gives none.
 */
function givenHeads(): Partial<MaeConfig> {
  const given: Partial<MaeConfig> = {};
  const numHeads = headsField('enc-heads');
  const decoderNumHeads = headsField('dec-heads');
  if (numHeads !== undefined) given.numHeads = numHeads;
  if (decoderNumHeads !== undefined) given.decoderNumHeads = decoderNumHeads;
  return given;
}

/**
 * Builds a model from checkpoint bytes (.safetensors or .pth, official or HF layout) with
 * `importCheckpoint`, `analyzeCheckpoint` and `maeStateOf`: sizes from the tensor shapes, head
 * counts from the heads fields or the file, normPixLoss from the file or else the norm-pix box.
 * Throws readable errors naming the file (e.g. when no head count is known).
 */
function modelFromBytes(bytes: Uint8Array, source: string): MaskedAutoencoder {
  if (bytes.length === 0) throw new Error(`${source}: the file is empty`);
  const imported = importCheckpoint(bytes, source);
  const analysis = analyzeCheckpoint(imported, givenHeads(), { normPixLoss: ($('norm-pix') as HTMLInputElement).checked });
  const { state: tensors } = maeStateOf(imported, analysis);
  const model = new MaskedAutoencoder(analysis.config);
  try {
    if (analysis.hasDecoder) model.loadStateDict(tensors);
    else loadEncoderStateDict(model, tensors);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

async function loadWeightsFile(file: File): Promise<void> {
  const model = modelFromBytes(new Uint8Array(await file.arrayBuffer()), file.name);
  setModel(model, `loaded from ${file.name}`);
  await reconstructUser();
}

/** What {@link loadFromSource} loaded (also read by the browser tests). */
export interface PretrainedLoad {
  source: string;
  files: { name: string; url: string; location: string; size: number; sha256?: string; fromCache: boolean }[];
  notes: string[];
  events: DownloadProgress[];
}

const megabytes = (n: number) => (n / 1e6).toFixed(1);

/**
 * A pretrained model by source: `hf:owner/name[@revision]`, an official checkpoint name or an
 * http(s) URL, through `loadPretrained` (files downloaded once, with the progress bar, and kept in
 * the Cache API). The head-count fields complete a bare state dict; `endpoint` picks the hub.
 */
async function loadFromSource(source: string, options: { endpoint?: string } = {}): Promise<PretrainedLoad> {
  const text = source.trim();
  if (!text) throw new Error('type a source: hf:<owner>/<name>[@revision], an official checkpoint name (mae_visualize_vit_base, ...) or an https URL');
  if (!state.backend) await useBackend('auto');
  const bar = $('hub-progress') as HTMLProgressElement;
  const status = $('hub-status');
  const config = givenHeads();
  const events: DownloadProgress[] = [];
  bar.hidden = false;
  bar.removeAttribute('value');
  status.textContent = `loading ${text}…`;
  (document.getElementById('hub-load') as HTMLButtonElement).disabled = true;
  try {
    const loaded = await loadPretrained(text, {
      ...options,
      config,
      onProgress: (e) => {
        events.push(e);
        if (e.bytesTotal) {
          bar.max = e.bytesTotal;
          bar.value = e.bytesDone;
        }
        status.textContent = e.cached ? `${e.file}: from the browser cache` : `${e.file}: ${megabytes(e.bytesDone)} of ${e.bytesTotal === null ? '?' : megabytes(e.bytesTotal)} MB`;
      },
    });
    const cached = loaded.files.every((f) => f.fromCache);
    setModel(loaded.model, `loaded from ${loaded.source}${cached ? ' (browser cache)' : ''}`);
    bar.max = 1;
    bar.value = 1;
    status.textContent = `${loaded.files.map((f) => `${f.name} (${megabytes(f.size)} MB, ${f.fromCache ? 'from the browser cache' : 'downloaded'})`).join(', ')}${loaded.notes.length ? `; ${loaded.notes.join('; ')}` : ''}`;
    const c = loaded.model.config;
    if (state.userFiles.length || (c.imgSize === 28 && c.inChans === 1)) await reconstructUser();
    else status.textContent += `; drop ${c.imgSize}x${c.imgSize} images below to reconstruct them`;
    return { source: loaded.source, files: loaded.files.map(({ name, url, location, size, sha256, fromCache }) => ({ name, url, location, size, sha256, fromCache })), notes: loaded.notes, events };
  } catch (error) {
    bar.hidden = true;
    status.textContent = '';
    throw error;
  } finally {
    (document.getElementById('hub-load') as HTMLButtonElement).disabled = false;
  }
}

async function saveToIndexedDb(): Promise<void> {
  if (!state.model) throw new Error('there is no model yet: train or load one first');
  await state.store.save(WEIGHTS_KEY, await encodeWeights(state.model));
  $('model-info').textContent += ' — saved to IndexedDB';
}

async function restoreFromIndexedDb(): Promise<string> {
  const names = await state.store.list();
  if (names.includes(WEIGHTS_KEY)) {
    setModel(modelFromBytes(await state.store.load(WEIGHTS_KEY), `IndexedDB ${WEIGHTS_KEY}`), `restored from IndexedDB (${WEIGHTS_KEY})`);
    return WEIGHTS_KEY;
  }
  const newest = newestFirst(names)[0];
  if (!newest) throw new Error('IndexedDB holds no saved weights or training checkpoint yet: train, or press Save first');
  const checkpoint = decodeCheckpoint(await state.store.load(newest), `IndexedDB ${newest}`);
  const model = new MaskedAutoencoder(checkpoint.meta.model);
  model.loadStateDict(checkpoint.model);
  setModel(model, `restored from IndexedDB (${newest}, update ${checkpoint.meta.step})`);
  return newest;
}

async function download(): Promise<void> {
  if (!state.model) throw new Error('there is no model yet: train or load one first');
  const bytes = await encodeWeights(state.model);
  const url = URL.createObjectURL(new Blob([bytes.slice().buffer], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `maejs-weights-${state.model.config.imgSize}px-${state.model.params.count()}params.safetensors`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------------------------------------------------------------------------------------
// Reconstruction of user images

async function reconstructUser(): Promise<void> {
  if (!state.backend) await useBackend('auto');
  const model = state.model ?? trainableModel();
  const c = model.config;
  const norm = normalisation(c);
  const maskRatio = Number(($('mask-ratio') as HTMLInputElement).value);
  const invert = ($('invert') as HTMLInputElement).checked;
  let images: tf.Tensor4D;
  if (state.userFiles.length) images = await imagesToBatch(state.userFiles, c.imgSize, c.inChans, norm.mean, norm.std, invert);
  else if (c.imgSize === 28 && c.inChans === 1) images = await sampleBatch(6, 100);
  else throw new Error(`the model takes ${c.imgSize}x${c.imgSize}x${c.inChans} images: drop some images to reconstruct`);
  try {
    drawRgba($('user-recon') as HTMLCanvasElement, await reconstructionGrid(model, images, { maskRatio, seed: 7, ...norm }));
  } finally {
    images.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// Conformance

async function conformance(options: { goldenBase?: string | null; only?: string[] } = {}): Promise<ConformanceReport> {
  if (!state.backend) await useBackend('auto');
  const base = options.goldenBase === undefined ? 'golden/tiny-gray/' : options.goldenBase;
  let golden;
  let note = '';
  if (base !== null) {
    try {
      golden = tinyGrayGoldenCheck(await loadGoldenCase((f) => fetchBytes(`${base}${f}`)));
    } catch (error) {
      note = `(golden model check skipped: ${(error as Error).message})\n`;
    }
  }
  const out = $('conformance-out');
  out.textContent = `running on ${tf.getBackend()}…\n`;
  const report = await runConformance({ golden, only: options.only, onCheck: (c) => (out.textContent += `${c.status} ${c.name}\n`) });
  out.textContent = note + formatReport(report);
  return report;
}

// ---------------------------------------------------------------------------------------
// Wiring

function wire(): void {
  $('backend-start').addEventListener('click', action('Could not start the backend', () => useBackend(($('backend-select') as HTMLSelectElement).value as PageBackend)));
  $('train-btn').addEventListener('click', action('Training failed', () => train()));
  $('stop-btn').addEventListener('click', () => (state.stopRequested = true));
  $('save-idb').addEventListener('click', action('Could not save to IndexedDB', saveToIndexedDb));
  $('restore-idb').addEventListener('click', action('Could not restore from IndexedDB', async () => {
    await restoreFromIndexedDb();
    await reconstructUser();
  }));
  $('download').addEventListener('click', action('Could not download the weights', download));
  const weightsInput = $('weights-file') as HTMLInputElement;
  weightsInput.addEventListener('change', action('Could not load the weights', async () => {
    const file = weightsInput.files?.[0];
    if (file) await loadWeightsFile(file);
  }));
  const hubSource = $('hub-source') as HTMLInputElement;
  const loadSource = action('Could not load the pretrained model', () => loadFromSource(hubSource.value));
  $('hub-load').addEventListener('click', loadSource);
  hubSource.addEventListener('keydown', (e) => void (e.key === 'Enter' && loadSource()));
  const imagesInput = $('images-file') as HTMLInputElement;
  const setImages = action('Could not reconstruct the images', async (files: File[]) => {
    state.userFiles = files.filter((f) => f.type.startsWith('image/') || /\.(png|jpe?g|gif|webp|bmp)$/i.test(f.name));
    if (!state.userFiles.length) throw new Error(`none of ${files.map((f) => f.name).join(', ')} is an image`);
    await reconstructUser();
  });
  imagesInput.addEventListener('change', () => setImages([...(imagesInput.files ?? [])]));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void setImages([...(e.dataTransfer?.files ?? [])]);
  });
  const slider = $('mask-ratio') as HTMLInputElement;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const redraw = action('Could not reconstruct the images', reconstructUser);
  slider.addEventListener('input', () => {
    $('mask-ratio-value').textContent = Number(slider.value).toFixed(2);
    clearTimeout(pending);
    pending = setTimeout(redraw, 150);
  });
  $('reconstruct-btn').addEventListener('click', action('Could not reconstruct the images', reconstructUser));
  $('conformance-btn').addEventListener('click', action('Conformance run failed', () => conformance()));
  drawLossChart($('loss-chart') as HTMLCanvasElement, []);
}

/** The test hooks (scripts/browser-test.mjs) — the same actions the buttons run. */
const api = {
  state,
  tf,
  useBackend,
  backendInfo: () => backendInfo(),
  train,
  countTrainingWork,
  conformance,
  reconstructUser,
  saveToIndexedDb,
  restoreFromIndexedDb,
  modelFromBytes,
  loadFromSource,
  encodeWeights: async () => (state.model ? encodeWeights(state.model) : null),
};
(window as unknown as { maejsApp: typeof api }).maejsApp = api;

wire();
const requested = (new URLSearchParams(location.search).get('backend') ?? 'auto') as PageBackend;
useBackend(requested)
  .then(() => (document.body.dataset.status = 'ready'))
  .catch((error) => {
    showError(`Could not start the ${requested} backend`, error);
    document.body.dataset.status = 'error';
  });

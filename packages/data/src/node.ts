/**
 * `@maejs/data/node`: the Node-only parts (file system, dataset lookup and download, PNG/JPEG
 * folders, `.npy` files), plus everything of the browser-safe core for convenience.
 *
 * @module node
 */
export * from './index.js';
export {
  loadFashionMnist,
  loadMnist,
  loadBundledSample,
  bundledSampleFiles,
  datasetSearchPlaces,
  userCacheRoot,
  splitFileNames,
  DatasetNotFoundError,
  type IdxDataset,
  type IdxDatasetName,
  type LoadIdxDatasetOptions,
  type SearchPlace,
  type Split,
} from './datasets.js';
export { downloadVerified, sha256Hex, DownloadError, type DownloadSpec, type FetchLike, type FetchedResponse } from './download.js';
export { loadIdxFile } from './idx-files.js';
export { loadImageFolder, type ImageFolder, type ImageFolderOptions } from './image-folder.js';
export { decodeImage, imageKind, rgbaToFloat, DEFAULT_MAX_PIXELS, type ImageKind, type RgbaImage } from './image-decode.js';
export { loadNpyImages, type LoadNpyOptions, type NpyDataset } from './npy-files.js';
export { packageRoot } from './package-root.js';

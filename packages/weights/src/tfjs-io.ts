/**
 * Saving and loading state dicts through tfjs-core's IO handlers: `indexeddb://name`,
 * `downloads://name`, `localstorage://name` in the browser, `http(s)://` for loading, or any
 * handler object (Node: the CLI's file handler; tests: `tf.io.withSaveHandler`, `tf.io.fromMemory`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { stateFromTfjsArtifacts, tfjsArtifactsFromState, type TfjsStateContents, type TfjsWritableTensor } from './tfjs-format.js';

/** The one save handler for `destination`, or an error saying which URL schemes work here. */
function saveHandlerFor(destination: string | tf.io.IOHandler): tf.io.IOHandler {
  if (typeof destination !== 'string') return destination;
  const handlers = tf.io.getSaveHandlers(destination);
  if (handlers.length === 1 && handlers[0].save) return handlers[0];
  if (handlers.length > 1) throw new Error(`${destination}: ${handlers.length} tfjs save handlers match this URL; pass a handler object`);
  throw new Error(`${destination}: no tfjs save handler for this URL here (in a browser: indexeddb://, downloads://, localstorage://; in Node pass a handler object, e.g. the mae CLI's file handler)`);
}

/** The one load handler for `source`. */
function loadHandlerFor(source: string | tf.io.IOHandler): tf.io.IOHandler {
  if (typeof source !== 'string') return source;
  const handlers = tf.io.getLoadHandlers(source);
  if (handlers.length === 1 && handlers[0].load) return handlers[0];
  if (handlers.length > 1) throw new Error(`${source}: ${handlers.length} tfjs load handlers match this URL; pass a handler object`);
  throw new Error(`${source}: no tfjs load handler for this URL here (in a browser: indexeddb://, localstorage://, http(s)://; in Node pass a handler object)`);
}

/**
 * Saves a state dict (official names and layout) in the tfjs weights format through a tfjs IO
 * handler or URL. `metadata` (e.g. `{ layout: 'official', config }`) is stored in
 * `userDefinedMetadata.maejs`.
 */
export async function saveStateDictTfjs(state: Iterable<[string, TfjsWritableTensor]>, destination: string | tf.io.IOHandler, metadata: Record<string, unknown> = {}): Promise<tf.io.SaveResult> {
  const handler = saveHandlerFor(destination);
  return handler.save!(tfjsArtifactsFromState(state, metadata));
}

/**
 * Loads a state dict saved in the tfjs weights format through a handler or URL. The artifacts are
 * validated like a file (specs, sizes); errors start with `name`.
 */
export async function loadStateDictTfjs(source: string | tf.io.IOHandler, name = typeof source === 'string' ? source : 'model.json'): Promise<TfjsStateContents> {
  const artifacts = await loadHandlerFor(source).load!();
  return stateFromTfjsArtifacts(artifacts, name);
}

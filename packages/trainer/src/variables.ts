/** Named trainable variables and gradient maps keyed by the same (official) names. */
import * as tf from '@tensorflow/tfjs-core';
import { failArgument, sameShape, showShape, typeError } from '@maejs/backend';

/** Something that has named trainable variables: a `Map` or a model (e.g. `MaskedAutoencoder`). */
export type VariableSource =
  | ReadonlyMap<string, tf.Variable>
  | {
      /** The trainable variables by parameter name. */
      trainableVariables(): ReadonlyMap<string, tf.Variable>;
    };

/** The named variables of `source`, in its order (a fresh Map; the variables are not copied). */
export function resolveVariables(source: VariableSource): Map<string, tf.Variable> {
  const map = source instanceof Map ? source : (source as { trainableVariables(): ReadonlyMap<string, tf.Variable> }).trainableVariables();
  if (!(map instanceof Map)) throw new TypeError('expected a Map<string, tf.Variable> or an object with trainableVariables(), got neither');
  return new Map(map);
}

/**
 * Checks a gradient map against the variables it is meant for: every name must be known, and
 * every gradient must be a float32 tensor with the variable's shape. Names may be missing (a
 * parameter without gradient is skipped, as a PyTorch parameter whose `.grad` is None).
 */
export function checkGradients(who: string, variables: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>): void {
  if (!(grads instanceof Map)) failArgument(`${who}: gradients`, grads, 'a Map<string, tf.Tensor> keyed by parameter name', typeError);
  for (const [name, g] of grads) {
    const variable = variables.get(name);
    if (!variable) {
      const known = [...variables.keys()];
      const sample = known.slice(0, 3).map((k) => `'${k}'`).join(', ');
      throw new Error(`${who}: gradient for unknown parameter '${name}' (expected one of the ${known.length} parameter names, e.g. ${sample})`);
    }
    if (!(g instanceof tf.Tensor) || g.isDisposed) throw new Error(`${who}: gradient for '${name}' must be a live tf.Tensor`);
    if (!sameShape(g.shape, variable.shape)) {
      throw new Error(`${who}: gradient for '${name}' has shape ${showShape(g.shape)}, expected ${showShape(variable.shape)} (the parameter's shape)`);
    }
    if (g.dtype !== 'float32') throw new Error(`${who}: gradient for '${name}' has dtype ${g.dtype}, expected float32`);
  }
}

/**
 * `tf.variableGrads` with the gradients keyed by parameter name instead of the tfjs variable
 * name. `f` returns the scalar loss; a variable the loss does not depend on gets no entry; the caller owns (and disposes) `value` and every gradient.
 */
export function variableGradsByName(f: () => tf.Scalar, variables: ReadonlyMap<string, tf.Variable>): { value: tf.Scalar; grads: Map<string, tf.Tensor> } {
  const { value, grads } = tf.variableGrads(f, [...variables.values()]);
  const named = new Map<string, tf.Tensor>();
  for (const [name, variable] of variables) {
    const g = grads[variable.name];
    if (g) named.set(name, g); // absent when the loss does not depend on the variable
  }
  return { value, grads: named };
}

import { checkFeatureSet, checkFiniteValues, checkImageSet, checkLabels, checkSameDim, type FeatureSet } from './labelled-sets.js';

/** Asserts that `check` throws a TypeError with exactly `message`. */
function expectTypeError(check: () => unknown, message: string): void {
  expect(check).toThrow(TypeError);
  expect(check).toThrow(message);
}

const features = (n: number, dim: number): FeatureSet => ({ features: new Float32Array(n * dim), labels: new Int32Array(n), dim });

describe('labelled set checks', () => {
  it('accept a well-formed feature set and return N and int32 labels', () => {
    const { n, labels } = checkFeatureSet('train', { features: new Float32Array(6), labels: [0, 2, 1], dim: 2 }, 3);
    expect(n).toBe(3);
    expect(labels).toEqual(new Int32Array([0, 2, 1]));
  });

  it('name a set, features or labels of the wrong kind (TypeError)', () => {
    expectTypeError(() => checkFeatureSet('train', null as never, 2), 'train is null: expected { features: Float32Array, labels, dim }');
    expectTypeError(() => checkFeatureSet('train', { features: [0, 1], labels: [0], dim: 2 } as never, 2), 'train.features is [0, 1]: expected a Float32Array [N, dim]');
    expectTypeError(() => checkLabels('train', 5 as never, 2), 'train.labels is 5: expected an array of class indices');
    expectTypeError(() => checkImageSet('test', 'images' as never, [2, 2, 1], 2), 'test is "images": expected { images: Float32Array, labels }');
    expectTypeError(() => checkImageSet('test', { images: new Float64Array(4), labels: [0] } as never, [2, 2, 1], 2), 'test.images is a Float64Array of length 4: expected a Float32Array [N, H, W, C]');
  });

  it('name a bad dim, an empty set, a length mismatch, a bad label and a non-finite value', () => {
    expect(() => checkFeatureSet('train', { ...features(1, 2), dim: 0 }, 2)).toThrow('train.dim is 0: expected an integer >= 1');
    expect(() => checkFeatureSet('train', features(0, 2), 2)).toThrow('train.labels.length is 0: expected at least 1');
    expect(() => checkFeatureSet('train', { ...features(2, 2), dim: 3 }, 2)).toThrow('train.features.length is 4: expected labels.length x dim = 2 x 3 = 6');
    expect(() => checkLabels('train', [0, 1.5], 2)).toThrow('train.labels[1] is 1.5: expected an integer in [0, numClasses) = [0, 2); is numClasses too small?');
    expect(() => checkImageSet('test', { images: new Float32Array(3), labels: [0] }, [2, 2, 1], 2)).toThrow('test.images.length is 3: expected labels.length x H x W x C = 1 x 2 x 2 x 1 = 4 (NHWC)');
    expect(() => checkFiniteValues('test.images', new Float32Array([0, Infinity]))).toThrow('test.images[1] is Infinity: expected a finite number');
    expect(() => checkSameDim(features(1, 2), features(1, 3))).toThrow('test.dim is 3: expected train.dim = 2 (both sets must have the same feature length)');
  });
});

import {
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
  sameShape,
  showShape,
  showValue,
  typeError,
  type ArgumentErrorMaker,
} from './index.js';

/** The error `check` throws (fails the test when it throws none). */
function thrown(check: () => void): Error {
  try {
    check();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the check to throw');
}

describe('showValue', () => {
  it('prints numbers as JavaScript does, strings quoted, arrays item by item', () => {
    expect([NaN, Infinity, -Infinity, -0, 1e-8, 2.5].map(showValue)).toEqual(['NaN', 'Infinity', '-Infinity', '-0', '1e-8', '2.5']);
    expect(showValue('mean')).toBe('"mean"');
    expect(showValue([0.9, NaN])).toBe('[0.9, NaN]');
    expect(showValue(['a', [1, 2]])).toBe('["a", [1, 2]]');
    expect(showValue([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe('[1, 2, 3, 4, 5, 6, 7, 8, ... (10 items)]');
  });

  it('prints null, undefined, booleans, bigints, functions, objects and class instances', () => {
    expect([null, undefined, true, 3n].map(showValue)).toEqual(['null', 'undefined', 'true', '3n']);
    expect(showValue(function lr() {})).toBe('a function (lr)');
    expect(showValue({ a: 1, b: 'x' })).toBe('{"a":1,"b":"x"}');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(showValue(cycle)).toBe('an object');
    expect(showValue(new Map())).toBe('a Map');
    expect(showValue(new Float32Array(3))).toBe('a Float32Array of length 3');
    expect(showValue(new DataView(new ArrayBuffer(12)))).toBe('a DataView of 12 bytes');
  });
});

describe('the argument message', () => {
  it('is `<what> is <value>: expected <expectation>`', () => {
    expect(argumentMessage('linearProbe: lr', NaN, 'a finite number > 0')).toBe('linearProbe: lr is NaN: expected a finite number > 0');
    expect(describeMismatch('x', 'a number')).toBe('is "x": expected a number');
  });

  it('failArgument throws it as a RangeError unless given another error maker', () => {
    const error = thrown(() => failArgument('k', 0, 'at most 5'));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('k is 0: expected at most 5');
    const configTypeError: ArgumentErrorMaker = (what, value, expected) => new TypeError(argumentMessage(`config.${what}`, value, expected));
    const typed = thrown(() => failArgument('k', 'five', 'an integer', configTypeError));
    expect(typed).toBeInstanceOf(TypeError);
    expect(typed.message).toBe('config.k is "five": expected an integer');
    const wrongKind = thrown(() => failArgument('images', [1, 2], 'a Float32Array', typeError));
    expect(wrongKind).toBeInstanceOf(TypeError);
    expect(wrongKind.message).toBe('images is [1, 2]: expected a Float32Array');
  });
});

describe('number checks', () => {
  it('checkFinite refuses NaN, infinities and non-numbers', () => {
    expect(() => checkFinite('x', 0)).not.toThrow();
    expect(() => checkFinite('x', NaN)).toThrow('x is NaN: expected a finite number');
    expect(() => checkFinite('x', -Infinity)).toThrow('x is -Infinity: expected a finite number');
    expect(() => checkFinite('x', '1')).toThrow('x is "1": expected a finite number');
  });

  it('checkPositive refuses 0, negatives, NaN, Infinity and strings', () => {
    expect(() => checkPositive('lr', 1e-3)).not.toThrow();
    expect(() => checkPositive('lr', 0)).toThrow('lr is 0: expected a finite number > 0');
    expect(() => checkPositive('lr', -1)).toThrow('lr is -1: expected a finite number > 0');
    expect(() => checkPositive('lr', NaN)).toThrow('lr is NaN: expected a finite number > 0');
    expect(() => checkPositive('lr', Infinity)).toThrow('lr is Infinity: expected a finite number > 0');
    expect(() => checkPositive('lr', '0.1')).toThrow('lr is "0.1": expected a finite number > 0');
  });

  it('checkNonNegative accepts 0 and refuses negatives, NaN and Infinity', () => {
    expect(() => checkNonNegative('weightDecay', 0)).not.toThrow();
    expect(() => checkNonNegative('weightDecay', -0.05)).toThrow('weightDecay is -0.05: expected a finite number >= 0');
    expect(() => checkNonNegative('weightDecay', NaN)).toThrow('weightDecay is NaN: expected a finite number >= 0');
    expect(() => checkNonNegative('weightDecay', Infinity)).toThrow('weightDecay is Infinity: expected a finite number >= 0');
  });

  it('checkInteger refuses floats, strings and values outside [min, max], naming the bounds it has', () => {
    expect(() => checkInteger('epochs', 3, 1)).not.toThrow();
    expect(() => checkInteger('epochs', 2.5, 1)).toThrow('epochs is 2.5: expected an integer >= 1');
    expect(() => checkInteger('epochs', 0, 1)).toThrow('epochs is 0: expected an integer >= 1');
    expect(() => checkInteger('epochs', '3', 1)).toThrow('epochs is "3": expected an integer >= 1');
    expect(() => checkInteger('epochs', NaN, 1)).toThrow('epochs is NaN: expected an integer >= 1');
    expect(() => checkInteger('seed', 0.5)).toThrow('seed is 0.5: expected an integer');
    expect(() => checkInteger('start', 10, 0, 9)).toThrow('start is 10: expected an integer in [0, 9]');
    expect(() => checkInteger('offset', 3, undefined, 2)).toThrow('offset is 3: expected an integer <= 2');
  });

  it('checkInRange names the interval with its open and closed ends', () => {
    expect(() => checkInRange('maskRatio', 0, 0, 1, '[)')).not.toThrow();
    expect(() => checkInRange('maskRatio', 1, 0, 1, '[)')).toThrow('maskRatio is 1: expected a number in [0, 1)');
    expect(() => checkInRange('layerDecay', 0, 0, 1, '(]')).toThrow('layerDecay is 0: expected a number in (0, 1]');
    expect(() => checkInRange('p', 1, 0, 1, '()')).toThrow('p is 1: expected a number in (0, 1)');
    expect(() => checkInRange('epoch', 400.5, 0, 400)).toThrow('epoch is 400.5: expected a number in [0, 400]');
    expect(() => checkInRange('epoch', NaN, 0, 400)).toThrow('epoch is NaN: expected a number in [0, 400]');
    expect(() => checkInRange('maxNorm', Infinity, 0, Infinity, '(]')).not.toThrow();
  });
});

describe('checkOneOf', () => {
  it('lists the choices: one, two (with "or") or more (with "one of")', () => {
    expect(() => checkOneOf('pooling', 'cls', ['cls', 'mean'])).not.toThrow();
    expect(() => checkOneOf('pooling', 'max', ['cls', 'mean'])).toThrow('pooling is "max": expected "cls" or "mean"');
    expect(() => checkOneOf('to', 'onnx', ['official', 'hf', 'tfjs'])).toThrow('to is "onnx": expected one of "official", "hf", "tfjs"');
    expect(() => checkOneOf('normType', 1, [2, Infinity])).toThrow('normType is 1: expected 2 or Infinity');
    expect(() => checkOneOf('mode', NaN, [NaN])).toThrow('mode is NaN: expected NaN');
    expect(choicesExpectation(['only'])).toBe('"only"');
  });
});

describe('checkBetas', () => {
  it('wants a pair of numbers in [0, 1) and names the bad item', () => {
    expect(() => checkBetas('betas', [0.9, 0.95])).not.toThrow();
    expect(() => checkBetas('betas', [0.9])).toThrow('betas is [0.9]: expected a pair [beta1, beta2] of numbers in [0, 1)');
    expect(() => checkBetas('betas', 0.9)).toThrow('betas is 0.9: expected a pair [beta1, beta2] of numbers in [0, 1)');
    expect(() => checkBetas('betas', [1, 0.95])).toThrow('betas[0] is 1: expected a number in [0, 1)');
    expect(() => checkBetas('betas', [0.9, NaN])).toThrow('betas[1] is NaN: expected a number in [0, 1)');
    expect(() => checkBetas('betas', [0.9, '0.95'])).toThrow('betas[1] is "0.95": expected a number in [0, 1)');
  });
});

describe('every check takes an error maker', () => {
  it('throws the maker\'s error with the same message shape', () => {
    class ConfigError extends Error {}
    const configError: ArgumentErrorMaker = (what, value, expected) => new ConfigError(argumentMessage(`Config.${what}`, value, expected));
    const checks: [() => void, string][] = [
      [() => checkFinite('a', NaN, configError), 'Config.a is NaN: expected a finite number'],
      [() => checkPositive('a', 0, configError), 'Config.a is 0: expected a finite number > 0'],
      [() => checkNonNegative('a', -1, configError), 'Config.a is -1: expected a finite number >= 0'],
      [() => checkInteger('a', 1.5, 0, Infinity, configError), 'Config.a is 1.5: expected an integer >= 0'],
      [() => checkInRange('a', 2, 0, 1, '[]', configError), 'Config.a is 2: expected a number in [0, 1]'],
      [() => checkOneOf('a', 'c', ['a', 'b'], configError), 'Config.a is "c": expected "a" or "b"'],
      [() => checkBetas('a', [0.9, 1], configError), 'Config.a[1] is 1: expected a number in [0, 1)'],
    ];
    for (const [check, message] of checks) {
      const error = thrown(check);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(message);
    }
  });
});

describe('shapes in messages', () => {
  it('showShape prints [2, 3]; sameShape compares rank and sizes', () => {
    expect(showShape([2, 3])).toBe('[2, 3]');
    expect(showShape([])).toBe('[]');
    expect(sameShape([2, 3], [2, 3])).toBe(true);
    expect(sameShape([2, 3], [3, 2])).toBe(false);
    expect(sameShape([2, 3], [2, 3, 1])).toBe(false);
  });
});

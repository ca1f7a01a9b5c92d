/** The model's parameter count against the official one (case.json and the golden state dict). */
import { MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend } from '../../../testing/backends.js';
import { tinyGray } from '../../../testing/golden.js';

const { config, raw } = tinyGray.readCase();
const golden = tinyGray.stateFromSafetensors();

describeEachBackend('tiny-gray golden parameter count', () => {
  it('counts as many values as the official state dict holds (case.json num_params_in_state_dict)', () => {
    const officialCount = raw.num_params_in_state_dict as number;
    expect(officialCount).toBe(121456);
    // The golden file itself agrees with case.json.
    expect([...golden.values()].reduce((sum, t) => sum + t.data.length, 0)).toBe(officialCount);
    const model = new MaskedAutoencoder(config, { seed: 0 });
    try {
      expect(model.params.count()).toBe(officialCount);
      // Every official key exists in the model with the official number of values.
      for (const [name, t] of golden) expect([name, model.params.get(name).variable.size]).toEqual([name, t.data.length]);
    } finally {
      model.dispose();
    }
  });
});

/** The tfjs weights format reader refuses hostile model.json files and shards with clear errors. */
import { parseTfjsModel, stateFromTfjsArtifacts, tfjsArtifactsFromState, tfjsFilesFromArtifacts, type ShardReader } from './tfjs-format.js';
import { WeightsFormatError } from '@maejs/formats';

const state: [string, { shape: number[]; data: Float32Array | Int32Array }][] = [
  ['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
  ['ids', { shape: [2], data: Int32Array.from([7, -8]) }],
];

/** model.json text and shards of `state`, shards of 8 bytes. */
function files() {
  const { modelJson, shards } = tfjsFilesFromArtifacts(tfjsArtifactsFromState(state, { note: 'x' }), { shardBytes: 8 });
  return { json: JSON.parse(new TextDecoder().decode(modelJson)), shards: new Map(shards) };
}

const encode = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));
const reader = (shards: Map<string, Uint8Array>): ShardReader => (p) => shards.get(p);

function expectRefused(json: unknown, shards: Map<string, Uint8Array>, message: RegExp): void {
  const run = () => parseTfjsModel(encode(json), reader(shards), 'model.json');
  expect(run).toThrow(WeightsFormatError);
  expect(run).toThrow(message);
}

describe('tfjs model.json + shards', () => {
  it('round-trips float32 and int32 tensors, 4 shards of 8 bytes', () => {
    const { json, shards } = files();
    expect(json.weightsManifest[0].paths).toEqual(['group1-shard1of4.bin', 'group1-shard2of4.bin', 'group1-shard3of4.bin', 'group1-shard4of4.bin']);
    const out = parseTfjsModel(encode(json), reader(shards));
    expect(out.tensors.get('a')).toEqual({ dtype: 'float32', shape: [2, 3], data: state[0][1].data });
    expect(out.tensors.get('ids')).toEqual({ dtype: 'int32', shape: [2], data: state[1][1].data });
    expect(out.metadata).toEqual({ note: 'x' });
  });

  it.each(['../../etc/passwd', '/etc/passwd', 'http://evil.example/x.bin', 'sub/dir.bin', 'C:\\x.bin', '..', ''])('refuses the shard path %j before reading anything', (path) => {
    const { json, shards } = files();
    json.weightsManifest[0].paths[1] = path;
    const asked: string[] = [];
    const run = () => parseTfjsModel(encode(json), (p) => (asked.push(p), shards.get(p)), 'model.json');
    expect(run).toThrow(/^model\.json: shard path .* is not a plain file name beside model\.json/);
    expect(asked).toEqual([]);
  });

  it('refuses missing, oversized and short shards', () => {
    const { json, shards } = files();
    const missing = new Map(shards);
    missing.delete('group1-shard3of4.bin');
    expectRefused(json, missing, /^model\.json: shard 'group1-shard3of4\.bin' \(weightsManifest\[0\]\) is missing/);
    const big = new Map(shards);
    big.set('group1-shard4of4.bin', new Uint8Array(1 << 20));
    expectRefused(json, big, /shard 'group1-shard4of4\.bin' holds 1048576 bytes, more than the 8 bytes its group's weights still need/);
    const short = new Map(shards);
    short.set('group1-shard4of4.bin', new Uint8Array(3));
    expectRefused(json, short, /the shards of weightsManifest\[0\] hold 27 bytes but its weights need 32/);
  });

  it('tells the reader how many bytes a shard may have, so a file reader can refuse a huge file unread', () => {
    const { json, shards } = files();
    const limits: number[] = [];
    parseTfjsModel(encode(json), (p, max) => (limits.push(max), shards.get(p)));
    expect(limits).toEqual([32, 24, 16, 8]);
  });

  it.each([
    [(j: any) => (j.weightsManifest[0].weights[0].shape = [2 ** 31, 2 ** 31]), /weight 'a' has shape \[2147483648, 2147483648\] whose element count overflows 2\^53/],
    [(j: any) => (j.weightsManifest[0].weights[0].shape = [-1]), /weight 'a' has shape entry -1; expected non-negative integers/],
    [(j: any) => (j.weightsManifest[0].weights[0].shape = [1e9]), /the shards of weightsManifest\[0\] hold 32 bytes but its weights need 4000000008/],
    [(j: any) => (j.weightsManifest[0].weights[1].name = 'a'), /weight 'a' is listed twice/],
    [(j: any) => (j.weightsManifest[0].weights[0].dtype = 'string'), /weight 'a' has dtype "string"; supported: "float32", "int32"/],
    [(j: any) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 }), /weight 'a' is quantized/],
    [(j: any) => (j.weightsManifest = {}), /has no weightsManifest/],
    [(j: any) => (j.weightsManifest[0].weights = 'x'), /weights is not an array of weight specs/],
  ])('refuses hostile specs (%#)', (patch, message) => {
    const { json, shards } = files();
    patch(json);
    expectRefused(json, shards, message);
  });

  it('refuses model.json that is not JSON, deeply nested, or has duplicate keys', () => {
    const { shards } = files();
    const run = (text: string) => () => parseTfjsModel(new TextEncoder().encode(text), reader(shards), 'model.json');
    expect(run('{"weightsManifest": [')).toThrow(/^model\.json: is not valid JSON: /);
    expect(run('['.repeat(100000))).toThrow(/^model\.json: is not valid JSON: nesting deeper than 64 levels/);
    expect(run('{"weightsManifest": [], "weightsManifest": []}')).toThrow(/duplicate key "weightsManifest"/);
  });

  it('validates artifacts from any handler: data size must equal the specs', () => {
    const artifacts = tfjsArtifactsFromState(state);
    expect(() => stateFromTfjsArtifacts({ ...artifacts, weightData: new ArrayBuffer(4) }, 'indexeddb://m')).toThrow(/^indexeddb:\/\/m: the weight specs need 32 bytes but the weight data holds 4/);
    expect(() => stateFromTfjsArtifacts({ ...artifacts, weightData: undefined }, 'x')).toThrow(/^x: weightData is missing/);
    const split = stateFromTfjsArtifacts({ ...artifacts, weightData: [(artifacts.weightData as ArrayBuffer).slice(0, 5), (artifacts.weightData as ArrayBuffer).slice(5)] });
    expect(split.tensors.get('ids')!.data).toEqual(Int32Array.from([7, -8]));
  });
});

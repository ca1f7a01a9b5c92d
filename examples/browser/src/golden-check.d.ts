import type { GoldenCheck, Tolerance } from '@maejs/backend/conformance';
import type { MaeConfig, StateTensor } from '@maejs/mae';
import type { TensorRecord } from '@maejs/weights';

export declare const GOLDEN_FILES: string[];
export declare function goldenTolerance(backend: string): { loss: Tolerance; out: Tolerance; grad: Tolerance };
export interface GoldenCase {
  config: Readonly<MaeConfig>;
  loss: number;
  state: Map<string, StateTensor>;
  inputs: TensorRecord;
  noise: TensorRecord;
  pred: TensorRecord;
  mask: TensorRecord;
  idsRestore: TensorRecord;
  latent: TensorRecord;
  grads: Map<string, TensorRecord>;
}
export declare function loadGoldenCase(read: (file: string) => Promise<Uint8Array>): Promise<GoldenCase>;
export declare function tinyGrayGoldenCheck(golden: GoldenCase, options?: { gradients?: boolean }): GoldenCheck;

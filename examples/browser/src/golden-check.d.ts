import type { GoldenCheck, Tolerance } from '@maejs/backend/conformance';
import type { GoldenCase } from '../../../testing/golden-case.js';

export { GOLDEN_FILES, loadGoldenCase, type GoldenCase } from '../../../testing/golden-case.js';
export declare function goldenTolerance(backend: string): { loss: Tolerance; out: Tolerance; grad: Tolerance };
export declare function tinyGrayGoldenCheck(golden: GoldenCase, options?: { gradients?: boolean }): GoldenCheck;

/**
 * jest globalSetup: runs once in jest's own process before any test process starts, so what it
 * puts in process.env reaches every test process, and the Vulkan loader in them reads it.
 *
 * The webgpu tests run on Dawn (the npm package `webgpu`), which on Linux takes the Vulkan
 * driver the Vulkan loader finds. maejs never picks a driver itself; this harness does: when
 * VK_ICD_FILENAMES is unset and Debian's chromium package is installed, SwiftShader's software
 * Vulkan driver from that package (no GPU needed; slow, exact enough for the golden checks).
 * Set VK_ICD_FILENAMES yourself to run the webgpu tests on another driver, e.g. your GPU's.
 */
const { existsSync } = require('node:fs');

/** The same path as SWIFTSHADER_ICD in packages/backend/src/webgpu-node.ts (a test checks it). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

module.exports = function webgpuSetup() {
  if (process.env.VK_ICD_FILENAMES !== undefined || !existsSync(SWIFTSHADER_ICD)) return;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  console.log(`\njest: VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (SwiftShader, a software Vulkan driver) for the webgpu tests; set VK_ICD_FILENAMES to use another driver`);
};
module.exports.SWIFTSHADER_ICD = SWIFTSHADER_ICD;

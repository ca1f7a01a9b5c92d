/**
 * One jest run for the whole monorepo. Tests import packages by name; names map to the
 * TypeScript sources so a test never runs against a stale build. The backend package's
 * generated gradient bundle is the only build output tests need (`npm test` builds first).
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages'],
  testMatch: ['**/src/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // The npm package `webgpu` (Dawn for Node) is ESM only (see the transform's file).
    '/node_modules/webgpu/index\\.js$': '<rootDir>/testing/jest-esm-transform.cjs',
  },
  transformIgnorePatterns: ['/node_modules/(?!webgpu/index\\.js$)'],
  // Picks the Vulkan driver for the webgpu tests before any test process starts (see the file).
  globalSetup: '<rootDir>/testing/webgpu-setup.cjs',
  moduleNameMapper: {
    '^@maejs/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@maejs/([a-z-]+)/(node|conformance)$': '<rootDir>/packages/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 120000,
};

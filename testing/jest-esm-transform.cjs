/**
 * jest transform for an ES module in node_modules (the npm package `webgpu`, Dawn for Node):
 * swc compiles it to CommonJS, and the result runs in a function scope of its own, because an
 * ES module may declare `__dirname` or `__filename` itself (webgpu's entry does), which in
 * jest's module wrapper, where they are parameters, would be a redeclaration.
 */
const { transformSync } = require('@swc/core');

module.exports = {
  process(source, filename) {
    const { code } = transformSync(source, { filename, jsc: { target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: false });
    return { code: `(function () {\n${code}\n}).call(this);` };
  },
};

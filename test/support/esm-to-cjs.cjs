/**
 * Jest's module sandbox is CommonJS only; Node itself loads these ES-module dependencies through
 * require(esm). This transform compiles one to CommonJS with TypeScript's transpiler (no type
 * check). First, `const require = createRequire(import.meta.url)` goes (a CommonJS module has its
 * own `require`, and may not declare another), and any other `import.meta.url`, which CommonJS
 * has no syntax for, becomes the same URL built from `__filename`.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const ts = require('typescript');

/** Jest caches a transform's output by this key: this file's own text is part of it. */
const self = readFileSync(__filename);

module.exports = {
  getCacheKey(source, filename) {
    return createHash('sha256').update(self).update(ts.version).update(filename).update(source).digest('hex');
  },
  process(source, filename) {
    const withoutImportMeta = source
      .replace(/\bconst require = createRequire\(import\.meta\.url\);/g, '')
      .replace(/\bimport\.meta\.url\b/g, 'require("node:url").pathToFileURL(__filename).href');
    const out = ts.transpileModule(withoutImportMeta, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2023,
        allowJs: true,
        sourceMap: false,
        esModuleInterop: true,
      },
    });
    return { code: out.outputText };
  },
};

/**
 * The boundaries between the apps and the libraries (`npm run lint` checks them):
 * - an app reaches another app only through that app's entry (`apps/<name>/src/index.ts`);
 * - libraries never import apps, and each other only through `@app/<lib>` (their `src/index.ts`);
 * - `libs/contacts` is the pure domain: it imports nothing but itself (no Nest, no database, no
 *   queue, no hashing, no I/O; `node:crypto`'s pure functions aside).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'app-internals',
      comment: "An app may use another app only through its entry, apps/<name>/src/index.ts.",
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: ['^apps/$1/', '^apps/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'libs-import-apps',
      comment: 'Libraries are shared by every app: they never depend on one.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'lib-internals',
      comment: "A library is used through its entry, @app/<lib> (libs/<lib>/src/index.ts), never a file inside it.",
      severity: 'error',
      from: { path: '^(apps|libs|bench)/', pathNot: '^libs/([^/]+)/' },
      to: { path: '^libs/[^/]+/src/', pathNot: '^libs/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'lib-internals-between-libs',
      comment: "A library is used through its entry, @app/<lib> (libs/<lib>/src/index.ts), never a file inside it.",
      severity: 'error',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/[^/]+/src/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'pure-domain',
      comment: 'libs/contacts is the pure domain: no framework, database, queue, hashing, HTTP or other library.',
      severity: 'error',
      from: { path: '^libs/contacts/' },
      to: { pathNot: ['^libs/contacts/', '^(node:)?crypto$'] },
    },
    {
      name: 'no-circular',
      comment: 'A cycle between modules makes their load order fragile.',
      severity: 'error',
      from: { path: '^(apps|libs)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|\\.build)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};

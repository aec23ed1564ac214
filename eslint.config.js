// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Globals and modules that pure protocol code must not touch (DESIGN.md, rule 1). */
const impureGlobals = [
  'Date',
  'setTimeout',
  'setInterval',
  'clearTimeout',
  'clearInterval',
  'fetch',
  'process',
].map((name) => ({
  name,
  message: 'Pure protocol modules take time, I/O and randomness from their caller.',
}));
const impureModules = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'http',
  'node:http',
  'net',
  'node:net',
  'undici',
  'better-sqlite3',
  'node:crypto',
  'crypto',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tessera/**',
      'test-results/**',
      'src/web/app/**',
      'web-dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/registry/*/**',
                '**/dfs/*/**',
                '**/search/*/**',
                '**/mapreduce/*/**',
                '**/web/*/**',
              ],
              message: 'Import another subsystem only through its index.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    // Inside a subsystem, its own folders may import each other.
    files: [
      'src/registry/**',
      'src/dfs/**',
      'src/search/**',
      'src/mapreduce/**',
      'src/web/**',
      'test/**',
      'bench/**',
    ],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Pure protocol modules: no clocks, timers, randomness or I/O.
    files: [
      'src/**/pure/**/*.ts',
      'src/**/*.pure.ts',
      'src/core/membership.ts',
      'src/core/breaker.ts',
      'src/core/backoff.ts',
      'src/search/hypercube/**',
      'src/search/election/**',
      'src/dfs/meta/placement.ts',
      'src/dfs/meta/leases.ts',
      'src/dfs/meta/replication-plan.ts',
      'src/mapreduce/master/strategies/**',
      'src/mapreduce/master/scheduler.ts',
      'src/search/balancer/global-index.ts',
      'src/search/balancer/node-table.ts',
      'src/search/balancer/data-balancer.ts',
      'src/search/balancer/locate-cache.ts',
      'src/search/balancer/placement.ts',
    ],
    rules: {
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-imports': [
        'error',
        { paths: impureModules.map((name) => ({ name, message: 'Pure modules do no I/O.' })) },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Inject Random.' },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);

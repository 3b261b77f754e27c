// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'bench/results/**', 'test-results/**', 'api/ui/dist/**', 'api/ui/static/vendor/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The services log through the one structured logger (infra/log.ts); command-line tools and
    // the browser code print for a person.
    files: [
      'api/**/*.ts',
      'api/**/*.tsx',
      'worker/**/*.ts',
      'adaptor/**/*.ts',
      'activities/**/*.ts',
      'workflows/**/*.ts',
      'domain/**/*.ts',
      'infra/**/*.ts',
      'simulators/**/*.ts',
    ],
    ignores: ['api/ui/client/**', 'infra/reference-import-main.ts', 'infra/backfill-references-main.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // Tests read loosely typed JSON answers.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Workflow code must stay deterministic: only the workflow SDK and pure domain code.
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Node built-ins are I/O: keep them out of workflow and domain code.' },
            {
              group: [
                'fs',
                'path',
                'crypto',
                'http',
                'https',
                'child_process',
                'os',
                'net',
                'mongoose',
                'mongodb',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                '**/activities/*',
                '**/infra/*',
                '**/api/*',
                '**/adaptor/*',
              ],
              message: 'Workflow and domain code may import only @temporalio/workflow (workflows) and pure domain modules.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'No I/O in workflow or domain code.' },
        { name: 'setTimeout', message: 'Use workflow sleep().' },
      ],
    },
  },
);

// @ts-check
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const testFiles = ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**'];

export default defineConfig(
  {
    ignores: ['dist', '.build/', 'var/', 'node_modules/', 'coverage/', 'eslint.config.js', 'jest.config.ts'],
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        // Nest resolves constructor parameters from decorator metadata, so a class used only as a
        // parameter type must stay a value import. With these set, consistent-type-imports leaves
        // files that contain decorators alone.
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    // The domain is pure: no framework, no persistence, no queue, no I/O, no other library.
    files: ['libs/contacts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(@nestjs|@app|@fastify)/',
              message: 'libs/contacts is pure domain code: no Nest, Fastify or other @app libraries.',
            },
            {
              regex: '^(typeorm|pg|bullmq|ioredis|bcrypt|fastify)(/|$)',
              message: 'libs/contacts is pure domain code: no database, queue, hashing or HTTP packages.',
            },
            {
              regex: '^(node:)?(fs|net|http)(/|$)',
              message: 'libs/contacts does no I/O.',
            },
          ],
        },
      ],
    },
  },
  {
    files: [...testFiles, 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // expect(mock.method) and jest.spyOn pass methods around unbound on purpose.
    files: testFiles,
    rules: {
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);

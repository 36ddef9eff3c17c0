export default {
  displayName: 'plugboard',
  preset: '../../jest.preset.js',
  rootDir: '.',
  // The cluster test has its own run: `npm run test:cluster`.
  testPathIgnorePatterns: ['/node_modules/', '/src/cluster/'],
};

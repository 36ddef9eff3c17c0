export default {
  displayName: 'token-refresh',
  preset: '../../jest.preset.js',
  rootDir: '.',
};

export default {
  displayName: 'refresh',
  preset: '../../jest.preset.js',
  rootDir: '.',
};

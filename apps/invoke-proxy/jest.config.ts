export default {
  displayName: 'invoke-proxy',
  preset: '../../jest.preset.js',
  rootDir: '.',
};

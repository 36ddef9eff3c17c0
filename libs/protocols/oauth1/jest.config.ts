export default {
  displayName: 'oauth1',
  preset: '../../../jest.preset.js',
  rootDir: '.',
};

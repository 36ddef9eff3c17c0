export default {
  displayName: 'connection-domain',
  preset: '../../../jest.preset.js',
  rootDir: '.',
};

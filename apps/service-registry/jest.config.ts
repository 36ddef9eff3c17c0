export default {
  displayName: 'service-registry',
  preset: '../../jest.preset.js',
  rootDir: '.',
};

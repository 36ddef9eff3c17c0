export default {
  displayName: 'service-auth',
  preset: '../../../jest.preset.js',
  rootDir: '.',
};

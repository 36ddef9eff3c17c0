export default {
  displayName: 'oauth2',
  preset: '../../../jest.preset.js',
  rootDir: '.',
};

export default {
  displayName: 'plugboard',
  preset: '../../jest.preset.js',
  rootDir: '.',
};

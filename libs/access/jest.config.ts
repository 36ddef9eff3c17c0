export default {
  displayName: 'access',
  preset: '../../jest.preset.js',
  rootDir: '.',
};

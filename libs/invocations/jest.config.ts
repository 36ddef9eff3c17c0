export default {
  displayName: 'invocations',
  preset: '../../jest.preset.js',
  rootDir: '.',
};

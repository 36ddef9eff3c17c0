export default {
  displayName: 'connection',
  preset: '../../jest.preset.js',
  rootDir: '.',
};

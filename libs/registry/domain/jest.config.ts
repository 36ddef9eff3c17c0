export default {
  displayName: 'registry-domain',
  preset: '../../../jest.preset.js',
  rootDir: '.',
};

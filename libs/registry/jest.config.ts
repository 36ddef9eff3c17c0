export default {
  displayName: 'registry',
  preset: '../../jest.preset.js',
  rootDir: '.',
  // libs/registry/domain is a project of its own, with its own jest config.
  roots: ['<rootDir>/src'],
};

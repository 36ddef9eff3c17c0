export default {
  displayName: 'connections',
  preset: '../../jest.preset.js',
  rootDir: '.',
  // domain/ is a project of its own (the pure decider), with its own jest config.
  roots: ['<rootDir>/src'],
};

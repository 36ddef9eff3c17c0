// oauth4webapi ships ESM only and jest runs CommonJS here, so its build is transpiled to CommonJS
// by ts-jest as well (`allowJs` in tsconfig.spec.json); every other node_module stays untransformed.
export default {
  displayName: 'oauth2',
  preset: '../../../jest.preset.js',
  rootDir: '.',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
    '^.+/node_modules/oauth4webapi/.+\\.js$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!oauth4webapi/)'],
};

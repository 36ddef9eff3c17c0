export * from './gateway.module';
export * from './start-gateway';
export * from './cli/keys-command';

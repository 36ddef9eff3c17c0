export * from './gateway.module';
export * from './start-gateway';

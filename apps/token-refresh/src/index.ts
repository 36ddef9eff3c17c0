export * from './token-refresh.module';

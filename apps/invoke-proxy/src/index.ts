export * from './invoke-proxy.module';

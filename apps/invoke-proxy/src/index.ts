export * from './invoke-proxy.module';
export { ProxyHandler } from './proxy/proxy.handler';

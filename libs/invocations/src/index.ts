export { InvocationsModule, invocationsMigrations } from './invocations.module';
export { ProxyHandler } from './proxy/proxy.handler';
export { INVOCATION_WINDOW_HOURS, InvocationQueries, type ConnectionInvocations } from './invocation-queries';

export * from './service.decider';
export * from './service-client.decider';

export * from './service.decider';

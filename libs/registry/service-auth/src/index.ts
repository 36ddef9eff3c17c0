export * from './service-definitions';

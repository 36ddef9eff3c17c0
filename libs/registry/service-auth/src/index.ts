export * from './service-auth';

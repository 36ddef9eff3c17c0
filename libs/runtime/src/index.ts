export * from './config';
export * from './database';
export * from './logger';
export * from './platform.module';
export * from './subscription-runner';
export * from './microservice';
export * from './run-app';
export * from './net';

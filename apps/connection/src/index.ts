export * from './connection.module';

export * from './oauth1.client';

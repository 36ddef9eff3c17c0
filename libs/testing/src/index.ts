export * from './database';
export * from './eventually';
export * from './processes';

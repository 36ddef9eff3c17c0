export * from './database';
export * from './eventually';
export * from './processes';
export * from './given-when-then';

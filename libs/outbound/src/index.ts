export * from './address-policy';
export * from './inject-credentials';
export * from './verification';

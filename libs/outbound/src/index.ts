export * from './address-policy';
export * from './inject-credentials';
export * from './service-target';
export * from './verification';

export * from './address-policy';
export * from './egress-policy';
export * from './http';
export * from './inject-credentials';
export * from './service-target';
export * from './verification';

export * from './api-keys';
export * from './authenticate';
export * from './sign-in-links';
export * from './migrations/1731000000200-create-access';

export { MasterKeyMismatchError } from './canary';
export * from './keyring';
export * from './vault';
export * from './migrations/1731000000100-create-vault';

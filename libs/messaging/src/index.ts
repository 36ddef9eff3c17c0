export * from './nats.transport';
export * from './in-process.transport';
export * from './transport';
export * from './rpc-client';
export * from './deadlines';
export * from './contract.pipe';
export * from './rpc-error.filter';
export * from './integration-events.publisher';

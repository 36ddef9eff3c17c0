export * from './event-store';
export * from './errors';
export * from './notifier';
export * from './position';
export * from './command-handler';
export * from './subscriptions/catch-up';
export * from './subscriptions/projection';
export * from './migrations/1731000000000-create-event-log';

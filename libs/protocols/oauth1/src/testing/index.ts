// Test helpers, kept out of the main entry point so production code never ships a fake provider.
export * from './oauth1.provider';

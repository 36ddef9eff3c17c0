/**
 * `npm run migrate`: applies every app's migrations once, for deployments that migrate before the apps start
 * (the apps also migrate at start, under an advisory lock, so this is optional). Needs DATABASE_URL.
 */
import 'reflect-metadata';
import { runMigrations } from '@plugboard/runtime';
import { allMigrations } from '../apps/plugboard/src/embedded';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('DATABASE_URL is required: the database to migrate.\n');
  process.exit(2);
}
runMigrations(url, allMigrations).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`Migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

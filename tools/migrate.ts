/**
 * `npm run migrate`: applies every app's migrations once, under an advisory lock, before the apps start (an app in
 * distributed mode waits for the migrations it needs unless PLUGBOARD_MIGRATE_ON_START=true). Needs DATABASE_URL.
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

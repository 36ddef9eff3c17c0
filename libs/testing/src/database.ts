import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL that tests use: the machine's own (trust auth), unless TEST_DATABASE_URL says otherwise. */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database per test file, so files can run in parallel without seeing each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `pb_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = new Client({ connectionString: TEST_SERVER_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A bus namespace of its own, so parallel test files on one NATS never answer each other. */
export function testNamespace(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

export function testMasterKey(): string {
  return randomBytes(32).toString('base64');
}

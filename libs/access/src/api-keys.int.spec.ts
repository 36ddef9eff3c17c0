import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { ApiKeys, roleAllows } from './api-keys';
import { accessMigrations } from './migrations/1731000000200-create-access';

describe('API keys (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let keys: ApiKeys;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await new DataSource({ type: 'postgres', url: db.url, migrations: accessMigrations }).initialize();
    await dataSource.runMigrations();
    keys = new ApiKeys(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('creates a key for an org and role, stores only its hash, and verifies it', async () => {
    const created = await keys.create('acme', 'member');
    expect(created.key).toMatch(/^pb_[A-Za-z0-9_-]{43}$/);
    expect(await keys.verify(created.key)).toEqual({ orgId: 'acme', role: 'member', keyId: created.keyId });
    const rows = await dataSource.query(`SELECT * FROM api_keys`);
    expect(JSON.stringify(rows)).not.toContain(created.key);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
  });

  it('rejects unknown, malformed and revoked keys', async () => {
    const created = await keys.create('acme', 'admin');
    expect(await keys.verify(`${created.key}x`)).toBeNull();
    expect(await keys.verify('not-a-key')).toBeNull();
    await dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [created.keyId]);
    expect(await keys.verify(created.key)).toBeNull();
  });

  it('remembers a verified key for the configured time only', async () => {
    const cached = new ApiKeys(dataSource, 300);
    const created = await keys.create('acme', 'member');
    expect(await cached.verify(created.key)).not.toBeNull();
    await dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [created.keyId]);
    expect(await cached.verify(created.key)).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await cached.verify(created.key)).toBeNull();
  });

  it('refuses a bad org id or role', async () => {
    await expect(keys.create('bad org!', 'admin')).rejects.toThrow();
    await expect(keys.create('acme', 'owner' as never)).rejects.toThrow();
  });

  it('lists an org’s keys without the keys, and revokes one of its own org only', async () => {
    const cached = new ApiKeys(dataSource, 60_000);
    const created = await cached.create('listed', 'read_only', 'reports');
    const other = await keys.create('elsewhere', 'admin');
    expect(await cached.verify(created.key)).not.toBeNull();
    const listed = await keys.list('listed');
    expect(listed).toEqual([{ id: created.keyId, role: 'read_only', prefix: created.key.slice(0, 9), label: 'reports', createdAt: expect.any(String), revokedAt: null }]);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(await keys.revoke('listed', other.keyId)).toBeNull();
    expect(await keys.revoke('listed', 'not-a-uuid')).toBeNull();
    expect(await keys.verify(other.key)).not.toBeNull();
    const revoked = await cached.revoke('listed', created.keyId);
    expect(revoked).toMatchObject({ id: created.keyId, revokedAt: expect.any(String) });
    // The revoking instance forgets the key at once, despite its cache.
    expect(await cached.verify(created.key)).toBeNull();
    expect((await keys.revoke('listed', created.keyId))?.revokedAt).toBe(revoked?.revokedAt);
  });

  it('ranks roles: admin ⊃ member ⊃ read_only', () => {
    expect(roleAllows('admin', 'member')).toBe(true);
    expect(roleAllows('member', 'member')).toBe(true);
    expect(roleAllows('read_only', 'member')).toBe(false);
    expect(roleAllows('member', 'admin')).toBe(false);
  });
});

import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { ApiKeys, roleAllows, type KeySubject } from './api-keys';
import { actingUser, authenticate } from './authenticate';
import { accessMigrations, CreateAccess1731000000200 } from './migrations/1731000000200-create-access';
import { SignInLinks } from './sign-in-links';

const PRODUCT: KeySubject = { actAs: 'any' };

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
    const created = await keys.create('acme', 'member', PRODUCT);
    expect(created.key).toMatch(/^pb_[A-Za-z0-9_-]{43}$/);
    expect(await keys.verify(created.key)).toEqual({ orgId: 'acme', role: 'member', keyId: created.keyId, user: null });
    const rows = await dataSource.query(`SELECT * FROM api_keys`);
    expect(JSON.stringify(rows)).not.toContain(created.key);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
  });

  it('rejects unknown, malformed and revoked keys', async () => {
    const created = await keys.create('acme', 'admin', PRODUCT);
    expect(await keys.verify(`${created.key}x`)).toBeNull();
    expect(await keys.verify('not-a-key')).toBeNull();
    await dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [created.keyId]);
    expect(await keys.verify(created.key)).toBeNull();
  });

  it('remembers a verified key for the configured time only', async () => {
    const cached = new ApiKeys(dataSource, 300);
    const created = await keys.create('acme', 'member', PRODUCT);
    expect(await cached.verify(created.key)).not.toBeNull();
    await dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [created.keyId]);
    expect(await cached.verify(created.key)).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await cached.verify(created.key)).toBeNull();
  });

  it('refuses a bad org id or role', async () => {
    await expect(keys.create('bad org!', 'admin', PRODUCT)).rejects.toThrow();
    await expect(keys.create('acme', 'owner' as never, PRODUCT)).rejects.toThrow();
  });

  it('lists an org’s keys without the keys, and revokes one of its own org only', async () => {
    const cached = new ApiKeys(dataSource, 60_000);
    const created = await cached.create('listed', 'read_only', PRODUCT, 'reports');
    const other = await keys.create('elsewhere', 'admin', PRODUCT);
    expect(await cached.verify(created.key)).not.toBeNull();
    const listed = await keys.list('listed');
    expect(listed).toEqual([{ id: created.keyId, role: 'read_only', user: null, actAs: 'any', prefix: created.key.slice(0, 9), label: 'reports', createdAt: expect.any(String), revokedAt: null }]);
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

  it('binds a person’s key to its user: no X-User-Id is the user, the same is fine, anyone else is user_mismatch', async () => {
    const alice = await keys.create('acme', 'member', { user: 'alice' });
    expect(alice.view).toMatchObject({ user: 'alice', actAs: null });
    expect(await keys.verify(alice.key)).toMatchObject({ user: 'alice' });
    const bearer = `Bearer ${alice.key}`;
    expect((await authenticate(keys, { authorization: bearer }, 'member')).actor).toEqual({ orgId: 'acme', userId: 'alice' });
    expect((await authenticate(keys, { authorization: bearer, 'x-user-id': 'alice' }, 'member')).actor).toEqual({ orgId: 'acme', userId: 'alice' });
    for (const other of ['bob', 'Alice', 'alice ', ['alice', 'bob'], 'alice\r\nx-user-id: bob', 'alice\u0000']) {
      await expect(authenticate(keys, { authorization: bearer, 'x-user-id': other }, 'member')).rejects.toMatchObject({ code: expect.stringMatching(/^(user_mismatch|validation_failed)$/) });
    }
    await expect(authenticate(keys, { authorization: bearer, 'x-user-id': 'bob' }, 'member')).rejects.toMatchObject({ code: 'user_mismatch' });
  });

  it('lets a product’s key act for the user it names, or as itself', async () => {
    const product = await keys.create('acme', 'member', PRODUCT);
    const bearer = `Bearer ${product.key}`;
    expect((await authenticate(keys, { authorization: bearer, 'x-user-id': 'bob' }, 'member')).actor).toEqual({ orgId: 'acme', userId: 'bob', byProduct: true });
    expect((await authenticate(keys, { authorization: bearer }, 'member')).actor).toEqual({ orgId: 'acme', userId: `key.${product.keyId}`, byProduct: true });
    await expect(authenticate(keys, { authorization: bearer, 'x-user-id': 'bob\nx' }, 'member')).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('refuses a key bound to a user id that is not one, and a subject that is both or neither', async () => {
    await expect(keys.create('acme', 'member', { user: 'bob\r\nevil' })).rejects.toThrow();
    await expect(keys.create('acme', 'member', { user: '' })).rejects.toThrow();
    await expect(dataSource.query(`INSERT INTO api_keys (id, org_id, role, user_id, act_as_any, key_hash, prefix) VALUES (gen_random_uuid(), 'acme', 'admin', 'x', true, 'h1', 'p')`)).rejects.toThrow(/api_keys_subject/);
    expect(() => actingUser('alice', 'bob', 'fallback')).toThrow(/act as "alice" only/);
  });

  it('turns the keys that existed before into product keys', async () => {
    const fresh = await createTestDatabase();
    const before = await new DataSource({ type: 'postgres', url: fresh.url, migrations: [CreateAccess1731000000200] }).initialize();
    try {
      await before.runMigrations();
      await before.query(`INSERT INTO orgs (id) VALUES ('old')`);
      await before.query(`INSERT INTO api_keys (id, org_id, role, key_hash, prefix) VALUES ('00000000-0000-4000-8000-000000000001', 'old', 'admin', $1, 'pb_abcdef')`, [createHash('sha256').update('pb_old').digest('hex')]);
      await before.destroy();
      const after = await new DataSource({ type: 'postgres', url: fresh.url, migrations: accessMigrations }).initialize();
      await after.runMigrations();
      expect(await new ApiKeys(after).verify('pb_old')).toEqual({ keyId: '00000000-0000-4000-8000-000000000001', orgId: 'old', role: 'admin', user: null });
      expect(await new ApiKeys(after).list('old')).toMatchObject([{ user: null, actAs: 'any' }]);
      await after.destroy();
    } finally {
      if (before.isInitialized) await before.destroy();
      await fresh.drop();
    }
  });

  it('redeems a sign-in link once, before it expires, and only that link', async () => {
    const links = new SignInLinks(dataSource);
    const person = { orgId: 'default', userId: 'admin', role: 'admin' as const };
    const { token, expiresAt } = await links.create(person);
    expect(token).toMatch(/^st_[A-Za-z0-9_-]{43}$/);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(JSON.stringify(await dataSource.query(`SELECT * FROM sign_in_links`))).not.toContain(token);
    expect(await links.redeem(`${token}x`)).toBeNull();
    const twice = await Promise.all([links.redeem(token), links.redeem(token)]);
    expect(twice.filter(Boolean)).toEqual([person]);
    expect(await links.redeem(token)).toBeNull();
    const short = await links.create(person, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await links.redeem(short.token)).toBeNull();
  });

  it('ranks roles: admin ⊃ member ⊃ read_only', () => {
    expect(roleAllows('admin', 'member')).toBe(true);
    expect(roleAllows('member', 'member')).toBe(true);
    expect(roleAllows('read_only', 'member')).toBe(false);
    expect(roleAllows('member', 'admin')).toBe(false);
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { Keyring } from './keyring';
import { vaultMigrations } from './migrations/1731000000100-create-vault';
import { Vault } from './vault';

const key = () => randomBytes(32).toString('base64');

describe('vault (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await new DataSource({ type: 'postgres', url: db.url, migrations: vaultMigrations }).initialize();
    await dataSource.runMigrations();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('stores a secret encrypted and gives it back only to its org', async () => {
    const vault = new Vault(Keyring.parse(key()));
    const id = randomUUID();
    await vault.put(dataSource.manager, { id, orgId: 'acme', purpose: 'test', value: { token: 'tok-plaintext-123' } });
    expect(await vault.get(dataSource.manager, id, 'acme')).toEqual({ token: 'tok-plaintext-123' });
    expect(await vault.get(dataSource.manager, id, 'other-org')).toBeNull();
    const [row] = await dataSource.query(`SELECT * FROM vault_entries WHERE id = $1`, [id]);
    expect(JSON.stringify(row)).not.toContain('tok-plaintext-123');
    expect(row.ciphertext.toString('latin1')).not.toContain('tok-plaintext-123');
  });

  it('reads entries sealed under an older master key after a rotation, and seals new ones under the new key', async () => {
    const oldKey = key();
    const newKey = key();
    const before = new Vault(Keyring.parse(`old:${oldKey}`));
    const id = randomUUID();
    await before.put(dataSource.manager, { id, orgId: 'acme', purpose: 'test', value: 'kept across rotation' });
    const after = new Vault(Keyring.parse(`new:${newKey},old:${oldKey}`));
    expect(await after.get(dataSource.manager, id, 'acme')).toBe('kept across rotation');
    await after.put(dataSource.manager, { id, orgId: 'acme', purpose: 'test', value: 'rewritten' });
    const [row] = await dataSource.query(`SELECT key_id, version FROM vault_entries WHERE id = $1`, [id]);
    expect(row).toEqual({ key_id: 'new', version: 2 });
    await expect(new Vault(Keyring.parse(`old:${oldKey}`)).get(dataSource.manager, id, 'acme')).rejects.toThrow(/master key new/);
  });

  it('cannot be read with the wrong master key, nor after the entry is erased', async () => {
    const vault = new Vault(Keyring.parse(`k:${key()}`));
    const id = randomUUID();
    await vault.put(dataSource.manager, { id, orgId: 'acme', purpose: 'test', value: 'x' });
    await expect(new Vault(Keyring.parse(`k:${key()}`)).get(dataSource.manager, id, 'acme')).rejects.toThrow();
    await vault.erase(dataSource.manager, id, 'acme');
    expect(await vault.get(dataSource.manager, id, 'acme')).toBeNull();
  });

  it('refuses master keys that are not 32 bytes', () => {
    expect(() => Keyring.parse(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DomainError, ErrorCodes } from '@plugboard/contracts';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { MasterKeyMismatchError } from './canary';
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
    await expect(new Vault(Keyring.parse(`old:${oldKey}`)).get(dataSource.manager, id, 'acme')).rejects.toThrow(/master key "new"/);
  });

  it('cannot be read with the wrong master key, nor after the entry is erased', async () => {
    const vault = new Vault(Keyring.parse(`k:${key()}`));
    const id = randomUUID();
    await vault.put(dataSource.manager, { id, orgId: 'acme', purpose: 'test', value: 'x' });
    const wrongKey = key();
    const failure = await new Vault(Keyring.parse(`k:${wrongKey}`)).get(dataSource.manager, id, 'acme').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DomainError);
    expect((failure as DomainError).code).toBe(ErrorCodes.credentialUnreadable);
    expect((failure as DomainError).message).toMatch(/master key "k" does not open it/);
    expect((failure as DomainError).message).not.toContain(wrongKey);
    await vault.erase(dataSource.manager, id, 'acme');
    expect(await vault.get(dataSource.manager, id, 'acme')).toBeNull();
  });

  it('refuses master keys that are not 32 bytes', () => {
    expect(() => Keyring.parse(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

/**
 * The canary: a start with the wrong PLUGBOARD_MASTER_KEY is refused, naming the key id the vault expects, instead
 * of failing every secret and sealing new ones with the wrong key. Each case gets an empty database of its own.
 */
describe('vault master key check (PostgreSQL)', () => {
  const opened: { db: TestDatabase; dataSource: DataSource }[] = [];
  async function emptyVault(): Promise<DataSource> {
    const db = await createTestDatabase();
    const dataSource = await new DataSource({ type: 'postgres', url: db.url, migrations: vaultMigrations }).initialize();
    await dataSource.runMigrations();
    opened.push({ db, dataSource });
    return dataSource;
  }
  afterAll(async () => {
    for (const { db, dataSource } of opened) {
      await dataSource.destroy();
      await db.drop();
    }
  });
  const canaries = (dataSource: DataSource) => dataSource.query(`SELECT key_id FROM vault_canaries ORDER BY key_id`);
  const refusal = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error as MasterKeyMismatchError);

  it('writes a canary under the current key id on the first start, and opens it on the next', async () => {
    const dataSource = await emptyVault();
    const master = key();
    await new Vault(Keyring.parse(master)).checkMasterKey(dataSource.manager);
    expect(await canaries(dataSource)).toEqual([{ key_id: Keyring.parse(master).current.id }]);
    await new Vault(Keyring.parse(master)).checkMasterKey(dataSource.manager);
    const [row] = await dataSource.query(`SELECT sealed FROM vault_canaries`);
    expect(row.sealed.toString('latin1')).not.toContain('canary');
  });

  it('refuses a wrong key, naming the key id the vault expects and never a key', async () => {
    const dataSource = await emptyVault();
    const right = key();
    await new Vault(Keyring.parse(`main:${right}`)).checkMasterKey(dataSource.manager);

    const wrong = key();
    const otherId = await refusal(new Vault(Keyring.parse(wrong)).checkMasterKey(dataSource.manager));
    expect(otherId).toBeInstanceOf(MasterKeyMismatchError);
    expect(otherId?.expectedKeyIds).toEqual(['main']);
    expect(otherId?.message).toMatch(/sealed with the master key "main"/);
    const sameId = await refusal(new Vault(Keyring.parse(`main:${wrong}`)).checkMasterKey(dataSource.manager));
    expect(sameId?.message).toMatch(/key "main" is not the key the vault was sealed with/);
    for (const message of [otherId?.message, sameId?.message]) {
      expect(message).not.toContain(wrong);
      expect(message).not.toContain(right);
    }
    // The refused keys planted nothing: the right key still starts.
    expect(await canaries(dataSource)).toEqual([{ key_id: 'main' }]);
    await new Vault(Keyring.parse(`main:${right}`)).checkMasterKey(dataSource.manager);
  });

  it('gives a vault from before canaries one on the next start with the right key, and refuses a wrong key first', async () => {
    const dataSource = await emptyVault();
    const right = key();
    const vault = new Vault(Keyring.parse(right));
    await vault.put(dataSource.manager, { id: randomUUID(), orgId: 'acme', purpose: 'test', value: 'sealed before canaries' });

    const wrong = await refusal(new Vault(Keyring.parse(key())).checkMasterKey(dataSource.manager));
    expect(wrong?.expectedKeyIds).toEqual([Keyring.parse(right).current.id]);
    expect(await canaries(dataSource)).toEqual([]);

    await vault.checkMasterKey(dataSource.manager);
    expect(await canaries(dataSource)).toEqual([{ key_id: Keyring.parse(right).current.id }]);
  });

  it('carries the canary through a rotation: the new key gets one while the old key proves the keyring', async () => {
    const dataSource = await emptyVault();
    const [oldKey, newKey] = [key(), key()];
    await new Vault(Keyring.parse(`old:${oldKey}`)).checkMasterKey(dataSource.manager);
    await new Vault(Keyring.parse(`new:${newKey},old:${oldKey}`)).checkMasterKey(dataSource.manager);
    expect(await canaries(dataSource)).toEqual([{ key_id: 'new' }, { key_id: 'old' }]);
    await new Vault(Keyring.parse(`new:${newKey}`)).checkMasterKey(dataSource.manager);
    expect((await refusal(new Vault(Keyring.parse(`new:${key()}`)).checkMasterKey(dataSource.manager)))?.expectedKeyIds).toEqual(['new']);
    // A wrong old key is refused too, though the current one is right.
    expect((await refusal(new Vault(Keyring.parse(`new:${newKey},old:${key()}`)).checkMasterKey(dataSource.manager)))?.expectedKeyIds).toEqual(['old']);
  });
});

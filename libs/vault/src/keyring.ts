import { createHash } from 'node:crypto';

/** A master key and the id that entries encrypted under it record, so old entries stay readable after a rotation. */
export interface MasterKey {
  id: string;
  key: Buffer;
}

/**
 * The master keys, current one first. `PLUGBOARD_MASTER_KEY` holds one base64 key of 32 bytes, or a
 * comma-separated list `id:base64,…` whose first entry encrypts new secrets and the rest only decrypt.
 */
export class Keyring {
  private constructor(private readonly keys: MasterKey[]) {}

  static parse(value: string): Keyring {
    const keys = value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [maybeId, maybeKey] = part.includes(':') ? part.split(':', 2) : [undefined, part];
        const key = Buffer.from(maybeKey, 'base64');
        if (key.length !== 32) throw new Error('PLUGBOARD_MASTER_KEY must hold base64 keys of exactly 32 bytes');
        return { id: maybeId ?? createHash('sha256').update(key).digest('hex').slice(0, 12), key };
      });
    if (keys.length === 0) throw new Error('PLUGBOARD_MASTER_KEY is empty');
    return new Keyring(keys);
  }

  get current(): MasterKey {
    return this.keys[0];
  }

  /** The ids of the keys, current first: safe to show, unlike the keys. */
  get ids(): string[] {
    return this.keys.map((k) => k.id);
  }

  byId(id: string): MasterKey | undefined {
    return this.keys.find((k) => k.id === id);
  }
}

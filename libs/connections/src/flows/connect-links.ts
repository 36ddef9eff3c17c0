import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';

const TOKEN_PREFIX = 'cl_';

/** The SHA-256 (hex) under which a connect link's token is kept. */
function connectLinkHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A connect link as stored: never its token. */
export interface ConnectLinkRecord {
  tokenHash: string;
  orgId: string;
  linkName: string;
  userId: string;
  returnUrl: string | null;
  expiresAt: Date;
  browserHash: string | null;
  completed: boolean;
  expired: boolean;
}

interface Row {
  token_hash: string;
  org_id: string;
  link_name: string;
  user_id: string;
  return_url: string | null;
  expires_at: Date;
  browser_hash: string | null;
  completed_at: Date | null;
  expired: boolean;
}

const COLUMNS = 'token_hash, org_id, link_name, user_id, return_url, expires_at, browser_hash, completed_at, expires_at <= now() AS expired';

function toRecord(row: Row): ConnectLinkRecord {
  return {
    tokenHash: row.token_hash,
    orgId: row.org_id,
    linkName: row.link_name,
    userId: row.user_id,
    returnUrl: row.return_url,
    expiresAt: row.expires_at,
    browserHash: row.browser_hash,
    completed: row.completed_at !== null,
    expired: row.expired,
  };
}

/**
 * The connect links table. A link is a capability: whoever holds the token may authorize that one user's credential
 * of that one connection, once, before it expires, so the token carries 256 random bits and only its hash is kept.
 * The first browser that starts an authorization with it holds it (its binding cookie's hash is recorded): that
 * browser may try again (a mistyped key, an OAuth consent cancelled) until one attempt completes; any other browser
 * finds it used. Every step is one conditional UPDATE, so racing requests cannot both win.
 */
@Injectable()
export class ConnectLinks {
  constructor(private readonly store: EventStore) {}

  async create(link: { orgId: string; linkName: string; userId: string; returnUrl: string | null; createdBy: string; expiresInSeconds: number }): Promise<{ token: string; expiresAt: Date }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + link.expiresInSeconds * 1000);
    await this.store.dataSource.transaction(async (manager) => {
      // Links long past their expiry are of no use to anyone: they go as new ones come.
      await manager.query(`DELETE FROM connect_links WHERE expires_at < now() - interval '7 days'`);
      await manager.query(
        `INSERT INTO connect_links (token_hash, org_id, link_name, user_id, return_url, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [connectLinkHash(token), link.orgId, link.linkName, link.userId, link.returnUrl, link.createdBy, expiresAt],
      );
    });
    return { token, expiresAt };
  }

  /** The link of a token, or `connect_link_not_found`. */
  async find(token: string): Promise<ConnectLinkRecord> {
    const [row] = token.startsWith(TOKEN_PREFIX) && token.length <= 100 ? await this.store.dataSource.query(`SELECT ${COLUMNS} FROM connect_links WHERE token_hash = $1`, [connectLinkHash(token)]) : [];
    if (!row) throw new DomainError(ErrorCodes.connectLinkNotFound, 'This connect link is unknown. Ask for a new one.');
    return toRecord(row);
  }

  /**
   * Takes the link for this browser: it must be unexpired, not completed, and free or already this browser's.
   * Otherwise the reason: `connect_link_not_found`, `connect_link_expired` or `connect_link_used`.
   */
  async claim(token: string, browserHash: string): Promise<ConnectLinkRecord> {
    const [rows] = await this.store.dataSource.query(
      `UPDATE connect_links SET browser_hash = $2, started_at = now()
        WHERE token_hash = $1 AND completed_at IS NULL AND expires_at > now() AND (browser_hash IS NULL OR browser_hash = $2)
        RETURNING ${COLUMNS}`,
      [connectLinkHash(token), browserHash],
    );
    if (rows[0]) return toRecord(rows[0]);
    const link = await this.find(token);
    if (link.completed || (link.browserHash !== null && link.browserHash !== browserHash)) throw used();
    throw expired();
  }

  /** Marks the link completed, once: the second completion of a link (another OAuth flow it started) is refused. */
  async complete(tokenHash: string): Promise<void> {
    const [, count] = await this.store.dataSource.query(`UPDATE connect_links SET completed_at = now() WHERE token_hash = $1 AND completed_at IS NULL`, [tokenHash]);
    if (count !== 1) throw used();
  }

  /** Undoes `complete` when what followed it failed, so the same browser may try again. */
  async reopen(tokenHash: string): Promise<void> {
    await this.store.dataSource.query(`UPDATE connect_links SET completed_at = NULL WHERE token_hash = $1`, [tokenHash]);
  }
}

function used(): DomainError {
  return new DomainError(ErrorCodes.connectLinkUsed, 'This connect link was used already (or is being used in another browser). Ask for a new one.');
}

function expired(): DomainError {
  return new DomainError(ErrorCodes.connectLinkExpired, 'This connect link has expired. Ask for a new one.');
}

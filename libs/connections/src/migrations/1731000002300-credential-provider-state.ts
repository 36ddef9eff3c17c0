import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a credential learned from its provider: values the token response or the callback carried (a Salesforce
 * instance, a QuickBooks realm), and whether its token expired with nothing to renew it (ReauthorizationRequired).
 */
export class CredentialProviderState1731000002300 implements MigrationInterface {
  name = 'CredentialProviderState1731000002300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connection_credentials ADD COLUMN parameters jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await q.query(`ALTER TABLE connection_credentials ADD COLUMN reauthorization_required boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connection_credentials DROP COLUMN reauthorization_required`);
    await q.query(`ALTER TABLE connection_credentials DROP COLUMN parameters`);
  }
}

import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { accessMigrations, ApiKeys } from '@plugboard/access';
import { RoleSchema } from '@plugboard/contracts';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';

const USAGE = `usage: npm run keys -- create --org <orgId> --role <admin|member|read_only> [--label <text>]
Creates the org if it does not exist and prints the new key once. Needs DATABASE_URL.`;

/** `npm run keys -- create --org acme --role member`: org-scoped API keys for people and programs. */
async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { org: { type: 'string' }, role: { type: 'string' }, label: { type: 'string' } } });
  const role = RoleSchema.safeParse(values.role);
  if (positionals[0] !== 'create' || !values.org || !role.success) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL is required: the database where Plugboard keeps its keys.\n');
    return 2;
  }
  await runMigrations(url, accessMigrations);
  const dataSource = await new DataSource(dataSourceOptions({ url, poolSize: 1 })).initialize();
  try {
    const created = await new ApiKeys(dataSource).create(values.org, role.data, values.label);
    process.stdout.write(`${created.key}\n`);
    process.stderr.write(`Created a ${created.role} key for org "${created.orgId}". It is shown only this once.\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`Could not create the key: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await dataSource.destroy();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));

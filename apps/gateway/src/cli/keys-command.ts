import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { accessMigrations, ApiKeys, SignInLinks } from '@plugboard/access';
import { EMBEDDED_ADMIN_USER, RoleSchema, UserIdSchema } from '@plugboard/contracts';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';

/** Where the keys live: a database URL, and what to do when done with it (stop an embedded PostgreSQL started for this). */
export interface KeysDatabase {
  url: string;
  close(): Promise<void>;
}

export const KEYS_USAGE = `usage:
  npm run keys -- create --org <orgId> --role <admin|member|read_only> [--user <userId>] [--label <text>]
      Prints a new API key once (and creates the org if it does not exist). With --user, a person's key: it acts as
      that user only. Without, a product's key: it acts for the user its X-User-Id header names.
  npm run keys -- sign-in-link [--org default] [--user ${EMBEDDED_ADMIN_USER}] [--role admin] [--url <public url>]
      Prints a one-time console sign-in link (15 minutes, once).
Uses DATABASE_URL when set, else the embedded database of npm start (./.plugboard, or PLUGBOARD_HOME).`;

/** `npm run keys -- …`: the database side of access, for the first key of an org and for sign-in links. */
export async function runKeysCommand(argv: string[], openDatabase: () => Promise<KeysDatabase>, out = process.stdout, err = process.stderr): Promise<number> {
  const options = { org: { type: 'string' }, role: { type: 'string' }, label: { type: 'string' }, user: { type: 'string' }, url: { type: 'string' } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options });
  } catch (error) {
    err.write(`${error instanceof Error ? error.message : String(error)}\n${KEYS_USAGE}\n`);
    return 2;
  }
  const { positionals, values } = parsed;
  const command = positionals[0];
  const role = RoleSchema.safeParse(values.role ?? (command === 'sign-in-link' ? 'admin' : undefined));
  const user = values.user === undefined ? null : UserIdSchema.safeParse(values.user);
  if (user && !user.success) {
    err.write(`--user must be 1–128 letters, digits or . _ @ + -\n`);
    return 2;
  }
  if (!['create', 'sign-in-link'].includes(command) || (command === 'create' && !values.org) || !role.success) {
    err.write(`${KEYS_USAGE}\n`);
    return 2;
  }
  let database: KeysDatabase;
  try {
    database = await openDatabase();
  } catch (error) {
    err.write(`Could not open the database: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  let dataSource: DataSource | null = null;
  try {
    await runMigrations(database.url, accessMigrations);
    dataSource = await new DataSource(dataSourceOptions({ url: database.url, poolSize: 1 })).initialize();
    if (command === 'sign-in-link') {
      const person = { orgId: values.org ?? 'default', userId: user?.data ?? EMBEDDED_ADMIN_USER, role: role.data };
      const { token } = await new SignInLinks(dataSource).create(person);
      const base = (values.url ?? process.env.PLUGBOARD_PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/$/, '');
      out.write(`${signInUrl(base, token)}\n`);
      err.write(`A sign-in link for ${person.userId} (${person.role}) of org "${person.orgId}": it works once, within 15 minutes.\n`);
      return 0;
    }
    const created = await new ApiKeys(dataSource).create(values.org as string, role.data, user ? { user: user.data } : { actAs: 'any' }, values.label);
    out.write(`${created.key}\n`);
    const who = created.user === null ? 'product key (it acts for the user X-User-Id names)' : `key for ${created.user} (it acts as that user only)`;
    err.write(`Created a ${created.role} ${who} for org "${created.orgId}". It is shown only this once.\n`);
    return 0;
  } catch (error) {
    err.write(`Could not ${command === 'create' ? 'create the key' : 'make the link'}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await dataSource?.destroy();
    await database.close();
  }
}

/** The console's sign-in page with the token: the page posts it to POST /v1/session/sign-in. */
export function signInUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/console/sign-in?token=${encodeURIComponent(token)}`;
}

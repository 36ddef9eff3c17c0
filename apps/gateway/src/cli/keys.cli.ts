import { runKeysCommand } from './keys-command';

/**
 * `node tools/run.js apps/gateway/src/cli/keys.cli.ts create --org acme --role admin`: the keys command on the
 * database DATABASE_URL names (distributed mode, the gateway's image). `npm run keys` is the same command, which
 * also finds the embedded database of `npm start`.
 */
runKeysCommand(process.argv.slice(2), async () => {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required: the database where Plugboard keeps its keys (npm run keys also finds the embedded one).');
  return { url, close: async () => undefined };
}).then((code) => process.exit(code));

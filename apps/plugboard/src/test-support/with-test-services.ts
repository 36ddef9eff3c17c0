/**
 * `npm test` and `npm run test:cluster` run through this: it makes sure PostgreSQL and NATS answer (starting its own
 * when none does), that the tools the tests need are installed, then runs the command with TEST_DATABASE_URL and
 * TEST_NATS_URL set, and stops what it started when the command ends, fails or is interrupted.
 *
 *   node tools/run.js apps/plugboard/src/test-support/with-test-services.ts [--browser] -- <command> [args]
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { DEFAULT_NATS_URL, natsAnswers, provideTestServices } from './test-services';
import { installMissing, missingTools } from './test-tools';

const say = (line: string) => process.stderr.write(`[test services] ${line}\n`);

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const separator = args.indexOf('--');
  const flags = separator < 0 ? [] : args.slice(0, separator);
  const command = separator < 0 ? args : args.slice(separator + 1);
  if (command.length === 0) {
    say('usage: with-test-services.ts [--browser] -- <command> [args]');
    return 2;
  }
  const natsNeeded = !(await natsAnswers(process.env.TEST_NATS_URL || DEFAULT_NATS_URL));
  const needed = missingTools(natsNeeded).filter((tool) => flags.includes('--browser') || tool.debianPackage !== 'chromium');
  const missing = installMissing(needed, say);
  if (missing.length > 0) {
    say('the tests need these tools, which are not installed; nothing was run:');
    for (const tool of missing) say(`  ${tool.name}: ${tool.install}`);
    return 1;
  }

  const services = await provideTestServices({ env: process.env });
  if (services.started.length > 0) say(`started for this run: ${services.started.join(', ')}; stopped when it ends`);
  // Ctrl-C reaches the whole process group, so the command stops by itself; this process waits for it, then cleans up.
  let interrupted = false;
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, ...services.env } });
  const forward = (signal: NodeJS.Signals) => () => {
    interrupted = true;
    if (child.exitCode === null) child.kill(signal);
  };
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  const code = await new Promise<number>((resolve) => {
    child.once('error', (error) => {
      say(`could not run ${command[0]}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  await services.stop();
  if (services.started.length > 0) say(interrupted ? 'interrupted: stopped what this run started' : 'stopped what this run started');
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`could not prepare the test run: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

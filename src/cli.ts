#!/usr/bin/env node
/**
 * The `iqsp` command line (contract.md §1). Exit codes: 0 success, 1 runtime failure,
 * 2 bad usage or bad configuration — with one line on stderr naming what is wrong.
 */
import { Command, CommanderError, Option } from 'commander';
import { attachSurfaces, buildCore, openServices, startApp } from './app.js';
import { ROLES, type Role } from './runtime.js';
import { SURFACES } from './bots/registry.js';
import type { SurfaceFactory } from './bots/surface.js';
import type { Simulators } from './simulators/index.js';
import { publishesToList } from './publishers/registry.js';
import { ConfigError, environmentWithDotenv, loadConfig, sandboxDecision, sandboxEnvironment, type Config } from './config.js';
import { createLogger } from './observability/logger.js';
import { redactText } from './observability/redact.js';
import { slackManifest } from './bots/slack/manifest.js';
import { rotateAllSecrets } from './vault/secret-store.js';
import { generateKey } from './vault/vault.js';

// The sandbox (simulators, the sandbox chat) and discord.js are loaded by the commands that
// use them: every other command starts without paying for them.

const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

/** The sandbox answers this machine only: its pages and APIs have no sign-in. */
const SANDBOX_LISTEN_HOST = '127.0.0.1';

/** The simulators answer at once; there is no reason to wait seconds between status checks. */
const SANDBOX_TUNING = { pollIntervalMs: 200, maxWaitMs: 60_000 };

/** A bad argument: exit 2 with one line naming it. */
class UsageError extends Error {}

/** The sandbox's chat surface, speaking to the in-process simulators. */
async function sandboxSurface(sims: Simulators): Promise<SurfaceFactory> {
  const [{ createSandboxSurface }, { simulatedPlatforms }] = await Promise.all([
    import('./sandbox/surface.js'),
    import('./sandbox/platforms.js'),
  ]);
  return createSandboxSurface(simulatedPlatforms(sims));
}

function config(): Config {
  return loadConfig(environmentWithDotenv(process.env, process.cwd()), process.cwd());
}

function buildProgram(): Command {
  const program = new Command('iqsp')
    .description(`IQSP: publish to ${publishesToList()} from Slack and Discord, with team approval.`)
    .exitOverride()
    // Commander's own error lines are replaced by one line of ours (see `main`); --help still prints.
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });

  program
    .command('serve')
    .description('run the HTTP server, the Slack app, the Discord bot, the publish workers and the cleanup cron, each where configured')
    .addOption(
      new Option(
        '--role <role>',
        'what this process runs, for several instances on one PostgreSQL database: web (HTTP: OAuth callbacks, /media, Slack events), worker (publish workers and the cleanup cron), gateway (the Discord gateway, one per bot), or all',
      )
        .choices(ROLES)
        .default('all'),
    )
    .action(async (options: { role: Role }) => {
      const env = environmentWithDotenv(process.env, process.cwd());
      const sandbox = sandboxDecision(env);
      // The sandbox's chat and platforms live inside the process: it cannot be split.
      if (sandbox.run && options.role !== 'all')
        throw new UsageError(
          `--role ${options.role} needs a configured chat or platform; the sandbox (no credentials) runs as one process (--role all)`,
        );
      const sims = sandbox.run ? await (await import('./simulators/index.js')).startSimulators() : undefined;
      // The sandbox's simulated accounts and posts go to a database and media folder of their
      // own, so a real install in the same folder never meets them, and it talks to nothing real.
      const cfg = loadConfig(sims ? sandboxEnvironment(env, sims.env) : env, process.cwd());
      const logger = createLogger(cfg.logLevel);
      if (sims) logger.warn({ why: sandbox.why }, `sandbox mode because ${sandbox.why}; it listens on ${SANDBOX_LISTEN_HOST} only`);
      const appOptions = sims
        ? { surfaces: [...SURFACES, await sandboxSurface(sims)], publisherTuning: SANDBOX_TUNING, listenHost: SANDBOX_LISTEN_HOST }
        : {};
      const app = await startApp(cfg, logger, { ...appOptions, role: options.role }).catch(async (error) => {
        await sims?.close();
        throw error;
      });
      await new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          app.stop(signal).then(resolve, (error) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exitCode = EXIT_RUNTIME;
            resolve();
          });
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      });
      await sims?.close();
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const cfg = config();
      const logger = createLogger(cfg.logLevel);
      const services = await openServices(cfg, logger);
      try {
        const applied = services.appliedMigrations;
        process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`);
      } finally {
        await services.db.destroy();
      }
    });

  program
    .command('keygen')
    .description('print a fresh base64 32-byte key for VAULT_KEY')
    .action(() => {
      process.stdout.write(`${generateKey()}\n`);
    });

  program
    .command('cleanup')
    .description('run the cleanup job once (what the cron runs) and print what it removed')
    .action(async () => {
      const cfg = config();
      const logger = createLogger(cfg.logLevel);
      const services = await openServices(cfg, logger);
      try {
        // With the chats attached, an expired request is said in its thread, as `serve` would.
        const core = buildCore(services);
        await attachSurfaces(core, services);
        const report = await core.cleanup.run();
        const lines = [
          `media deleted: ${report.mediaDeleted.length}`,
          ...report.mediaDeleted.map((m) => `  ${m.mediaId} (${m.reason}${m.postId ? `, post ${m.postId}` : ''})`),
          `approval requests expired: ${report.approvalsExpired.length}${report.approvalsExpired.length > 0 ? ` (${report.approvalsExpired.join(', ')})` : ''}`,
          `connect links purged: ${report.connectLinksPurged}`,
          `OAuth states purged: ${report.oauthStatesPurged}`,
          `unfinished writes removed: ${report.unfinishedWritesRemoved}`,
          `unreferenced media files removed: ${report.unreferencedFilesRemoved}`,
          `removed workspaces deleted after their retention: ${report.workspacesPurged}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await services.db.destroy();
      }
    });

  const slack = program.command('slack').description('the Slack app');
  slack
    .command('manifest')
    .description('print a Slack app manifest (YAML) with every scope, event, command and URL this service needs, for PUBLIC_URL')
    .action(() => {
      process.stdout.write(slackManifest(config().publicUrl, config().policyUrls));
    });

  const discord = program.command('discord').description('the Discord bot');
  discord
    .command('register-commands')
    .description('register the /iqsp slash command with Discord (global, or one guild with --guild)')
    .option('--guild <id>', 'register in this guild only (changes show at once; global ones can take a while)')
    .action(async (options: { guild?: string }) => {
      const cfg = config();
      if (!cfg.discord.enabled) throw new ConfigError('DISCORD_TOKEN', `must be set to register commands (${cfg.discord.missing})`);
      if (options.guild !== undefined && !/^\d{15,22}$/.test(options.guild))
        throw new UsageError(`--guild must be a Discord guild id (digits), got "${options.guild}"`);
      const { registerDiscordCommands } = await import('./bots/discord/index.js');
      const result = await registerDiscordCommands({
        token: cfg.discord.token,
        applicationId: cfg.discord.applicationId,
        apiUrl: cfg.discord.apiUrl,
        guildId: options.guild,
      });
      process.stdout.write(
        `registered ${result.commands.map((c) => `/${c}`).join(', ')} (${result.scope === 'guild' ? `guild ${options.guild}` : 'global'})\n`,
      );
    });

  const vault = program.command('vault').description('manage the key that encrypts stored secrets');
  vault
    .command('rotate')
    .description('re-encrypt every stored secret with the current VAULT_KEY; afterwards VAULT_PREVIOUS_KEYS are no longer needed')
    .action(async () => {
      const cfg = config();
      const logger = createLogger(cfg.logLevel);
      const services = await openServices(cfg, logger);
      try {
        const count = await rotateAllSecrets(services.db, services.vault);
        process.stdout.write(`re-encrypted ${count} secret(s) with key ${services.vault.currentKeyId}\n`);
      } finally {
        await services.db.destroy();
      }
    });

  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    process.stderr.write('iqsp: no command given (run "iqsp --help" for the commands)\n');
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0.
      if (error.exitCode === 0) return 0;
      // Bad usage: one line naming what is wrong (contract.md §1).
      const words = argv.slice(2).filter((w) => !w.startsWith('-'));
      const problem =
        error.code === 'commander.help'
          ? `"${words.join(' ')}" needs a sub-command (run "iqsp ${words.join(' ')} --help")`
          : `${error.message.replace(/^error: /, '')} (run "iqsp --help" for the commands)`;
      process.stderr.write(`iqsp: ${problem}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`iqsp: ${redactText(error.message)}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`iqsp: ${redactText(error instanceof Error ? error.message : String(error))}\n`);
    return EXIT_RUNTIME;
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`iqsp: ${String(error)}\n`);
    process.exit(EXIT_RUNTIME);
  },
);

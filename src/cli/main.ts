/**
 * The `siplet` command. The only place in `src/` that writes to the console: usage, `--version`, and
 * configuration errors (exit 2). Everything after start-up goes through the logger.
 *
 * Exit codes: 0 done (or closed cleanly after SIGINT/SIGTERM), 1 the server failed to start or to
 * close (or a management command was refused), 2 usage or configuration error, 130 a second signal
 * forced the exit (or the password prompt was interrupted).
 */
import { closest, loadConfig, readFileIfExists, settingsHelp } from '../config/index.js';
import type { ConfigFileReader, SipletConfig } from '../config/index.js';
import { startServer as defaultStartServer, type StartServerOptions } from '../server.js';
import { createLogger, SipletError } from '../util/index.js';
import type { Logger } from '../util/index.js';
import { APP_COMMANDS, APP_COMMANDS_USAGE, runAppCommand, type AppCommand } from './app-commands.js';
import { DATA_COMMANDS, DATA_COMMANDS_USAGE, runDataCommand, type DataCommand } from './data-commands.js';
import type { PasswordInput } from './read-password.js';
import { readVersion } from './version.js';

export interface Output {
  write(text: string): unknown;
}

/** What `process` offers for signals; tests pass an EventEmitter. */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

export interface CliOptions {
  /** Arguments after the program name: `['start', '--sip-port', '5070']`. */
  argv: readonly string[];
  /** Default: `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Default: `process.cwd()`. */
  cwd?: string;
  /** Default: `process.stdout`. */
  stdout?: Output;
  /** Default: `process.stderr`. */
  stderr?: Output;
  /** Where `users add` and `users passwd` read a password. Default: `process.stdin`. */
  stdin?: PasswordInput;
  /** Default: the disk (`readFileIfExists`). */
  readFile?: ConfigFileReader;
  /** Default: `startServer` from `src/server.ts`. */
  startServer?: (config: SipletConfig, logger: Logger, options?: StartServerOptions) => Promise<{ close(): Promise<void> }>;
  /** Default: `createLogger` at the configured level and format. */
  createLogger?: (config: SipletConfig) => Logger;
  /** Default: `process`. */
  signals?: SignalSource;
  /** Ends the process at once when a second signal arrives during shutdown. Default: `process.exit`. */
  exit?: (code: number) => void;
  /** How long `close()` may take after a signal before start gives up with exit 1. Default: 10 000 ms. */
  shutdownTimeoutMs?: number;
}

const COMMANDS = ['start', 'help', 'version', ...APP_COMMANDS, ...DATA_COMMANDS] as const;

function usage(version: string): string {
  return [
    `siplet ${version} — a servlet-style SIP application server for Node.js`,
    '',
    'Usage:',
    '  siplet start [settings]   run the server until SIGINT or SIGTERM',
    '  siplet start --help       list every setting, its SIPLET_* variable and its default',
    ...APP_COMMANDS_USAGE,
    ...DATA_COMMANDS_USAGE,
    '  siplet --version          print the version',
    '  siplet --help             print this help',
    '',
    'Settings come from, lowest precedence first: defaults, the config file (--config <file>,',
    'SIPLET_CONFIG, or ./siplet.json), SIPLET_* environment variables, command-line flags.',
    '',
  ].join('\n');
}

function startHelp(): string {
  return ['Usage: siplet start [settings]', '', settingsHelp(), ''].join('\n');
}

/** Runs one `siplet` invocation and resolves with its exit code. Never rejects. */
export async function runCli(options: CliOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const [command, ...rest] = options.argv;
  const version = readVersion();

  if (command === undefined) {
    stderr.write(usage(version));
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    stdout.write(usage(version));
    return 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    stdout.write(`${version}\n`);
    return 0;
  }
  if ((APP_COMMANDS as readonly string[]).includes(command)) {
    return runAppCommand(command as AppCommand, rest, { env: options.env ?? process.env, cwd: options.cwd ?? process.cwd(), stdout, stderr, readFile: options.readFile });
  }
  if ((DATA_COMMANDS as readonly string[]).includes(command)) {
    return runDataCommand(command as DataCommand, rest, {
      env: options.env ?? process.env,
      cwd: options.cwd ?? process.cwd(),
      stdout,
      stderr,
      stdin: options.stdin,
      readFile: options.readFile,
      createLogger: options.createLogger,
    });
  }
  if (command !== 'start') {
    const suggestion = closest(command, COMMANDS);
    stderr.write(
      `siplet: unknown command "${command}".${suggestion ? ` Did you mean "${suggestion}"?` : ''} Run "siplet --help".\n`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    stdout.write(startHelp());
    return 0;
  }
  return start(rest, version, options, stdout, stderr);
}

async function start(argv: readonly string[], version: string, options: CliOptions, stdout: Output, stderr: Output): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig({
      argv,
      env: options.env ?? process.env,
      cwd: options.cwd ?? process.cwd(),
      readFile: options.readFile ?? readFileIfExists,
    });
  } catch (error) {
    if (!SipletError.is(error)) {
      stderr.write(`siplet: unexpected error while reading the configuration: ${String(error)}\n`);
      return 1;
    }
    stderr.write(`${error.message.split('\n').map((line) => `siplet: ${line}`).join('\n')}\n`);
    return 2;
  }

  const { config } = loaded;
  const logger = (options.createLogger ?? defaultCreateLogger)(config);
  const log = logger.child({ layer: 'cli' });
  for (const warning of loaded.warnings) log.warn(warning);
  log.info({ version, configFile: loaded.configFile, pid: process.pid }, 'starting siplet');

  let server: { close(): Promise<void> };
  try {
    server = await (options.startServer ?? defaultStartServer)(config, logger, {
      env: options.env ?? process.env,
      onGeneratedPassword: ({ user, password }) => stdout.write(generatedPasswordNotice(user, password, config)),
    });
  } catch (error) {
    log.fatal({ err: error }, 'siplet failed to start');
    stderr.write(`siplet: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  log.info({ host: config.host, sipPort: config.sipPort, httpHost: config.httpHost, httpPort: config.httpPort }, 'siplet started');

  const signal = await waitForSignal(options.signals ?? process);
  log.info({ signal }, 'shutting down');
  const signals = options.signals ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const force = () => {
    log.warn('second signal: exiting without waiting for close');
    exit(130);
  };
  signals.on('SIGINT', force);
  signals.on('SIGTERM', force);
  try {
    await withTimeout(server.close(), options.shutdownTimeoutMs ?? 10_000);
    log.info('siplet stopped');
    return 0;
  } catch (error) {
    log.error({ err: error }, 'siplet did not close cleanly');
    return 1;
  } finally {
    signals.off('SIGINT', force);
    signals.off('SIGTERM', force);
  }
}

/**
 * Printed once, on the first start without an admin account or SIPLET_ADMIN_PASSWORD: straight to
 * stdout, never through the logger (logs are collected and kept; this must not be).
 */
function generatedPasswordNotice(user: string, password: string, config: SipletConfig): string {
  const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.httpPort}/admin/`;
  return [
    '',
    '  ================================================================',
    '  Siplet admin console: first start, a password was generated.',
    `    user:      ${user}`,
    `    password:  ${password}`,
    `    console:   ${url}`,
    '  It is shown this once and stored only as a hash: note it now.',
    '  To choose it yourself, start with SIPLET_ADMIN_PASSWORD set.',
    '  ================================================================',
    '',
    '',
  ].join('\n');
}

function defaultCreateLogger(config: SipletConfig): Logger {
  return createLogger({ level: config.logLevel, pretty: config.logFormat === 'pretty' });
}

/**
 * Resolves with the first SIGINT or SIGTERM. Holds the event loop open meanwhile: `start` runs until
 * told to stop, whether or not the server's sockets would keep the process alive.
 */
function waitForSignal(signals: SignalSource): Promise<'SIGINT' | 'SIGTERM'> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    const done = (signal: 'SIGINT' | 'SIGTERM') => {
      clearInterval(keepAlive);
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
      resolve(signal);
    };
    signals.on('SIGINT', onInt);
    signals.on('SIGTERM', onTerm);
  });
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`close() did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Entry point for `bin/siplet.js`. */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  return runCli({ argv });
}

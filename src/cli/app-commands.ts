/**
 * `siplet pack`, `deploy`, `undeploy` and `apps`: building archives, and the client side of the
 * running server's admin API. Exit codes: 0 done, 1 refused (the message says why), 2 usage.
 */
import { loadConfig, readFileIfExists, type ConfigFileReader } from '../config/index.js';
import { SipletError } from '../util/index.js';
import { AdminClient, type AppListing } from './admin-client.js';
import { packApp } from './pack.js';

export interface AppCommandContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  readFile?: ConfigFileReader;
}

export const APP_COMMANDS = ['pack', 'deploy', 'undeploy', 'apps'] as const;
export type AppCommand = (typeof APP_COMMANDS)[number];

export const APP_COMMANDS_USAGE = [
  '  siplet pack <app folder> [-o app.sar]       compile (TypeScript) and pack an app into a .sar archive',
  '  siplet deploy <file.sar>                    deploy an archive on a running server (admin API)',
  '  siplet undeploy <name> [--force]            undeploy an app; --force ends its calls at once',
  '  siplet apps                                 list the deployed apps and their state',
  '    (deploy, undeploy, apps: --url <http://host:port> (default: this config\'s HTTP address),',
  '     --user <name> or SIPLET_ADMIN_USER, and SIPLET_ADMIN_PASSWORD)',
];

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['-o', '--output', '--url', '--user']);
const ALLOWED: Record<AppCommand, { flags: string[]; positional: [min: number, max: number]; usage: string }> = {
  pack: { flags: ['-o', '--output'], positional: [1, 1], usage: 'siplet pack <app folder> [-o app.sar]' },
  deploy: { flags: ['--url', '--user'], positional: [1, 1], usage: 'siplet deploy <file.sar> [--url <url>] [--user <name>]' },
  undeploy: { flags: ['--url', '--user', '--force'], positional: [1, 1], usage: 'siplet undeploy <name> [--force] [--url <url>] [--user <name>]' },
  apps: { flags: ['--url', '--user', '--json'], positional: [0, 0], usage: 'siplet apps [--json] [--url <url>] [--user <name>]' },
};

function parse(argv: readonly string[]): Parsed | string {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') return `${name} needs a value`;
      flags.set(name, value);
    } else {
      flags.set(name, true);
    }
  }
  return { positional, flags };
}

/** Runs one of the app commands; resolves with the exit code. Never rejects. */
export async function runAppCommand(command: AppCommand, argv: readonly string[], context: AppCommandContext): Promise<number> {
  const spec = ALLOWED[command];
  if (argv.includes('--help') || argv.includes('-h')) {
    context.stdout.write(`Usage: ${spec.usage}\n`);
    return 0;
  }
  const parsed = parse(argv);
  const usageError = (text: string): number => {
    context.stderr.write(`siplet ${command}: ${text}. Usage: ${spec.usage}\n`);
    return 2;
  };
  if (typeof parsed === 'string') return usageError(parsed);
  const unknown = [...parsed.flags.keys()].find((flag) => !spec.flags.includes(flag));
  if (unknown !== undefined) return usageError(`unknown option ${unknown}`);
  const [min, max] = spec.positional;
  if (parsed.positional.length < min) return usageError('an argument is missing');
  if (parsed.positional.length > max) return usageError(`unexpected argument ${parsed.positional[max]}`);
  const arg = parsed.positional[0] ?? '';

  try {
    if (command === 'pack') {
      const output = parsed.flags.get('-o') ?? parsed.flags.get('--output');
      const result = await packApp({ folder: arg, output: typeof output === 'string' ? output : undefined, cwd: context.cwd });
      context.stdout.write(
        `${result.archive}: ${result.name}${result.version ? ` ${result.version}` : ''}, ${result.entries.length} files${result.compiled ? ' (TypeScript compiled)' : ''}\n`,
      );
      return 0;
    }
    const client = new AdminClient({
      url: typeof parsed.flags.get('--url') === 'string' ? (parsed.flags.get('--url') as string) : defaultUrl(context),
      // The admin account is named admin unless SIPLET_ADMIN_USER named it otherwise (as the server does).
      user: (parsed.flags.get('--user') as string | undefined) ?? emptyToUndefined(context.env['SIPLET_ADMIN_USER']) ?? (emptyToUndefined(context.env['SIPLET_ADMIN_PASSWORD']) === undefined ? undefined : 'admin'),
      password: context.env['SIPLET_ADMIN_PASSWORD'],
    });
    if (command === 'deploy') {
      const result = await client.deploy(arg);
      const app = (result ?? {}) as Partial<AppListing>;
      context.stdout.write(`deployed ${app.name ?? arg}${app.version ? ` ${app.version}` : ''}${app.state ? ` (${app.state})` : ''}\n`);
      return 0;
    }
    if (command === 'undeploy') {
      const force = parsed.flags.get('--force') === true;
      await client.undeploy(arg, { force });
      context.stdout.write(force ? `undeployed ${arg}: its calls were ended\n` : `undeploying ${arg}: it takes no new calls; live calls finish first\n`);
      return 0;
    }
    const apps = await client.list();
    if (parsed.flags.get('--json') === true) context.stdout.write(`${JSON.stringify(apps, null, 2)}\n`);
    else context.stdout.write(table(apps));
    return 0;
  } catch (error) {
    if (SipletError.is(error)) {
      context.stderr.write(`${error.message.split('\n').map((line) => `siplet ${command}: ${line}`).join('\n')}\n`);
      return 1;
    }
    context.stderr.write(`siplet ${command}: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** `http://<httpHost>:<httpPort>` of the configuration this directory would start with (loopback for a wildcard). */
function defaultUrl(context: AppCommandContext): string {
  try {
    const { config } = loadConfig({ argv: [], env: context.env, cwd: context.cwd, readFile: context.readFile ?? readFileIfExists });
    const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
    return `http://${host.includes(':') ? `[${host}]` : host}:${config.httpPort}`;
  } catch {
    return 'http://127.0.0.1:8080';
  }
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function table(apps: readonly AppListing[]): string {
  if (apps.length === 0) return 'no applications deployed\n';
  const rows = [['NAME', 'VERSION', 'STATE', 'SESSIONS'], ...apps.map((a) => [a.name, a.version ?? '-', a.state ?? '-', a.sessions === undefined ? '-' : String(a.sessions)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((cell, i) => String(cell).padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

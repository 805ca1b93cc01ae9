/**
 * `siplet realms`, `siplet users` and `siplet registrations`: management of the data store
 * (`<dataDir>/siplet.db`) through the store's management API, with the same `--data` flag,
 * SIPLET_DATA variable and config file as `siplet start`. They work whether or not a server runs on
 * the same data directory (SQLite in WAL mode; a running server sees the change at once).
 *
 * Exit codes: 0 done, 1 refused (an unknown or duplicate realm or user, a store that cannot be
 * opened), 2 usage or bad input (a malformed name, an empty password), 130 interrupted at the
 * password prompt.
 */
import { loadConfig, readFileIfExists, type ConfigFileReader, type SipletConfig } from '../config/index.js';
import { Management, openDataStore as defaultOpenDataStore, parseUserAddress, type DataStore } from '../store/index.js';
import { createLogger, SipletError, type Logger } from '../util/index.js';
import { readPassword, type PasswordInput } from './read-password.js';

export interface DataCommandContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Where `users add` and `users passwd` read the password. Default: `process.stdin`. */
  stdin?: PasswordInput;
  readFile?: ConfigFileReader;
  /** Default: a logger at the configured format, warnings and worse only. */
  createLogger?: (config: SipletConfig) => Logger;
  /** Default: `openDataStore` of src/store (SQLite at `<dataDir>/siplet.db`). */
  openDataStore?: (dataDir: string, logger: Logger) => DataStore;
  /** The clock for "expires in" of `registrations list`. Default: `Date.now`. */
  now?: () => number;
}

export const DATA_COMMANDS = ['realms', 'users', 'registrations'] as const;
export type DataCommand = (typeof DATA_COMMANDS)[number];

export const DATA_COMMANDS_USAGE = [
  '  siplet realms add|list|remove [realm]       the domains Siplet serves and authenticates for',
  '  siplet users add|remove|passwd <user@realm>  users of digest authentication (password prompted, or',
  '  siplet users list [realm]                    one line from standard input); add takes --roles a,b',
  '  siplet registrations list [aor]              current registrations; remove <aor> [contact URI]',
  '    (realms, users, registrations: --data <dir> or SIPLET_DATA, and --config, as for start)',
];

interface Action {
  /** Positional arguments after the action: [min, max]. */
  args: [min: number, max: number];
  usage: string;
  flags?: string[];
}

const ACTIONS: Record<DataCommand, Record<string, Action>> = {
  realms: {
    add: { args: [1, 1], usage: 'siplet realms add <realm>' },
    list: { args: [0, 0], usage: 'siplet realms list' },
    remove: { args: [1, 1], usage: 'siplet realms remove <realm>   (removes its users too)' },
  },
  users: {
    add: { args: [1, 1], usage: 'siplet users add <user@realm> [--roles role1,role2]', flags: ['--roles'] },
    list: { args: [0, 1], usage: 'siplet users list [realm]' },
    remove: { args: [1, 1], usage: 'siplet users remove <user@realm>' },
    passwd: { args: [1, 1], usage: 'siplet users passwd <user@realm>' },
  },
  registrations: {
    list: { args: [0, 1], usage: 'siplet registrations list [aor]' },
    remove: { args: [1, 2], usage: 'siplet registrations remove <aor> [contact URI]' },
  },
};

/** Flags every data command takes: those of the data directory's configuration. */
const CONFIG_FLAGS = ['--data', '--config'];

function usageOf(command: DataCommand): string {
  return Object.values(ACTIONS[command])
    .map((a) => `  ${a.usage}`)
    .join('\n');
}

/** Runs one data command; resolves with the exit code. Never rejects. */
export async function runDataCommand(command: DataCommand, argv: readonly string[], context: DataCommandContext): Promise<number> {
  const [action, ...rest] = argv;
  const say = (text: string): void => void context.stdout.write(`${text}\n`);
  const complain = (text: string): void => void context.stderr.write(`${text.split('\n').map((line) => `siplet ${command}: ${line}`).join('\n')}\n`);
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    (action === undefined ? context.stderr : context.stdout).write(`Usage:\n${usageOf(command)}\n  options: --data <dir> (or SIPLET_DATA), --config <file>\n`);
    return action === undefined ? 2 : 0;
  }
  const spec = ACTIONS[command][action];
  if (spec === undefined) {
    complain(`unknown action "${action}". Usage:\n${usageOf(command)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    say(`Usage: ${spec.usage}\n  options: --data <dir> (or SIPLET_DATA), --config <file>`);
    return 0;
  }

  // Positional arguments, this action's own flags, and the configuration flags for loadConfig.
  const positional: string[] = [];
  const own = new Map<string, string>();
  const configArgv: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? rest[i + 1] : arg.slice(eq + 1);
    if (!CONFIG_FLAGS.includes(flag) && !(spec.flags ?? []).includes(flag)) {
      complain(`unknown option ${flag}. Usage: ${spec.usage}; options: --data <dir>, --config <file>`);
      return 2;
    }
    if (value === undefined || (eq < 0 && value.startsWith('--'))) {
      complain(`${flag} needs a value. Usage: ${spec.usage}`);
      return 2;
    }
    if (eq < 0) i++;
    if (CONFIG_FLAGS.includes(flag)) configArgv.push(flag, value);
    else own.set(flag, value);
  }
  const [min, max] = spec.args;
  if (positional.length < min) {
    complain(`an argument is missing. Usage: ${spec.usage}`);
    return 2;
  }
  if (positional.length > max) {
    complain(`unexpected argument "${positional[max]}". Usage: ${spec.usage}`);
    return 2;
  }

  let config: SipletConfig;
  try {
    config = loadConfig({ argv: configArgv, env: context.env, cwd: context.cwd, readFile: context.readFile ?? readFileIfExists }).config;
  } catch (error) {
    complain(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const logger = (context.createLogger ?? quietLogger)(config);

  let store: DataStore | undefined;
  try {
    // Checked before the store is opened (and before a password is asked for).
    const address = command === 'users' && positional[0] !== undefined && action !== 'list' ? parseUserAddress(positional[0]) : undefined;
    store = (context.openDataStore ?? defaultOpenDataStore)(config.dataDir, logger);
    const manage = new Management(store);
    const password = async (): Promise<string | number> => {
      const input = context.stdin ?? (process.stdin as PasswordInput);
      const who = `${address?.user}@${address?.realm}`;
      const first = await readPassword(input, { prompt: `Password for ${who}: `, promptTo: context.stderr });
      if (!first.ok) {
        if (first.reason === 'interrupted') return 130;
        complain('no password given: type one at the prompt, or give it as one line on standard input.');
        return 2;
      }
      if (input.isTTY === true && first.password !== '') {
        const again = await readPassword(input, { prompt: 'Again: ', promptTo: context.stderr });
        if (!again.ok) return again.reason === 'interrupted' ? 130 : 2;
        if (again.password !== first.password) {
          complain('the two passwords differ; nothing was changed.');
          return 1;
        }
      }
      return first.password;
    };

    switch (`${command} ${action}`) {
      case 'realms add':
        say(`realm ${await manage.addRealm({ realm: positional[0] as string })} added`);
        return 0;
      case 'realms list': {
        const realms = await manage.listRealms();
        if (realms.length === 0) context.stderr.write('no realms yet: add one with "siplet realms add <realm>"\n');
        for (const r of realms) say(`${r.realm}\t${r.users} user${r.users === 1 ? '' : 's'}`);
        return 0;
      }
      case 'realms remove': {
        const removed = await manage.removeRealm({ realm: positional[0] as string });
        say(`realm ${removed.realm} removed${removed.usersRemoved > 0 ? `, with its ${removed.usersRemoved} user${removed.usersRemoved === 1 ? '' : 's'}` : ''}`);
        return 0;
      }
      case 'users add': {
        const { user, realm } = address as { user: string; realm: string };
        // Refuse an unknown realm or a duplicate user before asking for a password.
        await manage.checkUser({ user, realm, exists: false });
        const roles = own.get('--roles')?.split(',').map((r) => r.trim()).filter((r) => r !== '');
        const secret = await password();
        if (typeof secret === 'number') return secret;
        const added = await manage.addUser({ user, realm, password: secret, roles });
        say(`user ${added.username}@${added.realm} added${added.roles.length > 0 ? ` with roles ${added.roles.join(', ')}` : ''}`);
        return 0;
      }
      case 'users list': {
        const users = await manage.listUsers({ realm: positional[0] });
        if (users.length === 0) context.stderr.write(positional[0] === undefined ? 'no users yet: add one with "siplet users add <user@realm>"\n' : 'no users in that realm\n');
        for (const u of users) say(`${u.username}@${u.realm}${u.roles.length > 0 ? `\t${u.roles.join(',')}` : ''}`);
        return 0;
      }
      case 'users remove': {
        const { user, realm } = address as { user: string; realm: string };
        await manage.removeUser({ user, realm });
        say(`user ${user}@${realm} removed`);
        return 0;
      }
      case 'users passwd': {
        const { user, realm } = address as { user: string; realm: string };
        // Refuse an unknown realm or user before asking for a password.
        await manage.checkUser({ user, realm, exists: true });
        const secret = await password();
        if (typeof secret === 'number') return secret;
        await manage.setPassword({ user, realm, password: secret });
        say(`password of ${user}@${realm} changed`);
        return 0;
      }
      case 'registrations list': {
        const bindings = await manage.listRegistrations({ aor: positional[0] });
        const now = (context.now ?? Date.now)();
        if (bindings.length === 0) context.stderr.write('no registrations\n');
        for (const b of bindings) say(`${b.aor}\t${b.contact}\texpires in ${Math.max(0, Math.ceil((b.expires - now) / 1000))} s`);
        return 0;
      }
      case 'registrations remove': {
        const n = await manage.removeRegistrations({ aor: positional[0] as string, uri: positional[1] });
        say(`${n} registration${n === 1 ? '' : 's'} removed`);
        return n === 0 && positional[1] !== undefined ? 1 : 0;
      }
      default:
        complain(`unknown action "${action}"`);
        return 2;
    }
  } catch (error) {
    if (SipletError.is(error)) {
      complain(error.message);
      return error.code === 'SIPLET_STORE_INVALID_INPUT' ? 2 : 1;
    }
    complain(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await store?.close();
  }
}

/** Management commands print their own results; the logger only says what went wrong. */
function quietLogger(config: SipletConfig): Logger {
  return createLogger({ level: config.logLevel === 'silent' ? 'silent' : 'warn', pretty: config.logFormat === 'pretty', destination: process.stderr });
}

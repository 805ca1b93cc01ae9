import { dirname, isAbsolute, resolve } from 'node:path';
import { SipletError } from '../util/index.js';
import type { SipletErrorCode } from '../util/index.js';
import { crossCheck, readSetting, SETTINGS } from './config.js';
import type { SettingKey, SettingSpec, SipletConfig } from './config.js';

/**
 * Reads a file as UTF-8 text. Returns `undefined` when the file does not exist; throws for any other
 * failure (permissions, a directory). `readFileIfExists` is the one that touches the disk.
 */
export type ConfigFileReader = (path: string) => string | undefined;

export interface LoadConfigOptions {
  /** Arguments after the subcommand: `['--sip-port', '5070', '--config=siplet.json']`. */
  argv: readonly string[];
  /** The environment; only `SIPLET_*` names are read. */
  env: Readonly<Record<string, string | undefined>>;
  readFile: ConfigFileReader;
  /** Directory relative paths on the command line and in the environment are resolved against. */
  cwd: string;
}

/** Where the value of a setting came from, for messages and the start-up log. */
export type SettingOrigin =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly path: string; readonly key: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'flag'; readonly flag: string };

export interface LoadedConfig {
  readonly config: SipletConfig;
  readonly origins: Readonly<Record<SettingKey, SettingOrigin>>;
  /** The config file read, absolute; undefined when none was given and `siplet.json` is absent. */
  readonly configFile: string | undefined;
  /** Things worth logging that do not stop start-up (an unknown `SIPLET_*` variable). */
  readonly warnings: readonly string[];
}

/** The flag and variable that name the config file; not settings themselves. */
export const CONFIG_FLAG = '--config';
export const CONFIG_ENV = 'SIPLET_CONFIG';
/** Read from the working directory when neither names a file. */
export const DEFAULT_CONFIG_FILE = 'siplet.json';

interface Problem {
  code: SipletErrorCode;
  message: string;
}

interface RawValue {
  raw: unknown;
  origin: SettingOrigin;
  /** Relative paths from this source resolve against this directory. */
  base: string;
}

const FLAGS = new Map(SETTINGS.map((spec) => [spec.flag, spec]));
const ENV_NAMES = new Map(SETTINGS.map((spec) => [spec.env, spec]));
/** `SIPLET_*` variables that are read elsewhere, not settings: the admin account's credentials (never in the config). */
const NOT_SETTINGS = new Set([CONFIG_ENV, 'SIPLET_ADMIN_USER', 'SIPLET_ADMIN_PASSWORD']);
const FILE_KEYS = new Map<string, SettingSpec>(SETTINGS.map((spec) => [spec.key, spec]));

/**
 * Merges, lowest precedence first: defaults < config file < `SIPLET_*` environment < flags.
 * Pure: the disk is reached only through `readFile`.
 *
 * Throws a `SipletError` (`SIPLET_CONFIG_*`) whose message lists every problem found, one a line,
 * each naming the setting, where the bad value came from and what to set.
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const flags = parseFlags(options.argv, problems);
  const located = locateConfigFile(flags.configPath, options);
  const fileValues = readConfigFile(located, options.readFile, problems);
  const configFile = fileValues ? located.path : undefined;
  const layers: Map<SettingKey, RawValue>[] = [];

  if (fileValues) layers.push(fileValues);
  layers.push(readEnvironment(options.env, options.cwd, warnings));
  layers.push(new Map([...flags.values].map(([key, raw]) => [key, { ...raw, base: options.cwd }])));

  const merged: Record<string, unknown> = {};
  const origins: Record<string, SettingOrigin> = {};
  for (const spec of SETTINGS) {
    let chosen: RawValue | undefined;
    for (const layer of layers) chosen = layer.get(spec.key) ?? chosen;
    if (!chosen) {
      merged[spec.key] = spec.type.kind === 'path' && spec.default !== '' ? resolve(options.cwd, spec.default as string) : spec.default;
      origins[spec.key] = { kind: 'default' };
      continue;
    }
    const result = readSetting(spec.type, chosen.raw);
    if (!result.ok) {
      problems.push({ code: 'SIPLET_CONFIG_INVALID', message: invalidMessage(spec, chosen, result.expected) });
      continue;
    }
    merged[spec.key] = spec.type.kind === 'path' && result.value !== '' ? resolvePath(chosen.base, result.value as string) : result.value;
    origins[spec.key] = chosen.origin;
  }

  if (problems.length === 0) {
    for (const message of crossCheck(merged as unknown as SipletConfig)) {
      problems.push({ code: 'SIPLET_CONFIG_INVALID', message });
    }
  }
  if (problems.length > 0) throw toError(problems);

  return {
    config: Object.freeze(merged) as unknown as SipletConfig,
    origins: origins as Record<SettingKey, SettingOrigin>,
    configFile,
    warnings,
  };
}

/**
 * A complete, validated configuration from defaults and `overrides`, for tests and embedding.
 * Relative paths resolve against the working directory. Throws like `loadConfig`.
 */
export function createConfig(overrides: Partial<SipletConfig> = {}): SipletConfig {
  const problems: Problem[] = [];
  const config: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const given = overrides[spec.key];
    const result = readSetting(spec.type, given === undefined ? spec.default : given);
    if (!result.ok) {
      problems.push({
        code: 'SIPLET_CONFIG_INVALID',
        message: `Invalid ${spec.key} ${JSON.stringify(given)}: expected ${result.expected}.`,
      });
      continue;
    }
    config[spec.key] = spec.type.kind === 'path' && result.value !== '' ? resolve(result.value as string) : result.value;
  }
  for (const key of Object.keys(overrides)) {
    if (!FILE_KEYS.has(key)) problems.push(unknownProblem(`Unknown setting "${key}".`, key, FILE_KEYS.keys(), (k) => `"${k}"`));
  }
  if (problems.length === 0) {
    for (const message of crossCheck(config as unknown as SipletConfig)) problems.push({ code: 'SIPLET_CONFIG_INVALID', message });
  }
  if (problems.length > 0) throw toError(problems);
  return Object.freeze(config) as unknown as SipletConfig;
}

function parseFlags(argv: readonly string[], problems: Problem[]) {
  const values = new Map<SettingKey, { raw: unknown; origin: SettingOrigin }>();
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      problems.push({
        code: 'SIPLET_CLI_USAGE',
        message: `Unexpected argument "${arg}": settings are given as --name value. Run "siplet start --help".`,
      });
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    const spec = FLAGS.get(flag);
    if (!spec && flag !== CONFIG_FLAG) {
      problems.push(unknownProblem(`Unknown flag ${flag}.`, flag, [...FLAGS.keys(), CONFIG_FLAG], (f) => f));
      if (value === undefined && argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith('--')) i++;
      continue;
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        problems.push({
          code: 'SIPLET_CONFIG_INVALID',
          message: `${flag} needs a value: ${flag} <${spec ? spec.advice : 'file'}>.`,
        });
        continue;
      }
      value = next;
      i++;
    }
    if (!spec) {
      configPath = value;
      continue;
    }
    const previous = values.get(spec.key);
    // Repeating a list flag adds to the list; repeating any other flag keeps the last.
    const raw = spec.type.kind === 'domains' && previous ? `${String(previous.raw)},${value}` : value;
    values.set(spec.key, { raw, origin: { kind: 'flag', flag: spec.flag } });
  }
  return { values, configPath };
}

/** The file named by `--config`, else by SIPLET_CONFIG, else `siplet.json` in `cwd` (optional). */
function locateConfigFile(flagPath: string | undefined, options: LoadConfigOptions): { path: string; optional: boolean } {
  if (flagPath !== undefined) return { path: resolve(options.cwd, flagPath), optional: false };
  const fromEnv = options.env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { path: resolve(options.cwd, fromEnv), optional: false };
  return { path: resolve(options.cwd, DEFAULT_CONFIG_FILE), optional: true };
}

/** Returns undefined when an optional file is absent. */
function readConfigFile(
  located: { path: string; optional: boolean },
  readFile: ConfigFileReader,
  problems: Problem[],
): Map<SettingKey, RawValue> | undefined {
  const { path } = located;
  const values = new Map<SettingKey, RawValue>();
  let text: string | undefined;
  try {
    text = readFile(path);
  } catch (error) {
    throw new SipletError(
      'SIPLET_CONFIG_FILE_UNREADABLE',
      `Cannot read config file ${path}: ${(error as Error).message}. Fix its permissions or point --config / SIPLET_CONFIG elsewhere.`,
      { cause: error, details: { path } },
    );
  }
  if (text === undefined) {
    if (located.optional) return undefined;
    throw new SipletError(
      'SIPLET_CONFIG_FILE_UNREADABLE',
      `Config file ${path} does not exist. Create it, or fix the path given by --config or SIPLET_CONFIG.`,
      { details: { path } },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SipletError(
      'SIPLET_CONFIG_FILE_UNREADABLE',
      `Config file ${path} is not valid JSON: ${(error as Error).message}.`,
      { cause: error, details: { path } },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SipletError(
      'SIPLET_CONFIG_FILE_UNREADABLE',
      `Config file ${path} must hold a JSON object such as { "sipPort": 5060 }.`,
      { details: { path } },
    );
  }
  for (const [key, raw] of Object.entries(parsed)) {
    const spec = FILE_KEYS.get(key);
    if (!spec) {
      problems.push(unknownProblem(`Unknown setting "${key}" in ${path}.`, key, FILE_KEYS.keys(), (k) => `"${k}"`));
      continue;
    }
    values.set(spec.key, { raw, origin: { kind: 'file', path, key }, base: dirname(path) });
  }
  return values;
}

function readEnvironment(env: LoadConfigOptions['env'], cwd: string, warnings: string[]): Map<SettingKey, RawValue> {
  const values = new Map<SettingKey, RawValue>();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('SIPLET_') || NOT_SETTINGS.has(name)) continue;
    const spec = ENV_NAMES.get(name);
    if (!spec) {
      warnings.push(unknownProblem(`Ignoring unknown environment variable ${name}.`, name, ENV_NAMES.keys(), (n) => n).message);
      continue;
    }
    // An empty variable counts as unset: compose files and CI templates often export NAME= .
    if (raw === undefined || raw === '') continue;
    values.set(spec.key, { raw, origin: { kind: 'env', name }, base: cwd });
  }
  return values;
}

function resolvePath(base: string, value: string): string {
  return isAbsolute(value) ? value : resolve(base, value);
}

function invalidMessage(spec: SettingSpec, value: RawValue, expected: string): string {
  const shown = typeof value.raw === 'string' ? `"${value.raw}"` : JSON.stringify(value.raw);
  const origin = value.origin;
  const from =
    origin.kind === 'env'
      ? ` (from ${origin.name})`
      : origin.kind === 'file'
        ? ` (from "${origin.key}" in ${origin.path})`
        : '';
  const where = origin.kind === 'file' ? `"${origin.key}" in ${origin.path}, ` : '';
  return `Invalid ${spec.flag} ${shown}${from}: expected ${expected}. Set ${where}${spec.env} or ${spec.flag} to ${spec.advice}.`;
}

function unknownProblem(message: string, given: string, candidates: Iterable<string>, show: (c: string) => string): Problem {
  const suggestion = closest(given, candidates);
  return {
    code: 'SIPLET_CONFIG_UNKNOWN_SETTING',
    message: suggestion
      ? `${message} Did you mean ${show(suggestion)}?`
      : `${message} Run "siplet start --help" for the list of settings.`,
  };
}

/** The candidate nearest to `given` by edit distance, ignoring case, dashes and underscores. */
export function closest(given: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/^(--|siplet_)/, '').replace(/[-_]/g, '');
  const target = norm(given);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(target, norm(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(target.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function toError(problems: Problem[]): SipletError {
  const first = problems[0] as Problem;
  return new SipletError(first.code, problems.map((p) => p.message).join('\n'), {
    details: { problems: problems.map((p) => p.message) },
  });
}

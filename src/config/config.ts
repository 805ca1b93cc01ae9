import { isIP } from 'node:net';
import { LOG_LEVELS } from '../util/index.js';
import type { LogLevel } from '../util/index.js';

/**
 * Everything Siplet reads at start-up. Every field has a default, a `--flag`, a `SIPLET_*` variable
 * and a config-file key; `SETTINGS` below is the one definition that the loader, the validation,
 * `siplet start --help` and the README table are all made from.
 *
 * Durations are milliseconds, sizes bytes. Paths are absolute once loaded.
 */
export interface SipletConfig {
  /** Address the SIP listeners (UDP and TCP) bind. */
  readonly host: string;
  /** Port of the SIP listeners, UDP and TCP both. */
  readonly sipPort: number;
  /** Address the HTTP/admin listener binds. Loopback unless set: it is a management surface. */
  readonly httpHost: string;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly appsDir: string;
  /** The DAR file of the default application router; empty means dar.properties in the apps folder. */
  readonly dar: string;
  /** A module whose default export is a custom ApplicationRouter (class or instance); empty: the default router. */
  readonly router: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Domains this server is responsible for; empty means only its own addresses. */
  readonly domains: readonly string[];
  /** Domains requests may be relayed to when no application takes them; empty: none (no open relay). */
  readonly relayDomains: readonly string[];
  /** RFC 3261 §17.1.1.1 T1: RTT estimate. */
  readonly t1: number;
  /** RFC 3261 §17.1.2.2 T2: maximum retransmit interval for non-INVITE requests and INVITE responses. */
  readonly t2: number;
  /** RFC 3261 §17.1.2.2 T4: maximum time a message remains in the network. */
  readonly t4: number;
  /** RFC 3261 §17.2.1: answer 100 Trying at once, or only if nothing else is sent within 200 ms. */
  readonly trying100: Trying100;
  readonly maxMessageSize: number;
  readonly maxHeaders: number;
  readonly maxHeaderLineLength: number;
  readonly maxVia: number;
  readonly tcpIdleTimeout: number;
  readonly tcpMaxConnections: number;
  readonly tcpMaxBuffered: number;
  /** Requested SO_RCVBUF / SO_SNDBUF of the UDP socket; 0 keeps the OS default. */
  readonly udpBufferSize: number;
  /** How long an undeployed or replaced app version keeps serving its live dialogs before they are ended. */
  readonly drainTimeout: number;
  /** Most bytes a .sar archive may hold uncompressed (all entries), and the archive file itself. */
  readonly archiveMaxSize: number;
  /** Most bytes one entry of a .sar archive may hold uncompressed. */
  readonly archiveMaxEntrySize: number;
  /** Most entries (files and folders) in a .sar archive. */
  readonly archiveMaxEntries: number;
  /** How long an archive or app folder in the apps folder must stay unchanged before it is deployed. */
  readonly deploySettleTime: number;
  /** How often the apps folder is polled for changes fs.watch may miss. */
  readonly deployPollInterval: number;
  /** RFC 3261 §22: how long a digest nonce is accepted; a correct response after that is challenged again with stale=true. */
  readonly authNonceLifetime: number;
  /** Failed digest authentications from one address, within `authFailureWindow`, that ban it; 0 never bans. */
  readonly authMaxFailures: number;
  readonly authFailureWindow: number;
  /** How long a banned address is refused (403) for requests that need authentication. */
  readonly authBanTime: number;
  /** The realm of apps that name none; empty: the Request-URI host of a REGISTER, else the From host. */
  readonly authRealm: string;
  /** Digest challenges offered, most preferred first (RFC 8760 §2.4). */
  readonly authAlgorithms: 'md5,sha-256' | 'sha-256,md5' | 'md5' | 'sha-256';
  /**
   * Networks (CIDR, or single addresses) besides loopback whose requests `/admin` answers; empty:
   * loopback only. Normalised to `address/prefix`.
   */
  readonly adminAllow: readonly string[];
}

export type LogFormat = 'json' | 'pretty';
export type Trying100 = 'immediate' | 'delayed';
export type SettingKey = keyof SipletConfig;

/** How a raw value (a string from a flag or the environment, any JSON value from the file) is read. */
export type SettingType =
  | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly unit?: 'ms' | 'bytes' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'host' }
  | { readonly kind: 'addresses' }
  | { readonly kind: 'path'; readonly optional?: boolean }
  | { readonly kind: 'domains' }
  | { readonly kind: 'networks' }
  | { readonly kind: 'text'; readonly optional?: boolean };

export interface SettingSpec<K extends SettingKey = SettingKey> {
  readonly key: K;
  /** Command-line flag, with its dashes. */
  readonly flag: string;
  /** Environment variable. */
  readonly env: string;
  readonly type: SettingType;
  readonly default: SipletConfig[K];
  /** One line for `--help` and the README. */
  readonly description: string;
  /** Ends "Set SIPLET_X or --x …": what a good value looks like. */
  readonly advice: string;
}

const PORT = { kind: 'integer', min: 1, max: 65535 } as const;
const MS = (min: number, max: number) => ({ kind: 'integer', min, max, unit: 'ms' }) as const;
const BYTES = (min: number, max: number) => ({ kind: 'integer', min, max, unit: 'bytes' }) as const;

function setting<K extends SettingKey>(
  key: K,
  name: string,
  type: SettingType,
  defaultValue: SipletConfig[K],
  description: string,
  advice: string,
): SettingSpec<K> {
  return {
    key,
    flag: `--${name}`,
    env: `SIPLET_${name.toUpperCase().replace(/-/g, '_')}`,
    type,
    default: defaultValue,
    description,
    advice,
  };
}

/** Every setting, in the order `--help` and the README list them. */
export const SETTINGS: readonly SettingSpec[] = [
  setting('host', 'host', { kind: 'addresses' }, '0.0.0.0', 'Addresses the SIP listeners (UDP and TCP) bind, comma-separated (IPv4 and IPv6).', 'IP addresses of this machine separated by commas, e.g. 0.0.0.0,:: for every IPv4 and IPv6 address'),
  setting('sipPort', 'sip-port', PORT, 5060, 'Port of the SIP listeners, UDP and TCP.', 'a free port'),
  setting('httpHost', 'http-host', { kind: 'host' }, '127.0.0.1', 'Address the HTTP/admin listener binds (loopback unless set).', 'an IP address of this machine'),
  setting('httpPort', 'http-port', PORT, 8080, 'Port of the HTTP/admin listener.', 'a free port'),
  setting('dataDir', 'data', { kind: 'path' }, './data', 'Directory for state (registrations, deployed apps).', 'a writable directory'),
  setting('appsDir', 'apps', { kind: 'path' }, './apps', 'Directory watched for applications to deploy.', 'a directory'),
  setting('dar', 'dar', { kind: 'path', optional: true }, '', 'DAR file of the default application router (reloaded when it changes); empty: dar.properties in the apps folder.', 'the path of a DAR properties file (see docs/dar.md)'),
  setting('router', 'router', { kind: 'path', optional: true }, '', 'Module exporting a custom JSR 289 application router (default export: class or instance); empty: the default router.', 'the path of a compiled JavaScript module'),
  setting('logLevel', 'log-level', { kind: 'enum', values: LOG_LEVELS }, 'info', 'Least severe level logged.', `one of ${LOG_LEVELS.join(', ')}`),
  setting('logFormat', 'log-format', { kind: 'enum', values: ['json', 'pretty'] }, 'json', 'json (one object a line) or pretty (for a terminal).', 'json or pretty'),
  setting('domains', 'domains', { kind: 'domains' }, [], 'Comma-separated domains this server serves; empty means its own addresses.', 'a comma-separated list of domain names'),
  setting('relayDomains', 'relay-domains', { kind: 'domains' }, [], 'Comma-separated domains a request no application takes may be relayed to; empty means none (no open relay).', 'a comma-separated list of domain names'),
  setting('t1', 't1', MS(1, 60_000), 500, 'Timer T1, RTT estimate (ms), RFC 3261 §17.', 'milliseconds, 500 unless you know the network'),
  setting('t2', 't2', MS(1, 600_000), 4000, 'Timer T2, longest retransmit interval (ms).', 'milliseconds, at least T1'),
  setting('t4', 't4', MS(1, 600_000), 5000, 'Timer T4, longest a message stays in the network (ms).', 'milliseconds'),
  setting('trying100', 'trying100', { kind: 'enum', values: ['immediate', 'delayed'] }, 'immediate', 'Send 100 Trying to INVITE at once, or after 200 ms without a response.', 'immediate or delayed'),
  setting('maxMessageSize', 'max-message-size', BYTES(1024, 16 * 1024 * 1024), 65536, 'Largest SIP message accepted (bytes); larger ones get 513.', 'a size in bytes, at least 1024'),
  setting('maxHeaders', 'max-headers', { kind: 'integer', min: 8, max: 65535 }, 256, 'Most header fields in one message.', 'a count, at least 8'),
  setting('maxHeaderLineLength', 'max-header-line-length', BYTES(256, 16 * 1024 * 1024), 8192, 'Longest header line (bytes).', 'a size in bytes, at least 256'),
  setting('maxVia', 'max-via', { kind: 'integer', min: 1, max: 1000 }, 70, 'Most Via header values in one message.', 'a count, 70 matches Max-Forwards'),
  setting('tcpIdleTimeout', 'tcp-idle-timeout', MS(1000, 86_400_000), 120_000, 'Close a TCP connection idle this long (ms).', 'milliseconds, at least 1000'),
  setting('tcpMaxConnections', 'tcp-max-connections', { kind: 'integer', min: 1, max: 1_000_000 }, 10_000, 'Most TCP connections open at once, inbound and outbound.', 'a count'),
  setting('tcpMaxBuffered', 'tcp-max-buffered', BYTES(1024, 1024 * 1024 * 1024), 262_144, 'Most bytes buffered per TCP connection, each way.', 'a size in bytes, at least --max-message-size'),
  setting('udpBufferSize', 'udp-buffer-size', BYTES(0, 1024 * 1024 * 1024), 4_194_304, 'UDP socket buffer size requested (bytes); 0 keeps the OS default.', 'a size in bytes'),
  setting('drainTimeout', 'drain-timeout', MS(0, 86_400_000), 300_000, 'How long an undeployed or replaced app keeps serving its live dialogs before they are ended with BYE/CANCEL/503 (ms).', 'milliseconds, e.g. 300000'),
  setting('archiveMaxSize', 'archive-max-size', BYTES(1024, 4 * 1024 * 1024 * 1024), 256 * 1024 * 1024, 'Most bytes a .sar archive may hold, uncompressed in all and as a file.', 'a size in bytes'),
  setting('archiveMaxEntrySize', 'archive-max-entry-size', BYTES(1024, 4 * 1024 * 1024 * 1024), 64 * 1024 * 1024, 'Most bytes one entry of a .sar archive may hold uncompressed.', 'a size in bytes'),
  setting('archiveMaxEntries', 'archive-max-entries', { kind: 'integer', min: 1, max: 1_000_000 }, 10_000, 'Most files and folders in a .sar archive.', 'a count'),
  setting('deploySettleTime', 'deploy-settle-time', MS(0, 600_000), 1000, 'How long an archive or folder in the apps folder must stay unchanged before it is deployed (ms).', 'milliseconds, e.g. 1000'),
  setting('deployPollInterval', 'deploy-poll-interval', MS(50, 3_600_000), 2000, 'How often the apps folder is polled for changes fs.watch may miss (ms).', 'milliseconds, e.g. 2000'),
  setting('authNonceLifetime', 'auth-nonce-lifetime', MS(1000, 86_400_000), 300_000, 'How long a digest nonce is accepted (ms); a correct response after it is challenged again with stale=true.', 'milliseconds, e.g. 300000'),
  setting('authMaxFailures', 'auth-max-failures', { kind: 'integer', min: 0, max: 1000 }, 5, 'Failed digest authentications from one address within --auth-failure-window that ban it; 0 never bans.', 'a count, 0 to never ban'),
  setting('authFailureWindow', 'auth-failure-window', MS(1000, 86_400_000), 60_000, 'Period over which failed digest authentications are counted (ms).', 'milliseconds, e.g. 60000'),
  setting('authBanTime', 'auth-ban-time', MS(1000, 604_800_000), 300_000, 'How long a banned address gets 403 for requests that need authentication (ms).', 'milliseconds, e.g. 300000'),
  setting('authRealm', 'auth-realm', { kind: 'text', optional: true }, '', 'Realm of digest challenges for apps that name none; empty: the Request-URI host of a REGISTER, else the From host.', 'a realm such as example.com, without quotes or backslashes'),
  setting('authAlgorithms', 'auth-algorithms', { kind: 'enum', values: ['md5,sha-256', 'sha-256,md5', 'md5', 'sha-256'] }, 'md5,sha-256', 'Digest challenges offered (and the only algorithms accepted), most preferred first. MD5 first by default: SIPp 3.6.1 and sipsak answer only the first challenge and know no SHA-256; baresip 1.0 needs md5 alone.', 'md5,sha-256, sha-256,md5, md5 or sha-256'),
  setting('adminAllow', 'admin-allow', { kind: 'networks' }, [], 'Networks besides loopback (CIDR list, e.g. 10.0.0.0/8,fd00::/8) whose requests the admin console and API answer; empty: loopback only.', 'a comma-separated list of CIDR networks or addresses, e.g. 10.0.0.0/8,192.168.1.20'),
];

/** The same table, by key. */
export const SETTINGS_BY_KEY: ReadonlyMap<SettingKey, SettingSpec> = new Map(SETTINGS.map((spec) => [spec.key, spec]));

/** The defaults, before paths are resolved. */
export const DEFAULT_CONFIG: SipletConfig = Object.freeze(
  Object.fromEntries(SETTINGS.map((spec) => [spec.key, spec.default])) as unknown as SipletConfig,
);

export type ReadResult = { ok: true; value: unknown } | { ok: false; expected: string };

/** What a valid value looks like, in the words of an error message: "an integer 1-65535". */
export function describeType(type: SettingType): string {
  switch (type.kind) {
    case 'integer':
      return `an integer ${type.min}-${type.max}${type.unit ? ` (${type.unit})` : ''}`;
    case 'enum':
      return `one of ${type.values.join(', ')}`;
    case 'host':
      return 'an IPv4 or IPv6 address or a host name';
    case 'addresses':
      return 'IPv4 or IPv6 addresses separated by commas';
    case 'path':
      return 'a non-empty path';
    case 'domains':
      return 'a comma-separated list of domain names';
    case 'networks':
      return 'a comma-separated list of CIDR networks or IP addresses';
    case 'text':
      return 'text without quotes, backslashes or control characters';
  }
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const INTEGER = /^[+-]?\d+$/;
// Quotes, backslashes and control characters would break a quoted-string (RFC 3261 §25.1) such as a realm.
const TEXT = /^[^"\\\x00-\x1f\x7f]+$/;

/**
 * Reads one raw value as the setting's type. Strings come from flags and the environment; the config
 * file may also give numbers and (for `domains`) arrays. Never throws.
 */
export function readSetting(type: SettingType, raw: unknown): ReadResult {
  const bad = { ok: false, expected: describeType(type) } as const;
  switch (type.kind) {
    case 'integer': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && INTEGER.test(raw.trim())) n = Number(raw.trim());
      else return bad;
      return Number.isSafeInteger(n) && n >= type.min && n <= type.max ? { ok: true, value: n } : bad;
    }
    case 'enum': {
      if (typeof raw !== 'string') return bad;
      const value = raw.trim().toLowerCase();
      return type.values.includes(value) ? { ok: true, value } : bad;
    }
    case 'addresses': {
      if (typeof raw !== 'string') return bad;
      const items = raw.split(',').map((item) => item.trim().replace(/^\[(.*)\]$/, '$1'));
      return items.length > 0 && items.every((item) => isIP(item) !== 0) ? { ok: true, value: items.join(',') } : bad;
    }
    case 'host': {
      if (typeof raw !== 'string') return bad;
      const value = raw.trim().replace(/^\[(.*)\]$/, '$1');
      return isIP(value) !== 0 || HOSTNAME.test(value) ? { ok: true, value } : bad;
    }
    case 'path': {
      if (typeof raw === 'string' && raw.trim() === '' && type.optional) return { ok: true, value: '' };
      if (typeof raw !== 'string' || raw.trim() === '') return bad;
      return { ok: true, value: raw.trim() };
    }
    case 'text': {
      if (typeof raw !== 'string') return bad;
      const value = raw.trim();
      if (value === '') return type.optional ? { ok: true, value } : bad;
      return TEXT.test(value) ? { ok: true, value } : bad;
    }
    case 'domains': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
      if (!items || !items.every((item) => typeof item === 'string')) return bad;
      const domains = [...new Set(items.map((item) => item.trim().toLowerCase()).filter((item) => item !== ''))];
      return domains.every((d) => isIP(d) !== 0 || HOSTNAME.test(d)) ? { ok: true, value: domains } : bad;
    }
    case 'networks': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
      if (!items || !items.every((item) => typeof item === 'string')) return bad;
      const networks: string[] = [];
      for (const item of items.map((i) => i.trim()).filter((i) => i !== '')) {
        const network = normalizeNetwork(item);
        if (network === undefined) return bad;
        if (!networks.includes(network)) networks.push(network);
      }
      return { ok: true, value: networks };
    }
  }
}

/** `10.0.0.0/8` → itself; `192.168.1.20` → `192.168.1.20/32`; `[fd00::]/8` → `fd00::/8`; undefined when malformed. */
export function normalizeNetwork(text: string): string | undefined {
  const slash = text.indexOf('/');
  const address = (slash < 0 ? text : text.slice(0, slash)).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return `${address}/${Number(prefixText)}`;
}

/**
 * Checks that hold between settings, on a complete configuration. Returns one message per problem;
 * empty when the configuration is consistent.
 */
export function crossCheck(config: SipletConfig): string[] {
  const problems: string[] = [];
  if (config.t2 < config.t1) {
    problems.push(`Timer T2 (${config.t2} ms) is shorter than T1 (${config.t1} ms). Set --t2 / SIPLET_T2 to at least T1.`);
  }
  if (config.tcpMaxBuffered < config.maxMessageSize) {
    problems.push(
      `--tcp-max-buffered (${config.tcpMaxBuffered}) is smaller than --max-message-size (${config.maxMessageSize}): ` +
        'a full message could never be buffered. Raise SIPLET_TCP_MAX_BUFFERED or lower SIPLET_MAX_MESSAGE_SIZE.',
    );
  }
  if (config.maxHeaderLineLength > config.maxMessageSize) {
    problems.push(
      `--max-header-line-length (${config.maxHeaderLineLength}) is larger than --max-message-size (${config.maxMessageSize}). ` +
        'Lower SIPLET_MAX_HEADER_LINE_LENGTH.',
    );
  }
  if (config.httpPort === config.sipPort && addressesOverlap(config.httpHost, config.host)) {
    problems.push(
      `--http-port and --sip-port are both ${config.sipPort} on overlapping addresses: SIP over TCP and HTTP cannot share a port. ` +
        'Set SIPLET_HTTP_PORT or --http-port to another port.',
    );
  }
  return problems;
}

function addressesOverlap(a: string, list: string): boolean {
  const wildcard = (h: string) => h === '0.0.0.0' || h === '::';
  return list.split(',').some((b) => a === b || wildcard(a) || wildcard(b));
}

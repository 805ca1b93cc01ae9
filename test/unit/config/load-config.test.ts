import { describe, expect, it } from 'vitest';
import { createConfig, DEFAULT_CONFIG, loadConfig, SETTINGS } from '../../../src/config/index.js';
import type { LoadConfigOptions } from '../../../src/config/index.js';
import { SipletError } from '../../../src/util/index.js';

const CWD = '/srv/siplet';

function load(options: Partial<Omit<LoadConfigOptions, 'readFile'>> & { files?: Record<string, string> } = {}) {
  const files = options.files ?? {};
  return loadConfig({
    argv: options.argv ?? [],
    env: options.env ?? {},
    cwd: options.cwd ?? CWD,
    readFile: (path) => files[path],
  });
}

function problemsOf(fn: () => unknown): { code: string; lines: string[] } {
  try {
    fn();
  } catch (error) {
    if (!SipletError.is(error)) throw error;
    return { code: error.code, lines: error.message.split('\n') };
  }
  throw new Error('expected a SipletError');
}

describe('loadConfig: defaults', () => {
  it('gives every default, paths resolved against the working directory', () => {
    const { config, configFile, origins, warnings } = load();
    expect(config).toMatchObject({
      host: '0.0.0.0',
      sipPort: 5060,
      httpHost: '127.0.0.1',
      httpPort: 8080,
      dataDir: '/srv/siplet/data',
      appsDir: '/srv/siplet/apps',
      logLevel: 'info',
      domains: [],
      t1: 500,
      t2: 4000,
      t4: 5000,
      trying100: 'immediate',
      maxMessageSize: 65536,
      maxHeaders: 256,
      maxHeaderLineLength: 8192,
      maxVia: 70,
      tcpIdleTimeout: 120_000,
      tcpMaxConnections: 10_000,
      tcpMaxBuffered: 262_144,
    });
    expect(configFile).toBeUndefined();
    expect(origins.sipPort).toEqual({ kind: 'default' });
    expect(warnings).toEqual([]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('has a valid default for every setting and one flag and variable each', () => {
    expect(() => createConfig()).not.toThrow();
    expect(new Set(SETTINGS.map((s) => s.flag)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
    expect(Object.keys(DEFAULT_CONFIG).sort()).toEqual(SETTINGS.map((s) => s.key).sort());
  });
});

describe('loadConfig: precedence defaults < file < environment < flags', () => {
  const files = { '/srv/siplet/siplet.json': JSON.stringify({ sipPort: 5070, httpPort: 8081, logLevel: 'debug', t1: 250 }) };

  it('reads siplet.json from the working directory when present', () => {
    const { config, configFile, origins } = load({ files });
    expect(configFile).toBe('/srv/siplet/siplet.json');
    expect(config.sipPort).toBe(5070);
    expect(origins.sipPort).toEqual({ kind: 'file', path: '/srv/siplet/siplet.json', key: 'sipPort' });
  });

  it('lets the environment override the file and flags override both', () => {
    const { config, origins } = load({
      files,
      env: { SIPLET_SIP_PORT: '5080', SIPLET_HTTP_PORT: '8082', SIPLET_LOG_LEVEL: 'warn' },
      argv: ['--sip-port', '5090', '--log-level=error'],
    });
    expect(config.sipPort).toBe(5090);
    expect(config.httpPort).toBe(8082);
    expect(config.logLevel).toBe('error');
    expect(config.t1).toBe(250);
    expect(origins.sipPort).toEqual({ kind: 'flag', flag: '--sip-port' });
    expect(origins.httpPort).toEqual({ kind: 'env', name: 'SIPLET_HTTP_PORT' });
  });

  it('treats an empty variable as unset', () => {
    expect(load({ env: { SIPLET_SIP_PORT: '' } }).config.sipPort).toBe(5060);
  });

  it('takes the file from --config over SIPLET_CONFIG over ./siplet.json', () => {
    const all = {
      ...files,
      '/etc/siplet/a.json': '{ "sipPort": 6000 }',
      '/srv/siplet/conf/b.json': '{ "sipPort": 7000 }',
    };
    expect(load({ files: all, env: { SIPLET_CONFIG: 'conf/b.json' } }).config.sipPort).toBe(7000);
    expect(load({ files: all, env: { SIPLET_CONFIG: 'conf/b.json' }, argv: ['--config', '/etc/siplet/a.json'] }).config.sipPort).toBe(6000);
  });

  it('resolves paths in the file against the file, others against the working directory', () => {
    const { config } = load({
      files: { '/etc/siplet/siplet.json': '{ "dataDir": "state", "appsDir": "/opt/apps" }' },
      argv: ['--config', '/etc/siplet/siplet.json'],
    });
    expect(config.dataDir).toBe('/etc/siplet/state');
    expect(config.appsDir).toBe('/opt/apps');
    expect(load({ env: { SIPLET_DATA: 'var' } }).config.dataDir).toBe('/srv/siplet/var');
  });

  it('reads domains from a comma list, a repeated flag or a JSON array', () => {
    expect(load({ env: { SIPLET_DOMAINS: 'Example.com, sip.example.org' } }).config.domains).toEqual(['example.com', 'sip.example.org']);
    expect(load({ argv: ['--domains', 'a.example', '--domains', 'b.example'] }).config.domains).toEqual(['a.example', 'b.example']);
    expect(load({ files: { '/srv/siplet/siplet.json': '{ "domains": ["x.example"] }' } }).config.domains).toEqual(['x.example']);
  });
});

describe('loadConfig: refusals say what to set', () => {
  it('names the flag, the source and the variable for a bad port', () => {
    const { code, lines } = problemsOf(() => load({ env: { SIPLET_SIP_PORT: 'abc' } }));
    expect(code).toBe('SIPLET_CONFIG_INVALID');
    expect(lines).toEqual([
      'Invalid --sip-port "abc" (from SIPLET_SIP_PORT): expected an integer 1-65535. Set SIPLET_SIP_PORT or --sip-port to a free port.',
    ]);
  });

  it('names the key and the file for a bad file value', () => {
    const { lines } = problemsOf(() => load({ files: { '/srv/siplet/siplet.json': '{ "httpPort": 70000 }' } }));
    expect(lines[0]).toBe(
      'Invalid --http-port 70000 (from "httpPort" in /srv/siplet/siplet.json): expected an integer 1-65535. ' +
        'Set "httpPort" in /srv/siplet/siplet.json, SIPLET_HTTP_PORT or --http-port to a free port.',
    );
  });

  it('reports every problem at once', () => {
    const { lines } = problemsOf(() => load({ argv: ['--log-level', 'loud', '--trying100', 'later', '--t1', '1.5'] }));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('expected one of fatal, error, warn, info, debug, trace, silent');
  });

  it('refuses an unknown flag with a suggestion, without mistaking its value for an argument', () => {
    const { code, lines } = problemsOf(() => load({ argv: ['--sip-prot', '5070'] }));
    expect(code).toBe('SIPLET_CONFIG_UNKNOWN_SETTING');
    expect(lines).toEqual(['Unknown flag --sip-prot. Did you mean --sip-port?']);
    expect(problemsOf(() => load({ argv: ['--sipPort=5070'] })).lines).toEqual(['Unknown flag --sipPort. Did you mean --sip-port?']);
    expect(problemsOf(() => load({ argv: ['--colour'] })).lines[0]).toContain('Run "siplet start --help"');
  });

  it('refuses an unknown config-file key with a suggestion', () => {
    const { code, lines } = problemsOf(() => load({ files: { '/srv/siplet/siplet.json': '{ "sip-port": 5070 }' } }));
    expect(code).toBe('SIPLET_CONFIG_UNKNOWN_SETTING');
    expect(lines).toEqual(['Unknown setting "sip-port" in /srv/siplet/siplet.json. Did you mean "sipPort"?']);
  });

  it('warns about an unknown SIPLET_ variable instead of refusing it', () => {
    const { warnings } = load({ env: { SIPLET_SIP_PROT: '5070', PATH: '/usr/bin' } });
    expect(warnings).toEqual(['Ignoring unknown environment variable SIPLET_SIP_PROT. Did you mean SIPLET_SIP_PORT?']);
  });

  it('refuses a flag without a value and a stray argument', () => {
    expect(problemsOf(() => load({ argv: ['--sip-port'] })).lines).toEqual(['--sip-port needs a value: --sip-port <a free port>.']);
    expect(problemsOf(() => load({ argv: ['5070'] })).code).toBe('SIPLET_CLI_USAGE');
  });

  it('refuses a missing named file, bad JSON and a non-object', () => {
    const missing = problemsOf(() => load({ argv: ['--config', 'nope.json'] }));
    expect(missing.code).toBe('SIPLET_CONFIG_FILE_UNREADABLE');
    expect(missing.lines[0]).toBe('Config file /srv/siplet/nope.json does not exist. Create it, or fix the path given by --config or SIPLET_CONFIG.');
    expect(problemsOf(() => load({ files: { '/srv/siplet/siplet.json': '{ sipPort: 1 }' } })).lines[0]).toMatch(/is not valid JSON/);
    expect(problemsOf(() => load({ files: { '/srv/siplet/siplet.json': '[1]' } })).lines[0]).toMatch(/must hold a JSON object/);
  });

  it('wraps a read failure', () => {
    const error = problemsOf(() =>
      loadConfig({ argv: [], env: {}, cwd: CWD, readFile: () => { throw new Error('EACCES: permission denied'); } }),
    );
    expect(error.code).toBe('SIPLET_CONFIG_FILE_UNREADABLE');
    expect(error.lines[0]).toContain('EACCES');
  });

  it('checks settings against each other', () => {
    expect(problemsOf(() => load({ argv: ['--t1', '5000'] })).lines[0]).toMatch(/T2 \(4000 ms\) is shorter than T1/);
    expect(problemsOf(() => load({ argv: ['--tcp-max-buffered', '2048'] })).lines[0]).toMatch(/--tcp-max-buffered/);
    expect(problemsOf(() => load({ argv: ['--http-port', '5060', '--http-host', '0.0.0.0'] })).lines[0]).toMatch(/cannot share a port/);
    expect(load({ argv: ['--http-port', '5060', '--host', '10.0.0.1', '--http-host', '127.0.0.1'] }).config.httpPort).toBe(5060);
  });
});

describe('createConfig', () => {
  it('validates overrides and refuses unknown keys', () => {
    expect(createConfig({ sipPort: 5999, domains: ['Example.COM'] })).toMatchObject({ sipPort: 5999, domains: ['example.com'] });
    expect(problemsOf(() => createConfig({ sipPort: 0 })).lines[0]).toBe('Invalid sipPort 0: expected an integer 1-65535.');
    expect(problemsOf(() => createConfig({ sipPrt: 1 } as never)).lines[0]).toBe('Unknown setting "sipPrt". Did you mean "sipPort"?');
  });
});

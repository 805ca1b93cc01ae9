import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import type { CliOptions } from '../../../src/cli/main.js';
import { createLogger } from '../../../src/util/index.js';

function harness(overrides: Partial<CliOptions> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const signals = new EventEmitter();
  const calls: string[] = [];
  const options: CliOptions = {
    argv: [],
    env: {},
    cwd: '/srv/siplet',
    readFile: () => undefined,
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    signals,
    createLogger: () => createLogger({ level: 'silent' }),
    exit: (code) => calls.push(`exit ${code}`),
    startServer: async (config) => {
      calls.push(`start ${config.sipPort}`);
      setImmediate(() => signals.emit('SIGTERM'));
      return { close: async () => void calls.push('close') };
    },
    ...overrides,
  };
  return { options, out, err, signals, calls };
}

describe('siplet', () => {
  it('prints the version and help', async () => {
    const h = harness();
    expect(await runCli({ ...h.options, argv: ['--version'] })).toBe(0);
    expect(h.out.join('')).toMatch(/^\d+\.\d+\.\d+/);
    expect(await runCli({ ...h.options, argv: ['--help'] })).toBe(0);
    expect(h.out.join('')).toContain('siplet start [settings]');
    expect(await runCli({ ...h.options, argv: ['start', '--help'] })).toBe(0);
    expect(h.out.join('')).toContain('SIPLET_SIP_PORT');
  });

  it('refuses an unknown command with exit 2', async () => {
    const h = harness({ argv: ['strat'] });
    expect(await runCli(h.options)).toBe(2);
    expect(h.err.join('')).toBe('siplet: unknown command "strat". Did you mean "start"? Run "siplet --help".\n');
  });

  it('start: prints configuration errors to stderr and exits 2 without starting', async () => {
    const h = harness({ argv: ['start'], env: { SIPLET_SIP_PORT: 'abc' } });
    expect(await runCli(h.options)).toBe(2);
    expect(h.err.join('')).toBe(
      'siplet: Invalid --sip-port "abc" (from SIPLET_SIP_PORT): expected an integer 1-65535. Set SIPLET_SIP_PORT or --sip-port to a free port.\n',
    );
    expect(h.calls).toEqual([]);
  });

  it('start: runs the server until SIGTERM, then closes it and exits 0', async () => {
    const h = harness({ argv: ['start', '--sip-port', '5070'] });
    expect(await runCli(h.options)).toBe(0);
    expect(h.calls).toEqual(['start 5070', 'close']);
    expect(h.signals.listenerCount('SIGINT') + h.signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('start: exits 1 when the server fails to start', async () => {
    const h = harness({ argv: ['start'], startServer: async () => Promise.reject(new Error('EADDRINUSE 0.0.0.0:5060')) });
    expect(await runCli(h.options)).toBe(1);
    expect(h.err.join('')).toBe('siplet: failed to start: EADDRINUSE 0.0.0.0:5060\n');
  });

  it('start: a second signal during close forces exit 130; a close that hangs ends in exit 1', async () => {
    const h = harness({ argv: ['start'], shutdownTimeoutMs: 50 });
    h.options.startServer = async () => {
      setImmediate(() => h.signals.emit('SIGINT'));
      return {
        close: () => {
          setImmediate(() => h.signals.emit('SIGINT'));
          return new Promise<void>(() => {});
        },
      };
    };
    expect(await runCli(h.options)).toBe(1);
    expect(h.calls).toEqual(['exit 130']);
  });
});

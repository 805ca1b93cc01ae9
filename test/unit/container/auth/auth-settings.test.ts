/** The --auth-* settings: defaults, where they come from, and what is refused. */
import { describe, expect, it } from 'vitest';
import { createConfig, loadConfig } from '../../../../src/config/index.js';
import { DEFAULT_DIGEST_AUTH_SETTINGS } from '../../../../src/container/auth/index.js';
import { SipletError } from '../../../../src/util/index.js';

const load = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv, env, cwd: '/srv', readFile: () => undefined }).config;

describe('digest authentication settings', () => {
  it('default to the authenticator\'s own defaults: 300 s nonces, 5 failures in 60 s ban for 300 s, realm per request', () => {
    const config = createConfig();
    expect({
      nonceLifetime: config.authNonceLifetime,
      maxFailures: config.authMaxFailures,
      failureWindow: config.authFailureWindow,
      banTime: config.authBanTime,
      realm: config.authRealm,
      algorithms: config.authAlgorithms.split(',').map((a) => a.toUpperCase()),
    }).toEqual(DEFAULT_DIGEST_AUTH_SETTINGS);
  });

  it('come from flags and SIPLET_* variables', () => {
    const config = load(['--auth-realm', 'example.com', '--auth-max-failures=0'], { SIPLET_AUTH_BAN_TIME: '60000', SIPLET_AUTH_NONCE_LIFETIME: '30000' });
    expect(config).toMatchObject({ authRealm: 'example.com', authMaxFailures: 0, authBanTime: 60_000, authNonceLifetime: 30_000 });
  });

  it('refuse a realm that cannot go in a quoted string, and a nonce lifetime under a second, saying what to set', () => {
    let message = '';
    try {
      load(['--auth-realm', 'ex"ample', '--auth-nonce-lifetime', '10']);
    } catch (error) {
      if (!SipletError.is(error, 'SIPLET_CONFIG_INVALID')) throw error;
      message = error.message;
    }
    expect(message).toMatch(/--auth-realm/);
    expect(message).toMatch(/without quotes, backslashes or control characters/);
    expect(message).toMatch(/--auth-nonce-lifetime/);
  });
});

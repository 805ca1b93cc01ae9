import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSetting, settingsMarkdown } from '../../../src/config/index.js';

describe('readSetting', () => {
  const port = { kind: 'integer', min: 1, max: 65535 } as const;

  it('reads integers from strings and JSON numbers, within range only', () => {
    expect(readSetting(port, '5060')).toEqual({ ok: true, value: 5060 });
    expect(readSetting(port, ' 5060 ')).toEqual({ ok: true, value: 5060 });
    expect(readSetting(port, 5060)).toEqual({ ok: true, value: 5060 });
    for (const bad of ['abc', '', '5060.5', '0x10', '1e3', 0, 65536, 1.5, true, null]) {
      expect(readSetting(port, bad)).toEqual({ ok: false, expected: 'an integer 1-65535' });
    }
  });

  it('reads hosts: IP literals (bracketed IPv6 too) and host names', () => {
    const host = { kind: 'host' } as const;
    expect(readSetting(host, '::1')).toEqual({ ok: true, value: '::1' });
    expect(readSetting(host, '[2001:db8::1]')).toEqual({ ok: true, value: '2001:db8::1' });
    expect(readSetting(host, 'sip.example.com')).toEqual({ ok: true, value: 'sip.example.com' });
    expect(readSetting(host, 'not a host').ok).toBe(false);
    expect(readSetting(host, '10.0.0.1:5060').ok).toBe(false);
  });

  it('reads enums case-insensitively', () => {
    expect(readSetting({ kind: 'enum', values: ['immediate', 'delayed'] }, 'Delayed')).toEqual({ ok: true, value: 'delayed' });
  });
});

describe('README', () => {
  it('shows the settings table generated from the definitions (regenerate: npm run docs:config)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const match = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    expect(match?.[1]).toBe(settingsMarkdown());
  });
});

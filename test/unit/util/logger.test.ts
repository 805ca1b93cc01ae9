import { describe, expect, it } from 'vitest';
import { createLogger, defaultLogLevel, formatPretty, forLayer } from '../../../src/util/index.js';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (chunk: string) => void lines.push(chunk) } };
}

describe('createLogger', () => {
  it('writes one JSON record a line, with the layer binding of a child', () => {
    const out = capture();
    const log = forLayer(createLogger({ level: 'info', destination: out.destination }), 'transport');
    log.info({ remote: '10.0.0.1:5060' }, 'connection opened');
    log.debug('not written at info');
    expect(out.lines).toHaveLength(1);
    const record = JSON.parse(out.lines[0] as string);
    expect(record).toMatchObject({ level: 30, layer: 'transport', remote: '10.0.0.1:5060', msg: 'connection opened' });
    expect(record).not.toHaveProperty('hostname');
  });

  it('defaults to silent under vitest and info elsewhere', () => {
    expect(defaultLogLevel({ VITEST: 'true' })).toBe('silent');
    expect(defaultLogLevel({})).toBe('info');
    expect(createLogger().level).toBe('silent');
  });
});

describe('formatPretty', () => {
  it('turns a record into one readable line', () => {
    const line = formatPretty(JSON.stringify({ level: 40, time: Date.UTC(2024, 0, 1, 12, 0, 0, 5), layer: 'core', msg: 'dropped', status: 400 }));
    expect(line).toBe('12:00:00.005 WARN  [core] dropped status=400\n');
  });

  it('passes through what is not JSON', () => {
    expect(formatPretty('plain text')).toBe('plain text\n');
  });
});

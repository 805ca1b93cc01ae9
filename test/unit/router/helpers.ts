import type { RouterLogger, RouterRequest } from '../../../src/router/index.js';

export interface FakeRequest {
  method?: string;
  from?: string;
  to?: string;
  requestUri?: string;
  headers?: Record<string, string>;
  origin?: RouterRequest['origin'];
}

/** A RouterRequest as the container would build it; header names match case-insensitively. */
export function routerRequest(options: FakeRequest = {}): RouterRequest {
  const from = options.from ?? 'sip:alice@example.com';
  const to = options.to ?? 'sip:bob@example.org';
  const headers = new Map<string, string>([
    ['from', `"Alice" <${from}>;tag=a1`],
    ['to', `<${to}>`],
  ]);
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name.toLowerCase(), value);
  return {
    method: options.method ?? 'INVITE',
    requestUri: options.requestUri ?? to,
    from,
    to,
    header: (name) => headers.get(name.toLowerCase()),
    isInitial: true,
    ...(options.origin === undefined ? {} : { origin: options.origin }),
  };
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: object;
  message: string;
}

/** A RouterLogger that keeps what it is given. */
export function recordingLogger(): RouterLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (fields: object, message: string) => void records.push({ level, fields, message });
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';

/**
 * The logger every layer takes: pino's `Logger`. Structured first (`log.warn({ remote }, 'message')`),
 * one child per layer (`logger.child({ layer: 'transport' })`).
 */
export type Logger = PinoLogger;

/** pino's levels, most to least severe, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The layer names that go in the `layer` binding of a child logger; one per folder of `src/`. */
export type LayerName =
  | 'transport'
  | 'message'
  | 'transaction'
  | 'core'
  | 'dialog'
  | 'container'
  | 'router'
  | 'deploy'
  | 'http'
  | 'config'
  | 'server'
  | 'cli'
  | (string & {});

export interface LoggerOptions {
  /** Default: `'silent'` under vitest (`VITEST` set in the environment), otherwise `'info'`. */
  level?: LogLevel;
  /**
   * One human-readable line per record instead of JSON (for a terminal, not for collection).
   * Default: false.
   */
  pretty?: boolean;
  /** Where records go. Default: stdout. Tests pass a stream to capture records. */
  destination?: DestinationStream;
  /** Bindings on every record (e.g. `{ name: 'siplet' }`). Default: none. */
  base?: Record<string, unknown>;
}

/**
 * Creates the root logger. The composition root makes one and hands each layer
 * `forLayer(logger, 'transport')`; nothing else calls this in `src/`.
 *
 * Hazard: `pretty` formats each record on the event loop; keep it for terminals, not for load.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? defaultLogLevel(process.env);
  const destination = options.destination ?? (options.pretty ? prettyDestination(process.stdout) : undefined);
  const loggerOptions = { level, base: options.base ?? null };
  return destination ? pino(loggerOptions, destination) : pino(loggerOptions);
}

/** The child logger a layer logs through: every record carries `layer`. */
export function forLayer(logger: Logger, layer: LayerName): Logger {
  return logger.child({ layer });
}

/** `'silent'` when running under vitest, `'info'` otherwise. */
export function defaultLogLevel(env: Readonly<Record<string, string | undefined>>): LogLevel {
  return env['VITEST'] ? 'silent' : 'info';
}

/** A logger that discards everything; the default for layers constructed without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const LEVEL_LABELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/** Keys pino puts on every record that the pretty line shows in its own place (or not at all). */
const OMITTED_KEYS = new Set(['level', 'time', 'msg', 'layer', 'pid', 'hostname']);

/**
 * Turns one pino JSON record into `12:00:00.123 INFO  [transport] message key=value …`.
 * Exported for tests; anything that is not a JSON object is passed through unchanged.
 */
export function formatPretty(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (typeof record !== 'object' || record === null) return line.endsWith('\n') ? line : `${line}\n`;
  const fields = record as Record<string, unknown>;
  const time = typeof fields['time'] === 'number' ? new Date(fields['time']).toISOString().slice(11, 23) : '';
  const label = LEVEL_LABELS[Number(fields['level'])] ?? String(fields['level']);
  const layer = typeof fields['layer'] === 'string' ? ` [${fields['layer']}]` : '';
  const msg = typeof fields['msg'] === 'string' ? ` ${fields['msg']}` : '';
  let extra = '';
  for (const [key, value] of Object.entries(fields)) {
    if (OMITTED_KEYS.has(key)) continue;
    if (key === 'err' && typeof value === 'object' && value !== null && 'stack' in value) {
      extra += `\n    ${String((value as { stack: unknown }).stack).replace(/\n/g, '\n    ')}`;
      continue;
    }
    extra += ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
  }
  return `${time} ${label}${layer}${msg}${extra}\n`;
}

function prettyDestination(out: { write(chunk: string): unknown }): DestinationStream {
  return { write: (chunk: string) => void out.write(formatPretty(chunk)) };
}

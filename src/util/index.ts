/**
 * Shared utilities every layer may import, and that import nothing else from `src/`: the logger
 * (pino, one child per layer), the error catalog (stable codes, messages that say what to do) and
 * pooled random text for identifiers.
 */
export { createLogger, defaultLogLevel, formatPretty, forLayer, LOG_LEVELS, silentLogger } from './logger.js';
export type { LayerName, Logger, LoggerOptions, LogLevel } from './logger.js';
export { ERROR_CATALOG, SipletError } from './errors.js';
export { randomText } from './random-text.js';
export type { CatalogEntry, SipletErrorCode, SipletErrorOptions } from './errors.js';

/**
 * Shared utilities every layer may import, and that import nothing else from `src/`: the logger
 * (pino, one child per layer) and the error catalog (stable codes, messages that say what to do).
 */
export { createLogger, defaultLogLevel, formatPretty, forLayer, LOG_LEVELS, silentLogger } from './logger.js';
export type { LayerName, Logger, LoggerOptions, LogLevel } from './logger.js';
export { ERROR_CATALOG, SipletError } from './errors.js';
export type { CatalogEntry, SipletErrorCode, SipletErrorOptions } from './errors.js';

/**
 * The logging surface the transport layer needs: the pino child-logger signature,
 * `log.warn({ remote }, 'message')`. The composition root passes the real logger; the default is silent.
 */
export interface TransportLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const ignore = (): void => {};

/** Discards everything. */
export const silentLogger: TransportLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

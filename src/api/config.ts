/**
 * What an application reads about its own deployment: its configuration (`APP_CONFIG`) and its
 * servlet context (`SERVLET_CONTEXT`). Both are injected through the app's DI container.
 */

/**
 * A live view of the app's configuration: the `config.json` of its folder. Reads always see the
 * current values; when the file is reloaded, `onChange` listeners run with the new view.
 *
 * Keys are top-level keys (`get('greeting')`) or dotted paths into nested objects
 * (`get('limits.maxCalls')`); a top-level key that itself contains a dot wins over the path.
 *
 * Hazard: the values are the parsed JSON itself, frozen; copy before changing them.
 *
 * @example
 * import { inject, APP_CONFIG, type AppConfig } from 'siplet/sdk';
 * class Greeter {
 *   constructor(@inject(APP_CONFIG) private readonly config: AppConfig) {}
 *   greeting() { return this.config.get('greeting', 'hello'); }
 * }
 */
export interface AppConfig {
  /** The value at `key`, or `defaultValue` (else `undefined`) when the key is absent. The value is not type-checked against `T`. */
  get<T = unknown>(key: string): T | undefined;
  get<T>(key: string, defaultValue: T): T;
  /** Every key and value. */
  all(): Readonly<Record<string, unknown>>;
  /** Calls `listener` after every reload; returns a function that removes it. Errors thrown by listeners are logged, not rethrown. */
  onChange(listener: (config: AppConfig) => void): () => void;
}

/**
 * The application as its servlets see it (JSR 289 ServletContext, the parts that make sense here):
 * its name, its init parameters, and attributes shared by all its servlets and listeners.
 *
 * @example
 * import { inject, SERVLET_CONTEXT, type SipServletContext } from 'siplet/sdk';
 * class Stats {
 *   constructor(@inject(SERVLET_CONTEXT) context: SipServletContext) { context.setAttribute('stats', this); }
 * }
 */
export interface SipServletContext {
  getApplicationName(): string;
  getDisplayName(): string;
  getInitParameter(name: string): string | undefined;
  getInitParameterNames(): string[];
  getServletNames(): string[];
  getAttribute<T = unknown>(name: string): T | undefined;
  setAttribute(name: string, value: unknown): void;
  removeAttribute(name: string): void;
  getAttributeNames(): string[];
}

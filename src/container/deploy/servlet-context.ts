import type { SipServletContext } from '../../api/index.js';
import type { ApplicationModel } from '../model/index.js';

/** The `SipServletContext` of one deployed app (`SERVLET_CONTEXT`): read from its model, plus app-wide attributes. */
export class ApplicationContext implements SipServletContext {
  readonly #model: ApplicationModel;
  readonly #attributes = new Map<string, unknown>();

  constructor(model: ApplicationModel) {
    this.#model = model;
  }

  getApplicationName(): string {
    return this.#model.name;
  }

  getDisplayName(): string {
    return this.#model.displayName;
  }

  getInitParameter(name: string): string | undefined {
    return Object.hasOwn(this.#model.initParams, name) ? this.#model.initParams[name] : undefined;
  }

  getInitParameterNames(): string[] {
    return Object.keys(this.#model.initParams);
  }

  getServletNames(): string[] {
    return this.#model.servlets.map((servlet) => servlet.name);
  }

  getAttribute<T = unknown>(name: string): T | undefined {
    return this.#attributes.get(name) as T | undefined;
  }

  setAttribute(name: string, value: unknown): void {
    this.#attributes.set(name, value);
  }

  removeAttribute(name: string): void {
    this.#attributes.delete(name);
  }

  getAttributeNames(): string[] {
    return [...this.#attributes.keys()];
  }
}

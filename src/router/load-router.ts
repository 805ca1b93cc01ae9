import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SipletError } from '../util/index.js';
import type { ApplicationRouter } from './application-router.js';

export interface LoadRouterOptions {
  /** What relative module paths resolve against. Default: the working directory. */
  baseDir?: string;
}

const REQUIRED_METHODS = ['init', 'destroy', 'applicationDeployed', 'applicationUndeployed', 'getNextApplication'] as const;

/**
 * Imports a custom application router: a module whose default export is a class implementing
 * `ApplicationRouter` (constructed with no arguments) or an instance of one. `modulePath` is a
 * file path (relative to `baseDir`, or absolute) or a package name.
 *
 * Rejects with a `SIPLET_CONFIG_INVALID` error saying what to fix when the module cannot be
 * imported, has no default export, or its export lacks an `ApplicationRouter` method.
 *
 * @example
 * const router = await loadRouter('./routers/my-router.js');
 * await router.init({ logger });
 */
export async function loadRouter(modulePath: string, options: LoadRouterOptions = {}): Promise<ApplicationRouter> {
  const specifier = toSpecifier(modulePath, options.baseDir ?? process.cwd());
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalid(modulePath, `cannot be imported (${reason}). Check the path, and that the module is compiled JavaScript.`, error);
  }
  const exported = module['default'];
  if (exported === undefined) {
    throw invalid(modulePath, 'has no default export. Add `export default` for your ApplicationRouter class or instance.');
  }
  let router: unknown = exported;
  if (typeof exported === 'function') {
    try {
      router = new (exported as new () => unknown)();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw invalid(modulePath, `exports a class whose constructor failed (${reason}). It is constructed with no arguments; take settings in init().`, error);
    }
  }
  if (typeof router !== 'object' || router === null) {
    throw invalid(modulePath, `default-exports ${router === null ? 'null' : typeof router}, not an ApplicationRouter class or instance.`);
  }
  const missing = REQUIRED_METHODS.filter((name) => typeof (router as Record<string, unknown>)[name] !== 'function');
  if (missing.length > 0) {
    throw invalid(
      modulePath,
      `default export does not implement ApplicationRouter: missing ${missing.map((name) => `${name}()`).join(', ')}. Implement the interface exported by siplet's router SPI.`,
    );
  }
  return router as ApplicationRouter;
}

function toSpecifier(modulePath: string, baseDir: string): string {
  if (isAbsolute(modulePath)) return pathToFileURL(modulePath).href;
  if (modulePath.startsWith('./') || modulePath.startsWith('../') || modulePath === '.' || modulePath === '..') {
    return pathToFileURL(resolve(baseDir, modulePath)).href;
  }
  return modulePath;
}

function invalid(modulePath: string, problem: string, cause?: unknown): SipletError {
  return new SipletError('SIPLET_CONFIG_INVALID', `The application router module "${modulePath}" ${problem}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { module: modulePath },
  });
}

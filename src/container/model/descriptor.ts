import type { ListenerKind } from '../../api/index.js';
import { LISTENER_KINDS } from './listener-kinds.js';

/**
 * The deployment descriptor: `siplet.json` in an app folder (the sip.xml of JSR 289, as JSON).
 * Every field is optional; a field given here overrides what the decorators say. Classes are named
 * by the name the entry module exports them under.
 *
 * A later issue validates descriptors read from archives with class-validator; until then
 * `buildApplicationModel` checks field types itself.
 *
 * ```json
 * {
 *   "name": "echo",
 *   "mainServlet": "echo",
 *   "sessionTimeout": 5,
 *   "initParams": { "greeting": "hello" },
 *   "servlets": [{ "name": "echo", "className": "Echo", "loadOnStartup": 0, "initParams": { "mode": "loud" } }],
 *   "listeners": [{ "className": "Sessions", "kinds": ["applicationSession"] }]
 * }
 * ```
 */
export interface DescriptorShape {
  name: string;
  version: string;
  displayName: string;
  description: string;
  mainServlet: string;
  /** Minutes. */
  sessionTimeout: number;
  /** Seconds. */
  proxyTimeout: number;
  distributable: boolean;
  /** Application init parameters (context-param); merged over the decorator's, key by key. */
  initParams: Record<string, string>;
  servlets: DescriptorServlet[];
  listeners: DescriptorListener[];
}

export interface DescriptorServlet {
  /** Matches a `@Servlet` by name, whose fields this entry overrides; otherwise declares a new servlet. */
  name: string;
  /** The export name of the class. Required for a servlet no decorator declares. */
  className?: string;
  loadOnStartup?: number;
  description?: string;
  /** Merged over the decorator's, key by key. */
  initParams?: Record<string, string>;
}

export interface DescriptorListener {
  /** The export name of the class; `@SipListener` is not needed on it. */
  className: string;
  /** Overrides the decorator's `kinds`. */
  kinds?: ListenerKind[];
}

const LISTENER_KIND_SET: ReadonlySet<string> = new Set(LISTENER_KINDS);

/**
 * Checks the field names and types of a descriptor that did not come from TypeScript (siplet.json),
 * so that model building can trust them. Cross-references (class names, servlet names) are checked
 * by `buildApplicationModel`.
 */
export function checkDescriptor(descriptor: unknown): string[] {
  const errors: string[] = [];
  if (typeof descriptor !== 'object' || descriptor === null || Array.isArray(descriptor)) {
    return ['siplet.json must be a JSON object ({ "name": ..., "servlets": [...] }).'];
  }
  const d = descriptor as Record<string, unknown>;
  const known = ['name', 'version', 'displayName', 'description', 'mainServlet', 'sessionTimeout', 'proxyTimeout', 'distributable', 'initParams', 'servlets', 'listeners'];
  for (const key of Object.keys(d)) {
    if (!known.includes(key)) errors.push(`siplet.json: unknown field "${key}"; the fields are ${known.join(', ')}.`);
  }
  const expect = (value: unknown, type: 'string' | 'number' | 'boolean', where: string): void => {
    if (value !== undefined && typeof value !== type) errors.push(`${where} must be a ${type}, not ${JSON.stringify(value)}.`);
  };
  for (const key of ['name', 'version', 'displayName', 'description', 'mainServlet'] as const) expect(d[key], 'string', `siplet.json "${key}"`);
  for (const key of ['sessionTimeout', 'proxyTimeout'] as const) expect(d[key], 'number', `siplet.json "${key}"`);
  expect(d['distributable'], 'boolean', 'siplet.json "distributable"');
  if (d['servlets'] !== undefined) {
    if (!Array.isArray(d['servlets'])) errors.push('siplet.json "servlets" must be an array of { "name", "className"?, "loadOnStartup"?, "initParams"? }.');
    else
      d['servlets'].forEach((entry: unknown, index) => {
        const where = `siplet.json servlets[${index}]`;
        if (typeof entry !== 'object' || entry === null) return void errors.push(`${where} must be an object with at least "name".`);
        const s = entry as Record<string, unknown>;
        if (typeof s['name'] !== 'string') errors.push(`${where} needs a string "name".`);
        expect(s['className'], 'string', `${where} "className"`);
        expect(s['loadOnStartup'], 'number', `${where} "loadOnStartup"`);
        expect(s['description'], 'string', `${where} "description"`);
      });
  }
  if (d['listeners'] !== undefined) {
    if (!Array.isArray(d['listeners'])) errors.push('siplet.json "listeners" must be an array of { "className", "kinds"? }.');
    else
      d['listeners'].forEach((entry: unknown, index) => {
        const where = `siplet.json listeners[${index}]`;
        if (typeof entry !== 'object' || entry === null) return void errors.push(`${where} must be an object with "className".`);
        const l = entry as Record<string, unknown>;
        if (typeof l['className'] !== 'string') errors.push(`${where} needs a string "className".`);
        const kinds = l['kinds'];
        if (kinds !== undefined && (!Array.isArray(kinds) || kinds.some((k) => !LISTENER_KIND_SET.has(k as string)))) {
          errors.push(`${where} "kinds" must be an array of ${[...LISTENER_KIND_SET].map((k) => `"${k}"`).join(', ')}.`);
        }
      });
  }
  return errors;
}

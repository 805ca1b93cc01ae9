import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import * as sdk from '../../../../src/api/index.js';
import type { SipFactory, SipSessionsUtil, TimerService } from '../../../../src/api/index.js';
import type { AppServices } from '../../../../src/container/deploy/index.js';
import { createLogger, type Logger } from '../../../../src/util/index.js';

/*
 * How the app folders these tests write reach the Siplet API.
 *
 * A real app is compiled TypeScript that does `import { Servlet, SipServlet, … } from 'siplet/sdk'`,
 * resolved (by the integrator's wiring) to the server's own copy of the API. Here the API exists
 * only as TypeScript sources, which plain Node cannot import from a temp folder, and a second copy
 * would defeat the point anyway: `instanceof SipServlet` and the decorator metadata must be the
 * container's. So the test hands its own instance of the API module to the app through one global,
 * `globalThis[Symbol.for('siplet.test.sdk')]`, and the app's first line takes it from there where a
 * real app has its import. Everything after that line is what `tsc` emits for decorated classes
 * (`__decorate`, `__param`), so the deploy path sees exactly the shapes compiled apps produce.
 */
const SDK_KEY = Symbol.for('siplet.test.sdk');
const EVENTS_KEY = Symbol.for('siplet.test.events');

/** What the apps record (constructions, inits …) for the test to read: `events.push('…')` in app code. */
export function events(): string[] {
  const global = globalThis as Record<symbol, unknown>;
  global[SDK_KEY] = sdk;
  let list = global[EVENTS_KEY] as string[] | undefined;
  if (list === undefined) {
    list = [];
    global[EVENTS_KEY] = list;
  }
  return list;
}

/** Prepended to every app module: the API (in place of the import), the event log, tsc's helpers. */
export const PRELUDE = `
const { SipApplication, Servlet, SipListener, SipApplicationKey, SipServlet, Invite, Bye, Options, AnyMethod,
  SuccessResponse, AnyResponse, inject, optional, SIP_FACTORY, TIMER_SERVICE, SIP_SESSIONS_UTIL, APP_LOGGER,
  APP_CONFIG, SERVLET_CONTEXT } = globalThis[Symbol.for('siplet.test.sdk')];
const events = globalThis[Symbol.for('siplet.test.events')];
var __decorate = function (decorators, target, key, desc) {
  var c = arguments.length, r = c < 3 ? target : desc === null ? desc = Object.getOwnPropertyDescriptor(target, key) : desc, d;
  if (typeof Reflect === "object" && typeof Reflect.decorate === "function") r = Reflect.decorate(decorators, target, key, desc);
  else for (var i = decorators.length - 1; i >= 0; i--) if (d = decorators[i]) r = (c < 3 ? d(r) : c > 3 ? d(target, key, r) : d(target, key)) || r;
  return c > 3 && r && Object.defineProperty(target, key, r), r;
};
var __param = function (paramIndex, decorator) { return function (target, key) { decorator(target, key, paramIndex); }; };
`;

const folders: string[] = [];

/** Writes an app folder to a new temp dir; `.js` files get the PRELUDE unless they start with `// no-prelude`. */
export async function writeApp(files: Record<string, string>): Promise<string> {
  events();
  const folder = await mkdtemp(join(tmpdir(), 'siplet-app-'));
  folders.push(folder);
  await writeFiles(folder, files);
  return folder;
}

export async function writeFiles(folder: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    const path = join(folder, name);
    await mkdir(dirname(path), { recursive: true });
    const body = name.endsWith('.js') && !text.startsWith('// no-prelude') ? `${PRELUDE}\n${text}` : text;
    await writeFile(path, body);
  }
}

export async function removeApps(): Promise<void> {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
}

/** Stand-ins for the container's services: tests check identity, not behaviour. */
export function fakeServices(): AppServices {
  return {
    sipFactory: { fake: 'SipFactory' } as unknown as SipFactory,
    timerService: { fake: 'TimerService' } as unknown as TimerService,
    sipSessionsUtil: { fake: 'SipSessionsUtil' } as unknown as SipSessionsUtil,
  };
}

/** A logger whose records the test can read. */
export function capturingLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), records };
}

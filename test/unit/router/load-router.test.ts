import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouter } from '../../../src/router/index.js';
import { SipletError } from '../../../src/util/index.js';
import { routerRequest } from './helpers.js';

const ROUTER_CLASS = `
export default class FirstAppRouter {
  apps = [];
  init() {}
  destroy() {}
  applicationDeployed(names) { this.apps.push(...names); }
  applicationUndeployed() {}
  getNextApplication(request, region, directive) {
    return directive === 'NEW' ? { nextApplicationName: this.apps[0], routeModifier: 'NO_ROUTE' } : undefined;
  }
}
`;

describe('loadRouter', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'siplet-router-'));
    await writeFile(join(dir, 'class.mjs'), ROUTER_CLASS);
    await writeFile(join(dir, 'instance.mjs'), `${ROUTER_CLASS.replace('export default class', 'class')}\nexport default new FirstAppRouter();\n`);
    await writeFile(join(dir, 'no-default.mjs'), 'export const router = {};\n');
    await writeFile(join(dir, 'partial.mjs'), 'export default { init() {}, getNextApplication() { return undefined; } };\n');
    await writeFile(join(dir, 'string.mjs'), 'export default "router";\n');
    await writeFile(join(dir, 'throws.mjs'), 'export default class { constructor() { throw new Error("needs a database"); } }\n');
    await writeFile(join(dir, 'syntax.mjs'), 'export default {\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function refusal(modulePath: string): Promise<SipletError> {
    const error: unknown = await loadRouter(modulePath, { baseDir: dir }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(SipletError.is(error, 'SIPLET_CONFIG_INVALID')).toBe(true);
    return error as SipletError;
  }

  it('constructs a default-exported class', async () => {
    const router = await loadRouter(join(dir, 'class.mjs'));
    router.applicationDeployed(['echo']);
    expect(router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined)?.nextApplicationName).toBe('echo');
  });

  it('takes a default-exported instance, resolving relative paths against baseDir', async () => {
    const router = await loadRouter('./instance.mjs', { baseDir: dir });
    expect(typeof router.getNextApplication).toBe('function');
  });

  it('refuses modules that cannot be used, saying what to fix', async () => {
    expect((await refusal('./missing.mjs')).message).toMatch(/^The application router module "\.\/missing\.mjs" cannot be imported .*Check the path/);
    expect((await refusal('./syntax.mjs')).message).toContain('cannot be imported');
    expect((await refusal('./no-default.mjs')).message).toContain('has no default export. Add `export default`');
    expect((await refusal('./partial.mjs')).message).toContain('missing destroy(), applicationDeployed(), applicationUndeployed()');
    expect((await refusal('./string.mjs')).message).toContain('default-exports string');
    const failed = await refusal('./throws.mjs');
    expect(failed.message).toContain('constructor failed (needs a database)');
    expect(failed.cause).toBeInstanceOf(Error);
  });
});

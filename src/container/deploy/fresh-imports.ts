import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Fresh code on redeploy. Node never unloads an ES module: importing the same URL again returns
 * the module loaded first. The deploy layer therefore imports an app's entry as
 * `index.js?siplet-deploy=<n>`, a URL never used before, and this resolve hook gives every module
 * that entry imports by a relative path (`./calls.js`) the same query, so the app's whole own
 * module graph is loaded anew. Bare specifiers (`siplet/sdk`, the app's packages) and anything
 * under `node_modules` keep their one instance: the API module especially must stay the server's
 * copy, or `instanceof SipServlet` and the decorator metadata would not be the container's.
 *
 * Hazard: every deployment keeps its module graph in memory for the life of the process (ESM has
 * no unload); redeploying the same app thousands of times grows the heap. The deployer therefore
 * names an archive's load by its content hash (`LoadAppFolderOptions.moduleKey`): the same archive
 * deployed again gets the module instances already loaded, and only a new build costs memory
 * (about 30 KiB for the call-screening sample; docs/benchmarks.md).
 */
export const DEPLOY_QUERY_PARAM = 'siplet-deploy';

/**
 * The hook module's source: plain JavaScript, loaded by Node's hooks thread from a data: URL.
 * `initialize` receives the URLs of this server's own `siplet` and `siplet/sdk` modules: an
 * app's `import … from 'siplet/sdk'` resolves to them wherever the app folder lies (one copy of
 * the API, never one bundled with the app).
 */
export const FRESH_IMPORT_HOOK_SOURCE = `
const PARAM = ${JSON.stringify(DEPLOY_QUERY_PARAM)};
const IN_PARENT = new RegExp('[?&](' + PARAM + '=[^&#]*)');
const IN_URL = new RegExp('[?&]' + PARAM + '=');
let own = {};
export async function initialize(data) {
  own = (data && data.modules) || {};
}
export async function resolve(specifier, context, nextResolve) {
  if (Object.prototype.hasOwnProperty.call(own, specifier)) return { url: own[specifier], shortCircuit: true };
  const result = await nextResolve(specifier, context);
  const parent = context.parentURL;
  if (parent === undefined || !(specifier.startsWith('./') || specifier.startsWith('../'))) return result;
  if (!result.url.startsWith('file:') || result.url.includes('/node_modules/') || IN_URL.test(result.url)) return result;
  const found = IN_PARENT.exec(parent);
  if (found === null) return result;
  const hash = result.url.indexOf('#');
  const base = hash < 0 ? result.url : result.url.slice(0, hash);
  const fragment = hash < 0 ? '' : result.url.slice(hash);
  return { ...result, url: base + (base.includes('?') ? '&' : '?') + found[1] + fragment };
}
`;

let installed = false;

/**
 * This server's own modules that apps import by package name. They exist as JavaScript only in
 * the built server (dist/); under the TypeScript sources (tests) none is mapped.
 */
function ownModules(): Record<string, string> {
  const candidates: Record<string, URL> = {
    siplet: new URL('../../index.js', import.meta.url),
    'siplet/sdk': new URL('../../../sdk/index.js', import.meta.url),
    'siplet/sdk/testing': new URL('../../../sdk/testing/index.js', import.meta.url),
  };
  const found: Record<string, string> = {};
  for (const [name, url] of Object.entries(candidates)) if (existsSync(fileURLToPath(url))) found[name] = url.href;
  return found;
}

/** Registers the resolve hook once per process (`node:module` `register`); later calls do nothing. */
export function installFreshImportHook(): void {
  if (installed) return;
  installed = true;
  register(`data:text/javascript,${encodeURIComponent(FRESH_IMPORT_HOOK_SOURCE)}`, { data: { modules: ownModules() } });
}

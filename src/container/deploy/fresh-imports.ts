import { register } from 'node:module';

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
 * no unload); redeploying the same app thousands of times grows the heap.
 */
export const DEPLOY_QUERY_PARAM = 'siplet-deploy';

/** The hook module's source: plain JavaScript, loaded by Node's hooks thread from a data: URL. */
export const FRESH_IMPORT_HOOK_SOURCE = `
const PARAM = ${JSON.stringify(DEPLOY_QUERY_PARAM)};
const IN_PARENT = new RegExp('[?&](' + PARAM + '=[^&#]*)');
const IN_URL = new RegExp('[?&]' + PARAM + '=');
export async function resolve(specifier, context, nextResolve) {
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

/** Registers the resolve hook once per process (`node:module` `register`); later calls do nothing. */
export function installFreshImportHook(): void {
  if (installed) return;
  installed = true;
  register(`data:text/javascript,${encodeURIComponent(FRESH_IMPORT_HOOK_SOURCE)}`);
}

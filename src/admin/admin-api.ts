import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import type { Logger } from '../util/index.js';
import type { AdminFacade } from './admin-facade.js';
import { principalOf, type AdminAuth } from './admin-auth.js';
import { adminErrorHandler, badRequest, sendError } from './http-errors.js';

export interface AdminApiOptions {
  facade: AdminFacade;
  auth: AdminAuth;
  log: Logger;
  /** Largest archive accepted by `POST /apps` (bytes). */
  maxUploadBytes: number;
  /** Largest JSON or text body (bytes). Default 1 MiB (the DAR file's own limit). */
  maxBodyBytes?: number;
}

/**
 * The admin REST API, mounted at `/admin/api` (JSON in and out; errors as
 * `{ "error": { "code", "message" } }`, see http-errors.ts):
 *
 * | route | what |
 * | --- | --- |
 * | `GET/POST/DELETE /session` | the console's login (cookie + CSRF token), who is signed in, sign out |
 * | `PUT /account/password` | the signed-in admin's password |
 * | `GET /apps`, `POST /apps` (multipart `archive`), `DELETE /apps/:name[?force=true]` | applications |
 * | `GET /dar`, `PUT /dar`, `POST /dar/validate` | the DAR file and the rules in force |
 * | `GET /stats` | counters |
 * | `GET /registrations[?aor=]`, `DELETE /registrations/:aor[?contact=]` | the location service |
 * | `GET/POST /realms`, `DELETE /realms/:realm` | realms |
 * | `GET /users[?realm=]`, `POST /users`, `DELETE /users/:realm/:user`, `PUT /users/:realm/:user/password` | SIP users |
 *
 * Every change is logged (`audit: true`) with the admin who made it and their address; passwords
 * are never logged or answered.
 */
export function createAdminApi(options: AdminApiOptions): Router {
  const { facade, auth, log } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const api = Router();
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: options.maxUploadBytes, files: 1, fields: 10, parts: 12 } });
  const audit = (res: Response, action: string, facts: Record<string, unknown>, text: string): void => {
    const who = principalOf(res);
    log.info({ audit: true, user: who.user, source: who.source, via: who.via, action, ...facts }, `${text} (by ${who.user} from ${who.source})`);
  };

  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.use(express.json({ limit: maxBodyBytes }));
  api.use(express.text({ limit: maxBodyBytes, type: 'text/plain' }));
  api.use(auth.sameOrigin);

  // ---- session ------------------------------------------------------------------------
  api.post('/session', auth.login);
  api.use(auth.authenticate);
  api.get('/session', (_req, res) => {
    const who = principalOf(res);
    res.json({ user: who.user, via: who.via, csrfToken: who.session?.csrfToken });
  });
  api.delete('/session', auth.logout);
  api.put('/account/password', async (req, res) => {
    const who = principalOf(res);
    const body = objectBody(req);
    const password = requiredString(body, 'password', 'the new password');
    if (who.via === 'session') {
      const current = requiredString(body, 'currentPassword', 'the current password');
      if (!(await facade.verifyAdmin(who.user, current))) {
        sendError(res, 400, 'SIPLET_ADMIN_BAD_REQUEST', 'The current password is wrong: give the password you signed in with.');
        return;
      }
    }
    await facade.setAdminPassword(who.user, password);
    auth.passwordChanged(who.user, who.session?.id);
    audit(res, 'account.password', { account: who.user }, `admin ${who.user} changed their password`);
    res.status(204).end();
  });

  // ---- applications ---------------------------------------------------------------------
  api.get('/apps', (_req, res) => {
    res.json(facade.listApps());
  });
  api.post('/apps', upload.single('archive') as RequestHandler, async (req, res) => {
    const file = req.file;
    if (file === undefined) throw badRequest('No archive received: send the .sar file as multipart/form-data in the field named "archive" (siplet pack builds one).');
    const fileName = safeFileName(file.originalname);
    const app = await facade.deployArchive(file.buffer, { fileName });
    audit(res, 'app.deploy', { app: app.name, version: app.version, archive: fileName, bytes: file.size }, `deployed ${app.name}${app.version ? ` ${app.version}` : ''} from ${fileName}`);
    res.status(201).json(app);
  });
  api.delete('/apps/:name', async (req, res) => {
    const name = param(req, 'name');
    const force = flag(req, 'force');
    const result = await facade.undeployApp(name, { force });
    audit(res, 'app.undeploy', { app: name, force }, `undeployed ${name}${force ? ' (forced: its calls were ended)' : ' (graceful: live calls finish)'}`);
    res.status(result.state === 'undeployed' ? 200 : 202).json(result);
  });

  // ---- DAR ----------------------------------------------------------------------------------
  api.get('/dar', async (_req, res) => {
    res.json(await facade.getDar());
  });
  api.post('/dar/validate', (req, res) => {
    res.json(facade.checkDar(darText(req)));
  });
  api.put('/dar', async (req, res) => {
    const text = darText(req);
    const view = await facade.putDar(text);
    audit(res, 'dar.update', { path: view.path, methods: view.rules.map((r) => r.method), bytes: Buffer.byteLength(text) }, `DAR ${view.path} updated`);
    res.json(view);
  });

  // ---- statistics ---------------------------------------------------------------------------
  api.get('/stats', async (_req, res) => {
    res.json(await facade.stats());
  });

  // ---- registrations -------------------------------------------------------------------------
  api.get('/registrations', async (req, res) => {
    res.json(await facade.listRegistrations({ aor: optionalQuery(req, 'aor') }));
  });
  api.delete('/registrations/:aor', async (req, res) => {
    const aor = param(req, 'aor');
    const contact = optionalQuery(req, 'contact');
    const removed = await facade.removeRegistrations({ aor, contact });
    audit(res, 'registration.remove', { aor, contact, removed }, `removed ${removed} registration(s) of ${aor}`);
    res.json({ aor, removed });
  });

  // ---- realms and users ----------------------------------------------------------------------
  api.get('/realms', async (_req, res) => {
    res.json(await facade.listRealms());
  });
  api.post('/realms', async (req, res) => {
    const realm = await facade.addRealm(requiredString(objectBody(req), 'realm', 'the realm (a domain such as example.com)'));
    audit(res, 'realm.add', { realm }, `realm ${realm} added`);
    res.status(201).json({ realm, users: 0 });
  });
  api.delete('/realms/:realm', async (req, res) => {
    const realm = param(req, 'realm');
    const usersRemoved = await facade.removeRealm(realm);
    audit(res, 'realm.remove', { realm, usersRemoved }, `realm ${realm} removed with its ${usersRemoved} user(s)`);
    res.json({ realm, usersRemoved });
  });
  api.get('/users', async (req, res) => {
    res.json(await facade.listUsers({ realm: optionalQuery(req, 'realm') }));
  });
  api.post('/users', async (req, res) => {
    const body = objectBody(req);
    const roles = body['roles'];
    if (roles !== undefined && (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string'))) {
      throw badRequest('"roles" must be a list of role names, such as ["admin"].');
    }
    const user = await facade.addUser({
      user: requiredString(body, 'user', 'the user name (the user part of a SIP address)'),
      realm: requiredString(body, 'realm', 'the realm'),
      password: requiredString(body, 'password', 'a password'),
      roles: roles as string[] | undefined,
    });
    audit(res, 'user.add', { username: user.username, realm: user.realm, roles: user.roles }, `user ${user.username}@${user.realm} added`);
    res.status(201).json(user);
  });
  api.delete('/users/:realm/:user', async (req, res) => {
    const realm = param(req, 'realm');
    const user = param(req, 'user');
    await facade.removeUser({ user, realm });
    audit(res, 'user.remove', { username: user, realm }, `user ${user}@${realm} removed`);
    res.status(204).end();
  });
  api.put('/users/:realm/:user/password', async (req, res) => {
    const realm = param(req, 'realm');
    const user = param(req, 'user');
    await facade.setUserPassword({ user, realm, password: requiredString(objectBody(req), 'password', 'the new password') });
    audit(res, 'user.password', { username: user, realm }, `password of ${user}@${realm} changed`);
    res.status(204).end();
  });

  api.use((req, res) => {
    sendError(res, 404, 'SIPLET_ADMIN_NOT_FOUND', `No admin API route ${req.method} /admin/api${req.path}. The routes are listed in the README (Admin console).`);
  });
  api.use(adminErrorHandler(log, { maxUploadBytes: options.maxUploadBytes, maxBodyBytes }));
  return api;
}

function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Send a JSON object (Content-Type: application/json) with the fields this route takes.');
  }
  return body as Record<string, unknown>;
}

function requiredString(body: Record<string, unknown>, field: string, what: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw badRequest(`"${field}" is missing: give ${what} as a non-empty string.`);
  return value;
}

function param(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || value === '') throw badRequest(`The ${name} is missing from the path.`);
  return value;
}

function optionalQuery(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest(`Give ${name} once, as text.`);
  return value;
}

function flag(req: Request, name: string): boolean {
  const value = optionalQuery(req, name);
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw badRequest(`?${name}= takes true or false, not "${value}".`);
}

/** The DAR text: a text/plain body, or JSON `{ "text": "…" }`. */
function darText(req: Request): string {
  if (typeof req.body === 'string') return req.body;
  const text = objectBody(req)['text'];
  if (typeof text !== 'string') throw badRequest('Send the DAR as text/plain, or as JSON { "text": "…" } (an empty text clears the rules).');
  return text;
}

/** The uploaded file's name for messages and logs: its base name, printable characters only. */
function safeFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^\w.@+-]/g, '_').slice(0, 128);
  return clean === '' ? 'uploaded archive' : clean;
}

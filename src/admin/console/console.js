// Siplet admin console: plain JavaScript over the admin API (/admin/api), no framework, no build.
// Every change carries the session's CSRF token; data is put in the page with textContent only.
'use strict';

const API = '/admin/api';
const PAGES = ['apps', 'dar', 'users', 'registrations', 'stats'];
const REFRESH_MS = 3000;
const state = { user: undefined, csrf: undefined, page: undefined, timer: undefined, passwordFor: undefined };

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || `The server answered ${status}.`);
    this.status = status;
    this.code = error && error.code;
    this.details = error && error.details;
  }
}

/** Calls the admin API; resolves with the JSON answer (undefined for 204), rejects with an ApiError. */
async function api(method, path, body) {
  const headers = { Accept: 'application/json', 'X-Siplet-Console': '1' };
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API + path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, { message: 'Siplet cannot be reached: is it running? Check the network and reload the page.' });
  }
  const text = await res.text();
  let data;
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (res.status === 401 && path !== '/session') {
    showLogin('Your session has ended: sign in again.');
  }
  if (!res.ok) throw new ApiError(res.status, data && data.error);
  return data;
}

// ---- small DOM helpers -------------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function flash(text, bad) {
  const box = $('flash');
  box.className = bad ? 'flash bad' : 'flash';
  box.textContent = text || '';
}

function showError(id, error) {
  const box = $(id);
  box.replaceChildren();
  if (!error) return;
  const lines = error.details && Array.isArray(error.details.errors) ? error.details.errors : undefined;
  if (lines && lines.length > 0) {
    box.append(el('p', { text: 'Not saved. Fix these lines; the rules in force are unchanged:' }));
    box.append(el('ul', {}, ...lines.map((e) => el('li', { text: `Line ${e.line}: ${e.problem}` }))));
  } else {
    box.textContent = error.message || String(error);
  }
}

async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// ---- sign in and navigation -------------------------------------------------------------

function showLogin(message) {
  state.user = undefined;
  state.csrf = undefined;
  stopRefresh();
  for (const page of document.querySelectorAll('.page')) page.hidden = true;
  $('nav').hidden = true;
  $('who').hidden = true;
  $('page-login').hidden = false;
  $('login-error').textContent = message || '';
  document.title = 'Sign in · Siplet admin';
  $('login-password').focus();
}

function signedIn(session) {
  state.user = session.user;
  state.csrf = session.csrfToken;
  $('who-name').textContent = session.user;
  $('who').hidden = false;
  $('nav').hidden = false;
  $('page-login').hidden = true;
  $('login-password').value = '';
  $('login-error').textContent = '';
  route();
}

async function login(event) {
  event.preventDefault();
  const username = $('login-user').value.trim();
  const password = $('login-password').value;
  if (username === '' || password === '') {
    $('login-error').textContent = 'Enter the user name and the password.';
    return;
  }
  const button = event.submitter || $('login-form').querySelector('button');
  await busy(button, async () => {
    try {
      signedIn(await api('POST', '/session', { username, password }));
    } catch (error) {
      $('login-error').textContent = error.message;
      $('login-password').select();
    }
  });
}

async function logout() {
  try {
    await api('DELETE', '/session');
  } catch {
    // Signed out either way.
  }
  flash('');
  showLogin('You are signed out.');
}

function route() {
  if (state.user === undefined) return;
  const wanted = location.hash.replace('#', '');
  const page = PAGES.includes(wanted) ? wanted : 'apps';
  state.page = page;
  for (const name of PAGES) $(`page-${name}`).hidden = name !== page;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${document.querySelector(`[data-nav="${page}"]`).textContent} · Siplet admin`;
  stopRefresh();
  LOADERS[page]().catch(report);
  if (page === 'apps' || page === 'stats') {
    state.timer = setInterval(() => {
      if (!document.hidden) LOADERS[page]().catch(report);
    }, REFRESH_MS);
  }
}

function stopRefresh() {
  clearInterval(state.timer);
  state.timer = undefined;
}

function report(error) {
  if (error instanceof ApiError && error.status === 401) return;
  flash(error.message, true);
}

// ---- applications -------------------------------------------------------------------------

async function loadApps() {
  const apps = await api('GET', '/apps');
  $('apps-empty').hidden = apps.length > 0;
  fill(
    $('apps-table').tBodies[0],
    apps.map((app) => {
      const label = `${app.name}${app.version ? ' ' + app.version : ''}`;
      const actions = el('td', { class: 'actions' });
      if (app.state === 'active') {
        actions.append(
          el('button', { type: 'button', class: 'secondary small', 'aria-label': `Undeploy ${label}`, text: 'Undeploy', onclick: () => undeploy(app.name, false) }),
          el('button', { type: 'button', class: 'danger small', 'aria-label': `Force undeploy ${label}`, text: 'Force undeploy', onclick: () => undeploy(app.name, true) }),
        );
      } else {
        actions.append(el('button', { type: 'button', class: 'danger small', 'aria-label': `End the calls of ${label} now`, text: 'End calls now', onclick: () => undeploy(app.name, true) }));
      }
      return el(
        'tr',
        { 'data-app': app.name, 'data-state': app.state },
        el('th', { scope: 'row', text: app.name }),
        el('td', { text: app.version || '—' }),
        el('td', {}, el('span', { class: `state ${app.state}`, text: app.state })),
        el('td', { class: 'num', 'data-sessions': String(app.sessions), text: String(app.sessions) }),
        el('td', { text: app.servlets.join(', ') }),
        el('td', { text: when(app.deployedAt) }),
        actions,
      );
    }),
  );
}

async function deploy(event) {
  event.preventDefault();
  showError('deploy-error');
  const input = $('archive');
  const file = input.files && input.files[0];
  if (!file) {
    showError('deploy-error', { message: 'Choose a .sar archive first.' });
    input.focus();
    return;
  }
  const form = new FormData();
  form.append('archive', file, file.name);
  await busy($('deploy-button'), async () => {
    try {
      const app = await api('POST', '/apps', form);
      flash(`Deployed ${app.name}${app.version ? ' ' + app.version : ''}: it takes new calls now.`);
      input.value = '';
      await loadApps();
    } catch (error) {
      showError('deploy-error', error);
    }
  });
}

async function undeploy(name, force) {
  const question = force
    ? `Force undeploy ${name}? Its live calls are ended now (BYE, CANCEL, 503).`
    : `Undeploy ${name}? It takes no new calls; live calls finish first.`;
  if (!window.confirm(question)) return;
  try {
    const result = await api('DELETE', `/apps/${encodeURIComponent(name)}${force ? '?force=true' : ''}`);
    flash(result.state === 'undeployed' ? `${name} is undeployed.` : `${name} is draining: it takes no new calls, its live calls finish.`);
  } catch (error) {
    flash(error.message, true);
  }
  await loadApps().catch(report);
}

// ---- DAR ----------------------------------------------------------------------------------

async function loadDar() {
  const dar = await api('GET', '/dar');
  $('dar-path').textContent = dar.path;
  if (document.activeElement !== $('dar-text')) $('dar-text').value = dar.text;
  showDarRules(dar.rules);
}

function showDarRules(rules) {
  const rows = [];
  for (const { method, applications } of rules) {
    for (const rule of applications) {
      const options = [rule.direction, ...rule.patterns].filter(Boolean).join(', ');
      rows.push(
        el(
          'tr',
          {},
          el('th', { scope: 'row', text: method }),
          el('td', { class: 'num', text: String(rule.order) }),
          el('td', { text: rule.applicationName }),
          el('td', { text: rule.subscriber || '—' }),
          el('td', { text: rule.routingRegion }),
          el('td', { text: rule.route ? `${rule.route} (${rule.routeModifier})` : rule.routeModifier }),
          el('td', { text: options || '—' }),
          el('td', { class: 'num', text: String(rule.line) }),
        ),
      );
    }
  }
  fill($('dar-table').tBodies[0], rows);
  $('dar-empty').hidden = rows.length > 0;
}

async function validateDar() {
  showError('dar-errors');
  await busy($('dar-validate'), async () => {
    try {
      const result = await api('POST', '/dar/validate', { text: $('dar-text').value });
      if (result.ok) flash(`The rules are valid (${result.methods.length ? result.methods.join(', ') : 'no method'}). Not saved yet.`);
      else showError('dar-errors', { details: { errors: result.errors } });
    } catch (error) {
      showError('dar-errors', error);
    }
  });
}

async function saveDar(event) {
  event.preventDefault();
  showError('dar-errors');
  await busy($('dar-save'), async () => {
    try {
      const dar = await api('PUT', '/dar', { text: $('dar-text').value });
      showDarRules(dar.rules);
      flash(`Saved to ${dar.path}: the new rules are in force.`);
    } catch (error) {
      showError('dar-errors', error);
      $('dar-text').focus();
    }
  });
}

// ---- realms and users ---------------------------------------------------------------------------

async function loadUsers() {
  const [realms, users] = await Promise.all([api('GET', '/realms'), api('GET', '/users')]);
  $('realms-empty').hidden = realms.length > 0;
  fill(
    $('realms-table').tBodies[0],
    realms.map((r) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row', text: r.realm }),
        el('td', { class: 'num', text: String(r.users) }),
        el('td', { class: 'actions' }, el('button', { type: 'button', class: 'danger small', 'aria-label': `Remove realm ${r.realm}`, text: 'Remove', onclick: () => removeRealm(r) })),
      ),
    ),
  );
  const select = $('user-realm');
  const chosen = select.value;
  select.replaceChildren(...realms.map((r) => el('option', { value: r.realm, text: r.realm })));
  if (realms.some((r) => r.realm === chosen)) select.value = chosen;
  $('users-empty').hidden = users.length > 0;
  fill(
    $('users-table').tBodies[0],
    users.map((u) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row', text: u.username }),
        el('td', { text: u.realm }),
        el('td', { text: u.roles.join(', ') || '—' }),
        el(
          'td',
          { class: 'actions' },
          el('button', { type: 'button', class: 'secondary small', 'aria-label': `Set the password of ${u.username}@${u.realm}`, text: 'Set password', onclick: () => askPassword(u) }),
          el('button', { type: 'button', class: 'danger small', 'aria-label': `Remove user ${u.username}@${u.realm}`, text: 'Remove', onclick: () => removeUser(u) }),
        ),
      ),
    ),
  );
}

async function addRealm(event) {
  event.preventDefault();
  showError('realm-error');
  const realm = $('realm-name').value.trim();
  if (realm === '') return showError('realm-error', { message: 'Enter a realm, such as example.com.' });
  try {
    await api('POST', '/realms', { realm });
    $('realm-name').value = '';
    flash(`Realm ${realm} added.`);
    await loadUsers();
  } catch (error) {
    showError('realm-error', error);
  }
}

async function removeRealm(r) {
  if (!window.confirm(`Remove the realm ${r.realm}${r.users ? ` and its ${r.users} user(s)` : ''}?`)) return;
  try {
    await api('DELETE', `/realms/${encodeURIComponent(r.realm)}`);
    flash(`Realm ${r.realm} removed.`);
  } catch (error) {
    flash(error.message, true);
  }
  await loadUsers().catch(report);
}

async function addUser(event) {
  event.preventDefault();
  showError('user-error');
  const user = $('user-name').value.trim();
  const realm = $('user-realm').value;
  const password = $('user-password').value;
  const roles = $('user-roles').value.split(',').map((r) => r.trim()).filter(Boolean);
  if (!realm) return showError('user-error', { message: 'Add a realm first: users belong to one.' });
  if (user === '' || password === '') return showError('user-error', { message: 'Enter the user name and a password.' });
  try {
    await api('POST', '/users', { user, realm, password, roles });
    $('user-name').value = '';
    $('user-password').value = '';
    $('user-roles').value = '';
    flash(`User ${user}@${realm} added.`);
    await loadUsers();
  } catch (error) {
    showError('user-error', error);
  }
}

async function removeUser(u) {
  if (!window.confirm(`Remove the user ${u.username}@${u.realm}?`)) return;
  try {
    await api('DELETE', `/users/${encodeURIComponent(u.realm)}/${encodeURIComponent(u.username)}`);
    flash(`User ${u.username}@${u.realm} removed.`);
  } catch (error) {
    flash(error.message, true);
  }
  await loadUsers().catch(report);
}

function askPassword(u) {
  state.passwordFor = u;
  $('password-for').textContent = `${u.username}@${u.realm}`;
  $('new-password').value = '';
  showError('password-error');
  $('password-dialog').showModal();
  $('new-password').focus();
}

async function setPassword(event) {
  event.preventDefault();
  const u = state.passwordFor;
  const password = $('new-password').value;
  if (password === '') return showError('password-error', { message: 'Enter the new password.' });
  await busy($('password-save'), async () => {
    try {
      await api('PUT', `/users/${encodeURIComponent(u.realm)}/${encodeURIComponent(u.username)}/password`, { password });
      $('password-dialog').close();
      flash(`Password of ${u.username}@${u.realm} changed.`);
    } catch (error) {
      showError('password-error', error);
    }
  });
}

// ---- registrations ------------------------------------------------------------------------------

async function loadRegistrations() {
  showError('registrations-error');
  const aor = $('registrations-aor').value.trim();
  let list;
  try {
    list = await api('GET', `/registrations${aor ? `?aor=${encodeURIComponent(aor)}` : ''}`);
  } catch (error) {
    if (error.status === 401) throw error;
    showError('registrations-error', error);
    list = [];
  }
  const rows = [];
  for (const reg of list) {
    reg.contacts.forEach((c, i) => {
      rows.push(
        el(
          'tr',
          {},
          el('th', { scope: 'row', text: i === 0 ? reg.aor : '' }),
          el('td', { text: c.contact }),
          el('td', { text: duration(c.expiresIn) }),
          el('td', { class: 'num', text: String(c.q) }),
          el('td', { text: c.source || '—' }),
          el(
            'td',
            { class: 'actions' },
            el('button', { type: 'button', class: 'secondary small', 'aria-label': `Remove contact ${c.uri} of ${reg.aor}`, text: 'Remove contact', onclick: () => removeRegistration(reg.aor, c.uri) }),
            i === 0 ? el('button', { type: 'button', class: 'danger small', 'aria-label': `Remove every contact of ${reg.aor}`, text: 'Remove all', onclick: () => removeRegistration(reg.aor) }) : undefined,
          ),
        ),
      );
    });
  }
  fill($('registrations-table').tBodies[0], rows);
  $('registrations-empty').hidden = rows.length > 0;
}

async function removeRegistration(aor, contact) {
  if (!window.confirm(contact ? `Remove the contact ${contact} of ${aor}?` : `Remove every contact of ${aor}?`)) return;
  try {
    const result = await api('DELETE', `/registrations/${encodeURIComponent(aor)}${contact ? `?contact=${encodeURIComponent(contact)}` : ''}`);
    flash(`Removed ${result.removed} contact(s) of ${aor}.`);
  } catch (error) {
    flash(error.message, true);
  }
  await loadRegistrations().catch(report);
}

// ---- statistics ------------------------------------------------------------------------------------

function group(title, entries) {
  const list = el('dl');
  for (const [name, value] of entries) list.append(el('dt', { text: name }), el('dd', { text: String(value) }));
  if (entries.length === 0) list.append(el('dt', { text: 'none yet' }), el('dd', { text: '' }));
  return el('section', { 'aria-label': title }, el('h2', { text: title }), list);
}

async function loadStats() {
  const s = await api('GET', '/stats');
  $('stats-uptime').textContent = duration(s.uptimeSeconds);
  const m = s.messages;
  $('stats').replaceChildren(
    group('SIP messages', [
      ['requests received', m.requestsIn],
      ['responses received', m.responsesIn],
      ['requests sent', m.requestsOut],
      ['responses sent', m.responsesOut],
      ['malformed, answered', m.malformedAnswered],
      ['dropped', m.dropped],
    ]),
    group('Requests received by method', Object.entries(m.requestsInByMethod)),
    group('Responses sent by status', Object.entries(m.responsesOutByStatus)),
    group('Responses received by status', Object.entries(m.responsesInByStatus)),
    group('Transactions', [
      ['live', s.transactions.live],
      ['created', s.transactions.created],
      ['retransmissions', s.transactions.retransmissions],
      ['timeouts', s.transactions.timeouts],
      ['transport errors', s.transactions.transportErrors],
    ]),
    group('Dialogs and sessions', [
      ['dialogs', s.dialogs.live],
      ['application sessions', s.sessions.applicationSessions],
      ['SIP sessions', s.sessions.sipSessions],
      ['application sessions created', s.sessions.applicationSessionsCreated],
      ['SIP sessions created', s.sessions.sipSessionsCreated],
    ]),
    group('Registrations', [
      ['addresses of record', s.registrations.aors],
      ['contacts', s.registrations.contacts],
    ]),
    group('Applications', [
      ['active', s.applications.active],
      ['draining', s.applications.draining],
    ]),
  );
}

const LOADERS = { apps: loadApps, dar: loadDar, users: loadUsers, registrations: loadRegistrations, stats: loadStats };

// ---- start --------------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', async () => {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('deploy-form').addEventListener('submit', deploy);
  $('dar-form').addEventListener('submit', saveDar);
  $('dar-validate').addEventListener('click', validateDar);
  $('realm-form').addEventListener('submit', addRealm);
  $('user-form').addEventListener('submit', addUser);
  $('password-form').addEventListener('submit', setPassword);
  $('password-cancel').addEventListener('click', () => $('password-dialog').close());
  $('registrations-form').addEventListener('submit', (event) => {
    event.preventDefault();
    loadRegistrations().catch(report);
  });
  window.addEventListener('hashchange', () => {
    flash('');
    route();
  });
  try {
    signedIn(await api('GET', '/session'));
  } catch (error) {
    showLogin(error.status === 401 ? '' : error.message);
  }
});

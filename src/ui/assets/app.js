// The page shell: who is signed in, the hash router (#/events, #/events/ID,
// #/settings/cluster, #/settings/apikeys, #/settings/general, #/login), the
// header and the cluster notification area shown on every page.

import { api, ApiError } from './api.js';
import { h, fill } from './dom.js';

const app = document.getElementById('app');
const notifications = document.getElementById('notifications');
let unmount = null;
let auth = { required: false, user: null };

/** Pages by the first part of the route; each mount returns its unmount. */
const PAGES = {
  events: () => import('./events.js'),
  settings: () => import('./settings.js'),
  login: () => import('./login.js'),
};

/** The route: page name, the rest of the path and the query parameters. */
export function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, q = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'events', rest: parts.slice(1), params: new URLSearchParams(q) };
}

async function render() {
  if (unmount) { unmount(); unmount = null; }
  const r = route();
  const load = PAGES[r.page];
  for (const a of document.querySelectorAll('#top nav a')) {
    a.classList.toggle('active', a.dataset.nav === r.page);
  }
  if (!load) { fill(app, h('p', { class: 'empty' }, `No page “${r.page}”.`)); return; }
  const mod = await load();
  unmount = mod.mount(app, r, auth) || null;
}

/** Asks the API who is signed in; 404 means the server has no users (auth off). */
async function whoAmI() {
  try {
    const me = await api('/api/users/current');
    auth = { required: !!(me && me.AuthRequired), user: me && me.Username };
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) auth = { required: true, user: null };
    else auth = { required: false, user: null };
  }
  const user = document.getElementById('user');
  if (auth.user) {
    fill(user, auth.user, h('button', { onclick: logout, title: 'Sign out' }, 'Sign out'));
  } else fill(user);
  return auth;
}

async function logout() {
  try { await api('/api/users/logout', { method: 'POST' }); } catch { /* signed out anyway */ }
  location.hash = '#/login';
  await whoAmI();
}

let notificationsSeq = 0;

/**
 * The notification area: the cluster's warnings, refreshed every few seconds
 * (from `cluster` when the caller has just read it). An answer that arrives
 * after a newer call has started is dropped, so a stale warning never
 * replaces a fresh state.
 */
export async function refreshNotifications(cluster) {
  const seq = ++notificationsSeq;
  let notes = [];
  try {
    const c = cluster || await api('/api/cluster');
    notes = (c && c.Notifications) || [];
  } catch (e) {
    if (e.status !== 401 && e.status !== 403 && e.status !== 404) notes = [`cannot read the cluster's state: ${e.message}`];
  }
  if (seq !== notificationsSeq) return;
  fill(notifications, notes.map((n) => h('div', { class: `notice${/no node leads|cannot/.test(n) ? ' bad' : ''}` }, n)));
}

async function instance() {
  try {
    const root = await api('/api');
    fill(document.getElementById('instance'), root.InstanceName || '');
  } catch { /* shown when it answers */ }
}

window.addEventListener('auth-required', () => {
  if (route().page !== 'login') {
    sessionStorage.setItem('skein.after-login', location.hash || '#/events');
    location.hash = '#/login';
  }
});
window.addEventListener('hashchange', render);

(async () => {
  const a = await whoAmI();
  if (a.required && !a.user && route().page !== 'login') {
    sessionStorage.setItem('skein.after-login', location.hash || '#/events');
    location.hash = '#/login';
  } else {
    await render();
  }
  if (!a.required || a.user) instance();
  refreshNotifications();
  // The cluster screen refreshes the notifications itself, every second.
  setInterval(() => {
    const r = route();
    const onCluster = r.page === 'settings' && (r.rest[0] || 'cluster') === 'cluster';
    if (r.page !== 'login' && !onCluster) refreshNotifications();
  }, 5000);
})();

/** After signing in: back to where the user was going. */
export async function signedIn() {
  await whoAmI();
  instance();
  refreshNotifications();
  location.hash = sessionStorage.getItem('skein.after-login') || '#/events';
  sessionStorage.removeItem('skein.after-login');
}

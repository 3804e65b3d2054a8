// Settings: Cluster (cluster.js), API keys (list, create — the token shown
// once — revoke), users (list, create, remove) and the server settings (retention period, API key required
// for ingestion, minimum level) from /api/settings.

import { api } from './api.js';
import { h, fill, formatTime } from './dom.js';
import { mountCluster } from './cluster.js';

const SECTIONS = [['cluster', 'Cluster'], ['apikeys', 'API keys'], ['users', 'Users'], ['general', 'Ingestion & retention']];
const ROLES = ['User', 'Reader', 'Administrator'];
const LEVELS = ['Verbose', 'Debug', 'Information', 'Warning', 'Error', 'Fatal'];
const PERMISSIONS = ['Ingest', 'Read', 'Write', 'Project', 'System'];

export function mount(root, r) {
  const section = SECTIONS.some(([k]) => k === r.rest[0]) ? r.rest[0] : 'cluster';
  const body = h('div');
  fill(root, h('section', { class: 'content' }, h('div', { class: 'page' },
    h('nav', { class: 'subnav' }, SECTIONS.map(([k, label]) => h('a', { href: `#/settings/${k}`, class: k === section ? 'active' : '' }, label))),
    body)));
  if (section === 'cluster') return mountCluster(body);
  if (section === 'apikeys') return mountApiKeys(body);
  if (section === 'users') return mountUsers(body);
  return mountGeneral(body);
}

/**
 * Fills `rows` with one row per item of GET `path` (`cells` gives its cells,
 * `key` its data attributes), each ending in an `action` button that DELETEs
 * `path/Id` and then calls `reload`.
 */
async function listRows(rows, { path, key, cells, action, empty, message, reload }) {
  try {
    const items = await api(path);
    fill(rows, items.length ? items.map((it) => h('tr', { dataset: key(it) },
      cells(it).map((c) => h('td', {}, c)),
      h('td', {}, h('button', {
        class: 'danger',
        onclick: async () => {
          try { await api(`${path}/${encodeURIComponent(it.Id)}`, { method: 'DELETE' }); } catch (err) { fill(message, err.message); }
          reload();
        },
      }, action)))) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, empty)));
  } catch (err) { fill(rows, h('tr', {}, h('td', { colspan: 6, class: 'error-text' }, err.message))); }
}

function mountApiKeys(el) {
  const rows = h('tbody');
  const message = h('div', { class: 'error-text' });
  const created = h('div');
  const title = h('input', { type: 'text', name: 'title', placeholder: 'e.g. shop-frontend', required: true });
  const checks = PERMISSIONS.map((p) => h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'perm', value: p, checked: p === 'Ingest' }), p));
  const level = h('select', { name: 'minimumLevel' }, h('option', { value: '' }, '(all levels)'), LEVELS.map((l) => h('option', { value: l }, l)));
  const form = h('form', {
    class: 'card',
    onsubmit: async (e) => {
      e.preventDefault();
      fill(message); fill(created);
      try {
        const key = await api('/api/apikeys', {
          method: 'POST',
          body: {
            Title: title.value,
            Permissions: checks.map((c) => c.firstChild).filter((c) => c.checked).map((c) => c.value),
            MinimumLevel: level.value || null,
          },
        });
        title.value = '';
        fill(created, h('div', { class: 'token' }, h('div', {}, `API key “${key.Title}” created. Copy it now: it is not shown again.`),
          h('code', { class: 'new-token' }, key.Token)));
        load();
      } catch (err) { fill(message, err.message); }
    },
  }, h('h3', { style: 'margin-top:0' }, 'Create an API key'),
  h('label', {}, 'Title'), title,
  h('label', {}, 'Permissions'), h('div', { class: 'inline' }, checks),
  h('label', {}, 'Minimum level'), level,
  h('div', { style: 'margin-top:12px' }, h('button', { type: 'submit', class: 'primary' }, 'Create key')), message);

  async function load() {
    await listRows(rows, {
      path: '/api/apikeys', action: 'Revoke', empty: 'No API keys.', message, reload: load,
      key: (k) => ({ key: k.Title }),
      cells: (k) => [k.Title, h('span', { class: 'mono' }, `${k.TokenPrefix}…`), k.Permissions.join(', '),
        k.MinimumLevel || '—', k.CreatedUtc ? formatTime(k.CreatedUtc) : ''],
    });
  }
  fill(el, h('h2', {}, 'API keys'), created,
    h('table', { class: 'grid', style: 'margin-bottom:18px' },
      h('thead', {}, h('tr', {}, ['Title', 'Token', 'Permissions', 'Minimum level', 'Created', ''].map((t) => h('th', {}, t)))), rows),
    form);
  load();
  return null;
}

function mountUsers(el) {
  const rows = h('tbody');
  const message = h('div', { class: 'error-text' });
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'off', required: true });
  const password = h('input', { type: 'password', name: 'new-password', autocomplete: 'new-password', required: true });
  const role = h('select', { name: 'role' }, ROLES.map((r) => h('option', { value: r }, r)));
  const form = h('form', {
    class: 'card',
    onsubmit: async (e) => {
      e.preventDefault();
      fill(message);
      try {
        await api('/api/users', { method: 'POST', body: { Username: username.value, Password: password.value, Role: role.value } });
        username.value = ''; password.value = '';
        load();
      } catch (err) { fill(message, err.message); }
    },
  }, h('h3', { style: 'margin-top:0' }, 'Add a user'),
  h('label', {}, 'Username'), username, h('label', {}, 'Password'), password, h('label', {}, 'Role'), role,
  h('div', { style: 'margin-top:12px' }, h('button', { type: 'submit', class: 'primary' }, 'Add user')), message);

  async function load() {
    await listRows(rows, {
      path: '/api/users', action: 'Remove', message, reload: load,
      empty: 'No users: authentication is off, or nobody has been added yet.',
      key: (u) => ({ user: u.Username }),
      cells: (u) => [u.Username, u.Role, (u.Permissions || []).join(', '), u.CreatedUtc ? formatTime(u.CreatedUtc) : '',
        u.LockedUntilUtc ? `locked until ${formatTime(u.LockedUntilUtc)}` : ''],
    });
  }
  fill(el, h('h2', {}, 'Users'),
    h('table', { class: 'grid', style: 'margin-bottom:18px' },
      h('thead', {}, h('tr', {}, ['Username', 'Role', 'Permissions', 'Created', '', ''].map((t) => h('th', {}, t)))), rows),
    form);
  load();
  return null;
}

function mountGeneral(el) {
  const box = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  fill(el, h('h2', {}, 'Ingestion & retention'), box);

  function row(s, control, read) {
    const note = h('span');
    const save = async (value) => {
      fill(note);
      try {
        await api(`/api/settings/${encodeURIComponent(s.Name)}`, { method: 'PUT', body: { Value: value } });
        fill(note, h('span', { class: 'ok-text' }, 'Saved'));
      } catch (err) { fill(note, h('span', { class: 'error-text' }, err.message)); }
    };
    return h('form', { class: 'card', dataset: { setting: s.Name }, onsubmit: (e) => { e.preventDefault(); save(read()); } },
      h('b', {}, s.Name), h('p', { class: 'muted' }, s.Description),
      h('div', { class: 'inline' }, control, h('button', { type: 'submit' }, 'Save'), note));
  }

  api('/api/settings').then((settings) => {
    const cards = settings.map((s) => {
      if (s.Name === 'ingestion.requireApiKey') {
        const c = h('input', { type: 'checkbox', name: 'value', checked: s.Value === true });
        return row(s, h('label', { class: 'inline' }, c, 'Require an API key for ingestion'), () => c.checked);
      }
      if (s.Name === 'ingestion.minimumLevel') {
        const c = h('select', { name: 'value' }, h('option', { value: '' }, '(accept every level)'),
          LEVELS.map((l) => h('option', { value: l, selected: s.Value === l }, l)));
        return row(s, c, () => c.value || null);
      }
      const c = h('input', { type: 'text', name: 'value', value: s.Value || '', placeholder: 'keep everything (e.g. 30d)' });
      return row(s, c, () => c.value.trim() || null);
    });
    fill(box, cards);
  }).catch((err) => fill(box, h('p', { class: 'error-text' }, err.message)));
  return null;
}

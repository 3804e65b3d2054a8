// Small DOM helpers shared by every page: element building, formatting,
// level classes and a confirmation dialog.

/** Builds an element: h('div', {class: 'x', onclick: f}, child, 'text', …). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && k !== 'list' && k !== 'form') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** The CSS class of a level as sent (any ecosystem's name). */
export function levelClass(level) {
  const l = String(level || 'Information').toLowerCase();
  if (l.startsWith('v') || l.startsWith('t')) return 'verbose';
  if (l.startsWith('d')) return 'debug';
  if (l.startsWith('w')) return 'warning';
  if (l.startsWith('e')) return 'error';
  if (l.startsWith('f') || l.startsWith('c')) return 'fatal';
  return 'information';
}

const SHORT = { verbose: 'VRB', debug: 'DBG', information: 'INF', warning: 'WRN', error: 'ERR', fatal: 'FTL' };

/** A level badge. */
export function levelBadge(level) {
  const c = levelClass(level);
  return h('span', { class: `level ${c}`, title: level }, SHORT[c]);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** A timestamp in local time: 2026-11-26 03:04:05.123. */
export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Milliseconds as "850 ms", "12.3 s", "4 min". */
export function formatAge(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) return `${Math.round(ms / 60000)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

/** A modal confirmation: resolves true when the user confirms. */
export function confirmDialog(title, text, action = 'Confirm') {
  return new Promise((resolve) => {
    const done = (v) => { back.remove(); resolve(v); };
    const back = h('div', { class: 'modal-back', onclick: (e) => { if (e.target === back) done(false); } },
      h('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true' },
        h('h3', {}, title), h('p', {}, text),
        h('div', { class: 'buttons' },
          h('button', { onclick: () => done(false) }, 'Cancel'),
          h('button', { class: 'danger', onclick: () => done(true) }, action))));
    document.body.append(back);
    back.querySelector('button.danger').focus();
  });
}

/** A value as JSON text, strings without quotes. */
export function show(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

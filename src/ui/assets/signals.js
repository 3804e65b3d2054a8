// The signal bar: saved filters from /api/signals (stored in the shared
// metastore), ticked to combine them (they are and-ed with each other and
// with the filter box), and a form saving the current filter as a signal.

import { api } from './api.js';
import { h, fill } from './dom.js';

/**
 * Draws the signal list into `el`. `selected` is a Set of signal ids;
 * `onChange(signals)` receives the ticked signals whenever the choice or the
 * list changes; `currentFilter()` is the filter box's text.
 */
export function mountSignals(el, { selected, onChange, currentFilter }) {
  let signals = [];
  const list = h('div', { class: 'signal-list' });
  const message = h('div', { class: 'error-text' });
  const title = h('input', { type: 'text', placeholder: 'Signal title', name: 'signal-title' });
  const shared = h('input', { type: 'checkbox', checked: true, name: 'signal-shared' });
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      fill(message);
      try {
        const s = await api('/api/signals', {
          method: 'POST', body: { Title: title.value, Filter: currentFilter(), Shared: shared.checked },
        });
        title.value = '';
        selected.clear();
        selected.add(s.Id);
        await load();
      } catch (err) { fill(message, err.message); }
    },
  }, title, h('label', { class: 'inline' }, shared, 'Shared with everyone'),
  h('button', { type: 'submit' }, 'Save filter as signal'), message);

  const ticked = () => signals.filter((s) => selected.has(s.Id));

  function draw() {
    fill(list, signals.length ? signals.map((s) => h('label', {
      class: `item${selected.has(s.Id) ? ' active' : ''}`, title: s.Filter || '(all events)', dataset: { signal: s.Title },
    },
    h('input', {
      type: 'checkbox', checked: selected.has(s.Id),
      onchange: (e) => { if (e.target.checked) selected.add(s.Id); else selected.delete(s.Id); draw(); onChange(ticked()); },
    }),
    h('span', { class: 'grow' }, s.Title),
    s.Shared ? h('span', { class: 'shared' }, 'shared') : null,
    h('button', {
      class: 'x', title: `Delete ${s.Title}`,
      onclick: async (e) => {
        e.preventDefault();
        try { await api(`/api/signals/${encodeURIComponent(s.Id)}`, { method: 'DELETE' }); } catch (err) { fill(message, err.message); }
        selected.delete(s.Id);
        await load();
      },
    }, '×'))) : h('div', { class: 'empty', style: 'padding:4px 6px' }, 'No signals yet.'));
  }

  async function load() {
    try {
      signals = await api('/api/signals');
      for (const id of [...selected]) if (!signals.some((s) => s.Id === id)) selected.delete(id);
    } catch (err) { fill(message, err.message); }
    draw();
    onChange(ticked());
  }

  fill(el, h('h3', {}, 'Signals'), list, h('h3', {}, 'Save'), form);
  load();
}

// The events page: the signal bar, the filter bar (Seq's filter language,
// errors shown inline at their position), the time range, the histogram,
// newest-first events that expand to every property and the exception,
// click-to-filter, live tail, CLEF export and a permalink per event
// (#/events/event-…).
//
// The live tail reads by ARRIVAL (`fromArrival`, cursor from the answers'
// X-Skein-Next-Arrival header), not by id: ids sort by timestamp, so an
// event arriving now with an older `@t` would otherwise never show, and a
// burst larger than one read would leave a silent gap.

import { api, apiRead, query, errorPosition } from './api.js';
import { h, fill, levelBadge, levelClass, formatTime, show } from './dom.js';
import { drawHistogram } from './histogram.js';
import { mountSignals } from './signals.js';

const MIN = 60 * 1000;
/** Time ranges: key → [label, milliseconds back from now]. */
const RANGES = {
  all: ['All time', null], '5m': ['Last 5 minutes', 5 * MIN], '15m': ['Last 15 minutes', 15 * MIN],
  '1h': ['Last hour', 60 * MIN], '4h': ['Last 4 hours', 240 * MIN], '1d': ['Last 24 hours', 1440 * MIN],
  '7d': ['Last 7 days', 7 * 1440 * MIN], '30d': ['Last 30 days', 30 * 1440 * MIN], custom: ['Custom…', null],
};
const PAGE = 100;
const KEEP = 1000;
const TAIL_MS = 1000;
/** The most events one export holds: the server's largest page. */
const EXPORT_MAX = 10000;
/** The header naming the arrival number the tail reads from next. */
const NEXT_ARRIVAL = 'X-Skein-Next-Arrival';

/** Whether each filter text is an expression (else it is a free-text search). */
const expressions = new Map();

/**
 * Whether `text` can be a predicate as the server decides (a comparison, a
 * logical operator or a function call); a bare name, number or string is a
 * free-text search there.
 */
const PREDICATE = /[=<>]|\b(?:like|in|is|and|or|not)\b|\w\s*\(/i;

/** `text` as a filter expression: itself when it is one, else its free-text meaning. */
async function asExpression(text) {
  if (!expressions.has(text)) {
    let ok = PREDICATE.test(text);
    try {
      // An empty time range: the server parses the query and reads nothing.
      const epoch = '1970-01-01T00:00:00Z';
      if (ok) await api(`/api/data${query({ q: `select count(*) from stream where (${text})`, rangeStartUtc: epoch, rangeEndUtc: epoch })}`);
    } catch { ok = false; }
    expressions.set(text, ok);
  }
  if (expressions.get(text)) return `(${text})`;
  const t = text.trim().replace(/^"(.*)"$/, '$1');
  if (/^\/.+\/$/.test(t)) return `(@Message = ${t})`;
  return `(@Message like '%${t.replace(/'/g, "''")}%' ci)`;
}

/** A filter clause matching `name` = `value` (null when the value is not comparable). */
function clause(name, value) {
  const path = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `@Properties['${name.replace(/'/g, "''")}']`;
  if (value === null) return `${path} is null`;
  if (typeof value === 'string') return `${path} = '${value.replace(/'/g, "''")}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${path} = ${JSON.stringify(value)}`;
  return null;
}

export function mount(root, r) {
  if (r.rest[0]) return mountOne(root, r.rest[0]);
  const p = r.params;
  const state = {
    filter: p.get('filter') || '',
    range: RANGES[p.get('range')] ? p.get('range') : 'all',
    from: p.get('from') || '',
    to: p.get('to') || '',
    tail: p.get('tail') === '1',
    signals: [],
  };
  const selected = new Set((p.get('signals') || '').split(',').filter(Boolean));
  let shown = [];
  let loadSeq = 0;
  let tailTimer = null;
  let lastHistogram = 0;
  let histogramSeq = 0;
  let exportCount = PAGE;
  /** The arrival number the tail reads from next (null until a search answered). */
  let cursor = null;
  /** Events the tail read while catching up after a full read (0 when caught up). */
  let catchingUp = 0;

  const input = h('input', {
    type: 'text', name: 'filter', value: state.filter, spellcheck: false, autocomplete: 'off',
    placeholder: "Filter: free text, or an expression such as @Level = 'Error' and Elapsed > 100",
  });
  const filterBox = h('div', { class: 'filter' }, input);
  const range = h('select', { name: 'range', onchange: () => { state.range = range.value; drawCustom(); if (range.value !== 'custom') apply(); } },
    Object.entries(RANGES).map(([k, [label]]) => h('option', { value: k, selected: k === state.range }, label)));
  const fromInput = h('input', { type: 'datetime-local', name: 'from', step: 1, value: state.from });
  const toInput = h('input', { type: 'datetime-local', name: 'to', step: 1, value: state.to });
  const custom = h('span', { class: 'custom' }, fromInput, '→', toInput);
  const tailButton = h('button', { type: 'button', class: 'tail', title: 'Show new events as they arrive', onclick: () => setTail(!state.tail) }, '● Tail');
  const exportLink = h('a', { class: 'export button', download: 'events.clef', role: 'button', title: 'Download the matching events as CLEF' }, 'Export CLEF');
  const exportNote = h('span', { class: 'export-note muted', hidden: true });
  const bar = h('form', { class: 'filterbar', onsubmit: (e) => { e.preventDefault(); apply(); } },
    filterBox, h('button', { type: 'submit', class: 'primary' }, 'Search'), range, custom, tailButton, exportLink, exportNote);
  const errorBox = h('div', { class: 'filter-error', hidden: true, role: 'alert' });
  const histogram = h('div', { class: 'histogram' });
  const status = h('div', { class: 'status-line' });
  const list = h('div', { class: 'event-list' });
  const more = h('button', { class: 'more', hidden: true, onclick: () => loadMore() }, 'Load older events');
  const sidebar = h('aside', { class: 'sidebar' });
  fill(root, sidebar, h('section', { class: 'content' }, bar, errorBox, histogram, status, h('div', { class: 'events' }, list, more)));

  function drawCustom() { custom.hidden = state.range !== 'custom'; }
  drawCustom();

  function writeHash() {
    const q = query({
      filter: state.filter, range: state.range === 'all' ? '' : state.range,
      from: state.range === 'custom' ? state.from : '', to: state.range === 'custom' ? state.to : '',
      signals: [...selected].join(','), tail: state.tail ? '1' : '',
    });
    history.replaceState(null, '', `#/events${q}`);
  }

  /** The time range now: {from, to} in ms (null = open). */
  function timeWindow() {
    if (state.range === 'custom') {
      const f = Date.parse(state.from), t = Date.parse(state.to);
      return { from: Number.isNaN(f) ? null : f, to: Number.isNaN(t) ? null : t };
    }
    const back = RANGES[state.range][1];
    return { from: back ? Date.now() - back : null, to: null };
  }

  function iso(ms) { return ms == null ? undefined : new Date(ms).toISOString(); }

  /** What to send: the filter for /api/events and the expression for queries. */
  async function effective() {
    const user = state.filter.trim();
    const parts = state.signals.map((s) => s.Filter).filter((f) => f && f.trim()).map((f) => `(${f})`);
    if (!parts.length) return { list: user, expr: user ? await asExpression(user) : '' };
    if (user) {
      // Check the box alone first, so its errors point into its own text.
      await api(`/api/events${query({ filter: user, count: 1, fromDateUtc: '1970-01-01T00:00:00Z', toDateUtc: '1970-01-01T00:00:00Z' })}`);
      parts.push(await asExpression(user));
    }
    const e = parts.join(' and ');
    return { list: e, expr: e };
  }

  function showError(err) {
    if (!err) { errorBox.hidden = true; filterBox.classList.remove('bad'); return; }
    const pos = errorPosition(err.message);
    const text = state.filter;
    errorBox.hidden = false;
    filterBox.classList.toggle('bad', err.status === 400);
    const chars = Array.from(text);
    fill(errorBox, h('div', { class: 'message' }, err.message),
      pos !== null && err.status === 400 && h('pre', { class: 'where' }, chars.join(''), '\n', ' '.repeat(Math.min(pos, chars.length)), h('span', { class: 'caret' }, '^')));
    if (pos !== null) {
      const at = chars.slice(0, pos).join('').length;
      input.setSelectionRange(at, at);
    }
  }

  function eventsUrl(filter, extra) {
    const w = timeWindow();
    return `/api/events${query({ filter, fromDateUtc: iso(w.from), toDateUtc: iso(w.to), ...extra })}`;
  }

  async function load() {
    const seq = ++loadSeq;
    fill(status, 'Searching…');
    let eff;
    let events;
    let headers;
    try {
      eff = await effective();
      ({ json: events, headers } = await apiRead(eventsUrl(eff.list, { count: PAGE, render: true })));
    } catch (err) {
      if (seq !== loadSeq) return;
      showError(err);
      fill(list); fill(histogram); fill(status, err.status === 400 ? 'The filter has an error.' : '');
      more.hidden = true;
      return;
    }
    if (seq !== loadSeq) return;
    showError(null);
    cursor = headers.get(NEXT_ARRIVAL);
    catchingUp = 0;
    shown = events;
    fill(list, events.map((e) => eventRow(e, false)));
    more.hidden = events.length < PAGE;
    exportCount = Math.max(events.length, PAGE);
    updateStatus();
    updateExport(eff.list);
    refreshHistogram(eff.expr);
  }

  /** Redraws the histogram for `expr`; an older, slower redraw never overwrites a newer one. */
  async function refreshHistogram(expr) {
    lastHistogram = Date.now();
    const seq = ++histogramSeq;
    const isCurrent = () => seq === histogramSeq && loadSeq >= 0;
    const w = timeWindow();
    try {
      const total = await drawHistogram(histogram, {
        expr, from: w.from, to: w.to, isCurrent,
        onPick: (from, to) => {
          state.range = 'custom';
          state.from = localInput(from); state.to = localInput(to);
          range.value = 'custom'; fromInput.value = state.from; toInput.value = state.to; drawCustom();
          apply();
        },
      });
      if (total === null) return;
      const matching = Math.max(total, shown.length);
      exportCount = Math.min(matching, EXPORT_MAX);
      exportNote.hidden = matching <= EXPORT_MAX;
      fill(exportNote, `the export holds the newest ${EXPORT_MAX.toLocaleString()} of ${matching.toLocaleString()} events`);
      updateExport();
    } catch (err) {
      if (isCurrent()) fill(histogram, h('div', { class: 'axis error-text' }, `histogram: ${err.message}`));
    }
  }

  let exportFilter = '';
  /** Points the export link at the current result (`filter` when it changed). */
  function updateExport(filter) {
    if (filter !== undefined) exportFilter = filter;
    exportLink.href = eventsUrl(exportFilter, { clef: true, count: exportCount });
  }

  function updateStatus() {
    fill(status, h('span', {}, `${shown.length} event${shown.length === 1 ? '' : 's'} shown, newest first`),
      state.tail && h('span', { class: 'ok-text' }, 'tailing — new events appear as they arrive'),
      state.tail && catchingUp > 0 && h('span', { class: 'backlog' }, `${catchingUp} more events arrived — catching up`));
  }

  async function loadMore() {
    const last = shown[shown.length - 1];
    if (!last) return;
    try {
      const eff = await effective();
      const older = await api(eventsUrl(eff.list, { count: PAGE, render: true, afterId: last.Id }));
      shown = shown.concat(older);
      list.append(...older.map((e) => eventRow(e, false)));
      more.hidden = older.length < PAGE;
      updateStatus();
    } catch (err) { showError(err); }
  }

  /**
   * One tail read: the matching events that arrived since the cursor, shown
   * newest arrival on top. A full read means more are waiting: the status
   * line says so and the next read follows at once (nothing is skipped).
   * Returns whether the read was full.
   */
  async function tick() {
    if (loadSeq <= 0 || cursor === null) return false;
    const seq = loadSeq;
    let full = false;
    try {
      const eff = await effective();
      const { json: events, headers } = await apiRead(eventsUrl(eff.list, { count: PAGE, render: true, fromArrival: cursor }));
      if (seq !== loadSeq) return false;
      cursor = headers.get(NEXT_ARRIVAL) ?? cursor;
      full = events.length === PAGE;
      const have = new Set(shown.map((e) => e.Id));
      const fresh = events.filter((e) => !have.has(e.Id)).reverse();
      catchingUp = full ? catchingUp + fresh.length : 0;
      if (fresh.length) {
        shown = fresh.concat(shown).slice(0, KEEP);
        list.prepend(...fresh.map((e) => eventRow(e, true)));
        while (list.children.length > KEEP) list.lastChild.remove();
      }
      updateStatus();
      if (Date.now() - lastHistogram > 10000) refreshHistogram(eff.expr);
    } catch { /* the next tick tries again */ }
    return full;
  }

  /** The next tail read: TAIL_MS after the last one, at once after a full one. */
  function scheduleTail(delay = TAIL_MS) {
    clearTimeout(tailTimer);
    tailTimer = state.tail ? setTimeout(async () => {
      const full = await tick();
      if (state.tail) scheduleTail(full ? 0 : TAIL_MS);
    }, delay) : null;
  }

  function setTail(on) {
    state.tail = on;
    tailButton.classList.toggle('on', on);
    tailButton.setAttribute('aria-pressed', on ? 'true' : 'false');
    scheduleTail();
    writeHash();
    updateStatus();
  }

  function apply() {
    state.filter = input.value;
    state.from = fromInput.value; state.to = toInput.value;
    writeHash();
    load();
  }

  /** Adds `name = value` to the filter and searches. */
  async function addClause(c) {
    const current = input.value.trim();
    input.value = current ? `${await asExpression(current)} and ${c}` : c;
    apply();
  }

  function eventRow(e, isNew) {
    const el = h('div', { class: `event${isNew ? ' new' : ''}`, dataset: { id: e.Id, level: levelClass(e.Level) } });
    const row = h('div', { class: 'row', onclick: () => toggle() },
      h('span', { class: 'time' }, formatTime(e.Timestamp)), levelBadge(e.Level),
      h('span', { class: 'msg' }, message(e)), e.Exception && h('span', { class: 'has-x' }, 'exception'));
    let detail = null;
    function toggle() {
      if (detail) { detail.remove(); detail = null; el.classList.remove('open'); return; }
      detail = eventDetail(e, addClause);
      el.append(detail);
      el.classList.add('open');
    }
    el.append(row);
    return el;
  }

  mountSignals(sidebar, {
    selected,
    currentFilter: () => input.value,
    onChange: (signals) => { state.signals = signals; writeHash(); load(); },
  });
  setTail(state.tail);

  return () => { clearTimeout(tailTimer); tailTimer = null; state.tail = false; loadSeq = -1; };
}

/** A time for a datetime-local input. */
function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * MIN);
  return d.toISOString().slice(0, 19);
}

/** The message from its template tokens, property values highlighted. */
function message(e) {
  const props = new Map((e.Properties || []).map((p) => [p.Name, p.Value]));
  const tokens = e.MessageTemplateTokens || [];
  if (!tokens.length) return e.RenderedMessage || '';
  return tokens.map((t) => {
    if (t.PropertyName === undefined) return t.Text;
    if (!props.has(t.PropertyName)) return t.RawText;
    return h('span', { class: 'p' }, show(props.get(t.PropertyName)));
  });
}

/** The event's message template, spelled from its tokens (braces in text doubled). */
function template(e) {
  return (e.MessageTemplateTokens || [])
    .map((t) => (t.PropertyName === undefined ? String(t.Text).replace(/[{}]/g, '$&$&') : t.RawText)).join('');
}

/** Every property, the built-ins and the exception of an event. */
function eventDetail(e, addClause) {
  const value = (name, v) => {
    const c = clause(name, v);
    return c ? h('span', { class: 'v', title: `Filter on ${c}`, onclick: (ev) => { ev.stopPropagation(); addClause(c); } }, show(v)) : show(v);
  };
  const rows = (e.Properties || []).map((p) => h('tr', { dataset: { prop: p.Name } },
    h('td', { class: 'name' }, p.Name), h('td', { class: 'value' }, value(p.Name, p.Value))));
  const builtin = (name, v, c) => v && h('tr', {}, h('td', { class: 'name' }, name),
    h('td', { class: 'value' }, c ? h('span', { class: 'v', onclick: (ev) => { ev.stopPropagation(); addClause(c); } }, v) : v));
  return h('div', { class: 'detail' },
    h('table', { class: 'props' }, rows,
      builtin('@MessageTemplate', template(e)),
      builtin('@Level', e.Level, `@Level = '${String(e.Level).replace(/'/g, "''")}'`),
      builtin('@EventType', e.EventType),
      builtin('@TraceId', e.TraceId, e.TraceId && `@TraceId = '${e.TraceId}'`),
      builtin('@SpanId', e.SpanId),
      builtin('@Timestamp', e.Timestamp),
      builtin('@Id', e.Id)),
    e.Exception && h('pre', { class: 'exception' }, e.Exception),
    h('div', { class: 'actions' },
      h('a', { href: `#/events/${encodeURIComponent(e.Id)}`, class: 'permalink', onclick: (ev) => ev.stopPropagation() }, 'Permalink'),
      h('a', { href: `/${e.Links.Self}?render=true`, target: '_blank', rel: 'noopener' }, 'JSON')));
}

/** The permalink page: one event, expanded. */
function mountOne(root, id) {
  const box = h('div', { class: 'events' }, h('p', { class: 'loading' }, 'Loading…'));
  fill(root, h('section', { class: 'content' },
    h('div', { class: 'filterbar' }, h('a', { href: '#/events' }, '← All events'), h('span', { class: 'mono' }, id)), box));
  api(`/api/events/${encodeURIComponent(id)}?render=true`).then((e) => {
    const filterTo = (c) => { location.hash = `#/events${query({ filter: c })}`; };
    fill(box, h('div', { class: 'event open', dataset: { id: e.Id, level: levelClass(e.Level) } },
      h('div', { class: 'row' }, h('span', { class: 'time' }, formatTime(e.Timestamp)), levelBadge(e.Level), h('span', { class: 'msg' }, message(e))),
      eventDetail(e, filterTo)));
  }).catch((err) => fill(box, h('p', { class: 'empty error-text' }, err.message)));
  return null;
}

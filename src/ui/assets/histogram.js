// The histogram of matching events over time, from the query API:
// `select count(*) from stream where … group by time(W)` on /api/data.

import { api, query } from './api.js';
import { h, fill } from './dom.js';

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
/** Bucket widths, finest first, with the duration literal the query takes. */
const WIDTHS = [
  [SECOND, '1s'], [5 * SECOND, '5s'], [10 * SECOND, '10s'], [30 * SECOND, '30s'],
  [MINUTE, '1m'], [5 * MINUTE, '5m'], [15 * MINUTE, '15m'], [30 * MINUTE, '30m'],
  [HOUR, '1h'], [3 * HOUR, '3h'], [6 * HOUR, '6h'], [12 * HOUR, '12h'],
  [DAY, '1d'], [7 * DAY, '7d'], [30 * DAY, '30d'],
];
const BARS = 60;

/** The finest width that covers `span` milliseconds in at most BARS bars. */
function widthFor(span) {
  return WIDTHS.find(([w]) => span / w <= BARS) || WIDTHS[WIDTHS.length - 1];
}

async function counts(expr, width, from, to) {
  const where = expr ? ` where ${expr}` : '';
  const q = `select count(*) as count from stream${where} group by time(${width})`;
  const res = await api(`/api/data${query({
    q, rangeStartUtc: from && new Date(from).toISOString(), rangeEndUtc: to && new Date(to).toISOString(),
  })}`);
  return (res.Rows || []).map(([t, n]) => [Date.parse(t), Number(n) || 0]);
}

/**
 * Draws the histogram of events matching `expr` (a filter expression, or ''
 * for all) between `from` and `to` (ms since the epoch; `from` null = since
 * the first event). `onPick(from, to)` is called when a bar is clicked.
 * Draws nothing and answers null when `isCurrent()` turns false while the
 * counts load (a newer search has started its own histogram by then).
 */
export async function drawHistogram(el, { expr, from, to, onPick, isCurrent = () => true }) {
  let stop = to || Date.now();
  let start = from;
  let w, literal, first, rows;
  if (start == null) {
    // All time: find the first day with events, then zoom in on the span
    // that holds events (at most a few queries).
    const days = await counts(expr, '1d', null, null);
    if (!isCurrent()) return null;
    if (!days.length) { fill(el, h('div', { class: 'axis' }, 'no events')); return 0; }
    start = days[0][0];
    stop = Math.max(stop, days[days.length - 1][0] + DAY * Number(days[days.length - 1][0] > stop));
    for (let pass = 0; pass < 4; pass += 1) {
      [w, literal] = widthFor(Math.max(stop - start, MINUTE));
      first = Math.floor(start / w) * w;
      rows = await counts(expr, literal, first, stop);
      const firstEvent = rows.length ? rows[0][0] : first;
      if (firstEvent - first < (stop - first) / 2 || w === SECOND) break;
      start = firstEvent;
    }
  } else {
    [w, literal] = widthFor(Math.max(stop - start, SECOND));
    first = Math.floor(start / w) * w;
    rows = await counts(expr, literal, start, stop);
  }
  if (!isCurrent()) return null;
  const byTime = new Map(rows);
  const buckets = [];
  for (let t = first; t < stop; t += w) buckets.push([t, byTime.get(t) || 0]);
  const total = rows.reduce((s, [, n]) => s + n, 0);
  const max = Math.max(1, ...buckets.map(([, n]) => n));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${buckets.length * 10} 100`);
  svg.setAttribute('preserveAspectRatio', 'none');
  buckets.forEach(([t, n], i) => {
    if (!n) return;
    const r = document.createElementNS(ns, 'rect');
    const height = Math.max(3, (n / max) * 100);
    Object.entries({ x: i * 10 + 1, y: 100 - height, width: 8, height, class: 'bar' })
      .forEach(([k, v]) => r.setAttribute(k, v));
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${n} event${n === 1 ? '' : 's'} from ${new Date(t).toLocaleString()} (${literal})`;
    r.append(title);
    r.addEventListener('click', () => onPick && onPick(t, t + w));
    svg.append(r);
  });
  const label = (t) => new Date(t).toLocaleString();
  const last = buckets.length ? buckets[buckets.length - 1][0] + w : stop;
  fill(el, svg,
    h('div', { class: 'axis' }, h('span', {}, buckets.length ? label(buckets[0][0]) : ''), h('span', {}, label(last))),
    h('div', { class: 'total', dataset: { total } }, `${total} matching · ${literal} per bar`));
  return total;
}

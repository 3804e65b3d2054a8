// Drives a real browser through Skein's admin UI with puppeteer-core (no
// downloaded browser): Debian's Chromium over CDP or Firefox ESR over
// WebDriver BiDi, the same script for both. Run by tests/ui.rs, one phase
// per run:
//
//   node ui.mjs <events|settings|cluster|demote|warning|login|load>
//
// Environment: SKEIN_UI_BROWSER (chromium or firefox), SKEIN_BROWSER (its
// executable), SKEIN_UI_URL (the node to browse), SKEIN_UI_INGEST_URL (where
// the events phase posts its events), SKEIN_UI_MARKER (the run's marker
// property), SKEIN_UI_NEW_LEADER (demote), SKEIN_UI_SCREENSHOTS (folder for
// PNGs). A line starting `ready:` tells tests/ui.rs to act (the warning
// phase: stop the follower). Exits non-zero, saying what did not happen, on
// any failed check, page error or timeout.

import puppeteer from 'puppeteer-core';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const phase = process.argv[2];
const url = env('SKEIN_UI_URL');
const shots = env('SKEIN_UI_SCREENSHOTS');
const which = env('SKEIN_UI_BROWSER', 'chromium');
const WAIT = 30000;
mkdirSync(shots, { recursive: true });
const downloads = mkdtempSync(join(tmpdir(), `skein-ui-${which}-`));

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}
const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

if (!['chromium', 'firefox'].includes(which)) throw new Error(`SKEIN_UI_BROWSER is ${which}, not chromium or firefox`);
const browser = await puppeteer.launch({
  browser: which === 'firefox' ? 'firefox' : 'chrome',
  executablePath: env('SKEIN_BROWSER'),
  headless: true,
  defaultViewport: { width: 1280, height: 760 },
  downloadBehavior: { policy: 'allow', downloadPath: downloads },
  args: which === 'firefox' ? [] : ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
page.setDefaultTimeout(WAIT);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e?.message ?? e)));
// Script errors fail the phase; failed requests are reported (the checks
// fail on their own when a failed request breaks what the user sees).
page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text()); });
page.on('response', (r) => { if (r.status() >= 500) console.log(`warning: ${r.request().method()} ${r.url()} answered ${r.status()}`); });

// ---- small helpers over puppeteer ---------------------------------------

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
  console.log(`screenshot ${name}.png`);
}

/** Opens `path` of the node as a fresh document (never a same-page hash change). */
async function visit(path) {
  await page.goto('about:blank');
  await page.goto(`${url}${path}`);
}

/** Waits until `fn(...args)` is truthy in the page (polling, the same in every browser). */
const until = (fn, ...args) => page.waitForFunction(fn, { polling: 100, timeout: WAIT }, ...args);
const untilWithin = (timeout, fn, ...args) => page.waitForFunction(fn, { polling: 50, timeout }, ...args);
const click = (sel) => page.locator(sel).click();
const fill = (sel, value) => page.locator(sel).fill(value);
const count = async (sel) => (await page.$$(sel)).length;
async function text(sel) {
  await page.waitForSelector(sel);
  return page.$eval(sel, (e) => e.innerText);
}
async function attr(sel, name) {
  await page.waitForSelector(sel);
  return page.$eval(sel, (e, n) => e.getAttribute(n), name);
}
/** The first element matching `css` whose text contains `t`, once there is one. */
async function withText(css, t) {
  const found = await until((c, s) => [...document.querySelectorAll(c)].find((e) => e.textContent.includes(s)), css, t);
  return found.asElement();
}
async function clickText(css, t) {
  await (await withText(css, t)).click();
}
async function setChecked(sel, on) {
  await page.waitForSelector(sel);
  if (await page.$eval(sel, (e) => e.checked) !== on) await click(sel);
}
async function pressEnter(sel) {
  await page.focus(sel);
  await page.keyboard.press('Enter');
}
/** What `fetch` from the page answers: status and parsed JSON body. */
const fetchJson = (path) => page.evaluate(async (p) => {
  const r = await fetch(p);
  return { status: r.status, body: await r.json().catch(() => null) };
}, path);

/** POSTs CLEF `lines` (objects) to the node's ingestion endpoint; the status. */
async function ingest(lines, base = url) {
  const res = await fetch(`${base}/ingest/clef`, {
    method: 'POST', headers: { 'Content-Type': 'application/vnd.serilog.clef' },
    body: lines.map((l) => JSON.stringify(l)).join('\n'),
  });
  return res.status;
}

// ---- the events page -----------------------------------------------------

/** The messages of the listed events, top to bottom. */
const messages = () => page.$$eval('.event-list .event .msg', (els) => els.map((e) => e.innerText));
const listed = (n) => until((k) => document.querySelectorAll('.event-list .event').length === k, n);
/** Waits until the histogram counts `n` events (a redraw follows the list, so it may come later). */
async function histogramTotal(n) {
  try {
    await until((k) => document.querySelector('.histogram .total')?.dataset.total === String(k), n);
  } catch {
    const total = await page.$eval('.histogram .total', (e) => e.dataset.total).catch(() => 'nothing');
    check(false, `histogram counts ${n} events, not ${total}`);
  }
}

async function search(filter) {
  await fill('input[name=filter]', filter);
  await pressEnter('input[name=filter]');
}

async function events() {
  const marker = env('SKEIN_UI_MARKER');
  const mine = `Run = '${marker}'`;
  await visit('/#/events');
  await page.waitForSelector('.event-list .event');
  await search(mine);
  await listed(6);
  const all = await messages();
  check(all[0].includes('step 6') && all[5].includes('step 1'), `newest first: ${JSON.stringify(all)}`);
  await page.waitForSelector('.histogram svg rect.bar');
  await histogramTotal(6);
  await shot('events');

  // Free text (not an expression) searches messages; the histogram agrees.
  await search('order 5 STEP 5');
  await until(() => document.querySelectorAll('.event-list .event').length === 1
    && document.querySelector('.histogram .total')?.dataset.total === '1');

  // Filter by level: only the two errors stay.
  await search(`${mine} and @Level = 'Error'`);
  await until(() => document.querySelectorAll('.event-list .event').length === 2
    && [...document.querySelectorAll('.event-list .event')].every((e) => e.dataset.level === 'error'));
  await histogramTotal(2);

  // Expand an event: every property, the template and the exception; click a value to filter on it.
  await click('.event-list .event .row');
  await page.waitForSelector('.event.open .detail pre.exception');
  const props = await page.$$eval('.event.open .props tr[data-prop]', (rows) => rows.map((r) => r.dataset.prop));
  for (const p of ['Run', 'Step', 'OrderId', 'Customer']) check(props.includes(p), `property ${p} shown (${props})`);
  const template = await page.$$eval('.event.open .props tr', (rows) => rows
    .map((r) => [...r.cells].map((c) => c.textContent)).find(([n]) => n === '@MessageTemplate'));
  check(template?.[1] === 'Order {OrderId} step {Step} for {Customer}', `@MessageTemplate shown: ${JSON.stringify(template)}`);
  await shot('event-expanded');
  await click('.event.open tr[data-prop=OrderId] .v');
  await until(() => document.querySelector('input[name=filter]').value.includes('OrderId = 6'));
  await listed(1);

  // Permalink to the event.
  await click('.event-list .event .row');
  const id = await attr('.event.open', 'data-id');
  await click('.event.open a.permalink');
  await page.waitForSelector(`.event.open[data-id="${id}"] .detail`);
  check(page.url().endsWith(`#/events/${id}`), `permalink URL ${page.url()}`);
  await page.reload();
  await page.waitForSelector(`.event.open[data-id="${id}"] .detail pre.exception`);
  await shot('permalink');

  // A bad filter: its error, with the position, inline.
  await visit('/#/events');
  await page.waitForSelector('.event-list .event');
  await search('Status >');
  await page.waitForSelector('.filter-error:not([hidden]) pre.where .caret');
  const err = await text('.filter-error');
  check(/at position 7/.test(err), `the error names its position: ${err}`);
  const caretAt = await page.$eval('.filter-error pre.where', (pre) => pre.textContent.split('\n')[1].indexOf('^'));
  check(caretAt === 7, `the caret stands under character 7, not ${caretAt}`);
  check(await count('.filter.bad') === 1, 'the filter box is marked bad');
  await shot('filter-error');

  await signals(marker, mine);
  await exportClef(marker, mine);
  await tail(marker);
  await timeRange(marker, mine);
}

/** Two saved signals, one shared and one private, ticked together and with the filter box. */
async function signals(marker, mine) {
  await search(mine);
  await listed(6);
  const errors = `Errors ${marker}`;
  const late = `Late ${marker}`;
  await fill('input[name=filter]', "@Level = 'Error'");
  await fill('input[name=signal-title]', errors);
  await setChecked('input[name=signal-shared]', true);
  await clickText('.sidebar button', 'Save filter as signal');
  await page.waitForSelector(`.sidebar .item.active[data-signal="${errors}"]`);
  await search(mine);
  await listed(2);

  // A second, private signal; saving it ticks it alone.
  await fill('input[name=filter]', 'Step >= 5');
  await fill('input[name=signal-title]', late);
  await setChecked('input[name=signal-shared]', false);
  await clickText('.sidebar button', 'Save filter as signal');
  await page.waitForSelector(`.sidebar .item.active[data-signal="${late}"]`);
  await search(mine);
  await listed(2);
  check(String(await messages()).includes('step 6') && String(await messages()).includes('step 5'), `Step >= 5: ${await messages()}`);
  // Both ticked: errors at step 5 or later (and the box's filter) — one event.
  await setChecked(`.sidebar .item[data-signal="${errors}"] input`, true);
  await listed(1);
  check((await messages())[0].includes('step 6'), `two signals combined: ${await messages()}`);
  await histogramTotal(1);
  check(await count(`.sidebar .item[data-signal="${errors}"] .shared`) === 1, 'the shared signal is marked shared');
  check(await count(`.sidebar .item[data-signal="${late}"] .shared`) === 0, 'the private signal is not marked shared');
  const stored = await fetchJson('/api/signals');
  const flag = (t) => stored.body.find((s) => s.Title === t)?.Shared;
  check(flag(errors) === true && flag(late) === false, `stored signals ${JSON.stringify(stored.body)}`);
  await shot('signals');
  await setChecked(`.sidebar .item[data-signal="${errors}"] input`, false);
  await setChecked(`.sidebar .item[data-signal="${late}"] input`, false);
  await listed(6);
}

/**
 * Clicking the export control downloads the result as CLEF. Chromium saves
 * the download where we ask; Firefox ESR over BiDi does not honour the
 * download folder, so there the click must fetch the export (200, CLEF) and
 * the same link must hold the events.
 */
async function exportClef(marker) {
  const href = await attr('a.export', 'href');
  check(href.includes('clef=true'), `export link ${href}`);
  check(await count('a.export button') === 0, 'no button inside the export link');
  // (a download in Chromium is not a page response: there the file proves it)
  const answered = which === 'chromium' ? null : page.waitForResponse((r) => r.url().includes('clef=true'), { timeout: WAIT });
  await click('a.export');
  let clef = null;
  if (which === 'chromium') {
    const started = Date.now();
    while (Date.now() - started < WAIT) {
      const file = readdirSync(downloads).find((f) => f.endsWith('.clef'));
      if (file) {
        clef = readFileSync(join(downloads, file), 'utf8');
        if (clef.trim().split('\n').length >= 6) break;
      }
      await sleep(100);
    }
    check(clef !== null, `the click downloaded a .clef file into ${downloads} (found ${readdirSync(downloads)})`);
  } else {
    const response = await answered;
    console.log(`export: the click fetched ${response.url()} → ${response.status()}`);
    check(response.status() === 200 && /clef/.test(response.headers()['content-type']), `the export answered ${response.status()} ${response.headers()['content-type']}`);
    clef = await page.evaluate(async (h) => (await fetch(h)).text(), href);
  }
  const lines = clef.trim().split('\n').map((l) => JSON.parse(l));
  check(lines.length === 6 && lines.every((l) => l.Run === marker), `the export holds the 6 events: ${clef.slice(0, 300)}`);
  console.log(`export: ${which === 'chromium' ? 'downloaded' : 'the link serves'} ${lines.length} CLEF lines`);
}

/** Live tail: new events appear without reload within 2 s — also one stamped an hour ago. */
async function tail(marker) {
  await click('button.tail');
  await page.waitForSelector('button.tail.on');
  await sleep(1200);
  const ingestUrl = env('SKEIN_UI_INGEST_URL');
  const appears = async (what, at) => {
    const t = `tail ${what} ${marker} ${Date.now()}`;
    const status = await ingest([{ '@t': at.toISOString(), '@mt': 'Tail {Text}', Text: t, Run: marker }], ingestUrl);
    check(status === 201, `ingestion answered ${status}`);
    const acked = Date.now();
    await untilWithin(10000, (s) => [...document.querySelectorAll('.event-list .event .msg')].some((e) => e.textContent.includes(s)), t);
    const took = Date.now() - acked;
    console.log(`tail: the ${what} event appeared ${took} ms after ingestion was acknowledged`);
    check(took <= 2000, `live tail showed the ${what} event within 2 s (took ${took} ms)`);
    check((await messages())[0].includes(t), `the ${what} event is on top`);
  };
  await appears('new', new Date());
  await appears('late (stamped an hour ago)', new Date(Date.now() - 3600 * 1000));
  await sleep(300);
  await shot('tail');
  await click('button.tail');
  await page.waitForSelector('button.tail:not(.on)');
}

/** The time range picker: a preset and a custom from/to change the list and the histogram. */
async function timeRange(marker, mine) {
  await search(mine);
  await listed(8);
  await histogramTotal(8);
  await page.select('select[name=range]', '15m');
  await listed(7);
  await histogramTotal(7);
  check(!(await messages()).some((m) => m.includes('late')), 'the hour-old event is outside the last 15 minutes');
  // Custom: from the second of step 2 for two seconds — steps 2 and 3.
  const { from, to } = await page.evaluate(async (f) => {
    const r = await fetch(`/api/events?count=1&filter=${encodeURIComponent(f)}`);
    const [e] = await r.json();
    const ms = Math.floor(Date.parse(e.Timestamp.replace(/(\.\d{3})\d*/, '$1')) / 1000) * 1000;
    const local = (t) => new Date(t - new Date(t).getTimezoneOffset() * 60000).toISOString().slice(0, 19);
    return { from: local(ms), to: local(ms + 2000) };
  }, `${mine} and Step = 2`);
  await page.select('select[name=range]', 'custom');
  await fill('input[name=from]', from);
  await fill('input[name=to]', to);
  await click('.filterbar button.primary');
  await listed(2);
  await histogramTotal(2);
  const steps = await messages();
  check(steps[0].includes('step 3') && steps[1].includes('step 2'), `custom ${from} → ${to}: ${JSON.stringify(steps)}`);
  check(page.url().includes('range=custom'), `the range is in the URL (${page.url()})`);
  await shot('time-range');
}

// ---- the cluster screen ----------------------------------------------------

/** The cluster table's rows as the user reads them. */
const clusterRows = () => page.$$eval('table.cluster tbody tr[data-node]', (rows) => rows.map((r) => ({
  name: r.dataset.node, role: r.dataset.role, generation: r.querySelector('.generation').textContent,
  upToDate: r.querySelector('.uptodate').textContent, sync: r.querySelector('.sync').textContent,
  lag: r.querySelector('.lag').textContent, state: r.querySelector('.state').textContent,
  connections: r.querySelector('.connections .counts').textContent,
})));

/** How many nodes the cluster has (SKEIN_UI_NODES, default 2). */
const NODES = Number(process.env.SKEIN_UI_NODES || 2);

/** Waits until the table shows every node at one generation, all up to date, and the status Healthy. */
const allUpToDate = () => until((n) => {
  const rs = [...document.querySelectorAll('table.cluster tbody tr[data-node]')];
  const gens = rs.map((r) => r.querySelector('.generation').textContent);
  return rs.length === n && gens.every((g) => g === gens[0]) && rs.every((r) => r.querySelector('.uptodate').textContent === 'Yes')
    && document.querySelector('.summary [data-status]')?.dataset.status === 'Healthy';
}, NODES);

async function cluster() {
  await visit('/#/settings/cluster');
  await allUpToDate();
  const rows = await clusterRows();
  check(rows.some((r) => r.role === 'Leader') && rows.some((r) => r.role === 'Follower'), `a leader and a follower: ${JSON.stringify(rows)}`);
  check(await count('#notifications .notice') === 0, 'no warning while the follower is up to date');
  // Every row's sync, lag, state and counters say what /api/cluster says
  // (read again until one refresh of the table and one answer agree).
  const agreed = await until(async () => {
    const c = await (await fetch('/api/cluster')).json();
    const rs = [...document.querySelectorAll('table.cluster tbody tr[data-node]')];
    const cell = (r, k) => r.querySelector(k)?.textContent;
    const ok = rs.length === c.Nodes.length && c.Nodes.every((n) => {
      const r = rs.find((x) => x.dataset.node === n.Name);
      if (!r) return false;
      const leader = n.Role === 'Leader';
      const quorum = c.MinimumAcknowledgingReplicas > 0 && n.Role === 'Follower'
        ? (n.CountsTowardAcknowledgements ? 'Yes' : 'No') : '—';
      return r.dataset.role === n.Role && cell(r, '.generation') === n.Generation && cell(r, '.quorum') === quorum
        && cell(r, '.state .state-text') === n.StateDescription
        && (n.CatchUp == null ? !r.querySelector('.catchup')
          : cell(r, '.catchup-text') === n.CatchUp.Description && r.querySelector('.catchup progress') != null)
        && cell(r, '.connections .counts') === `${n.ConnectionsAccepted} / ${n.ConnectionsRejectedInvalidKey} / ${n.ConnectionsEstablished}`
        && cell(r, '.connections .refused') === `refused ${n.ConnectionsRejectedMalformedHandshake} / ${n.FramesRejectedSessionCheck} / ${n.ConnectionsRejectedForgedLeader} / ${n.RequestsRejectedForgedForwarding}`
        && (leader ? cell(r, '.sync') === '—' && cell(r, '.lag') === '—'
          : n.MillisecondsSinceLastSync != null && / ago$/.test(cell(r, '.sync')) && cell(r, '.lag') === 'none');
    });
    return ok && JSON.stringify(c.Nodes);
  });
  console.log(`cluster: table ${JSON.stringify(await clusterRows())}`);
  console.log(`cluster: /api/cluster ${await agreed.jsonValue()}`);
  await shot('cluster');
}

async function demote() {
  const next = env('SKEIN_UI_NEW_LEADER');
  await visit('/#/settings/cluster');
  await click('button.demote:not([disabled])');
  await page.waitForSelector('.modal');
  await shot('demote-confirm');
  await click('.modal button.danger');
  await page.waitForSelector('.progress li');
  await page.waitForSelector('.progress li.result', { timeout: 60000 });
  const result = await text('.progress li.result');
  check(result.includes(`${next} now leads`), `demotion result: ${result}`);
  await page.waitForSelector(`table.cluster tr[data-node="${next}"][data-role="Leader"]`);
  const steps = await count('.progress li');
  check(steps >= 3, `progress shows the steps (${steps})`);
  await shot('demote');
}

/**
 * One open page sees the cluster Healthy, says `ready:` (tests/ui.rs then
 * stops the follower) and turns, live and without reload, to the warning.
 */
async function warning() {
  await visit('/#/settings/cluster');
  await allUpToDate();
  check(await count('#notifications .notice') === 0, 'no warning while the follower is up to date');
  await page.evaluate(() => { window.skeinSamePage = true; });
  console.log('ready: healthy with both nodes up to date; stop the follower');
  await page.waitForFunction(() => [...document.querySelectorAll('#notifications .notice')]
    .some((n) => n.textContent.includes('no up-to-date follower')), { polling: 100, timeout: 60000 });
  await page.waitForSelector('.summary [data-status="Degraded"]');
  await page.waitForSelector('button.demote[disabled]');
  // Once the stopped node's heartbeat is stale, its lag is unknown.
  await page.waitForFunction(() => [...document.querySelectorAll('table.cluster tbody tr[data-node]')]
    .some((r) => r.querySelector('.state').textContent.startsWith('unreachable') && r.querySelector('.lag').textContent === 'unknown'),
  { polling: 100, timeout: 60000 });
  check(await page.evaluate(() => window.skeinSamePage === true), 'the page changed without a reload');
  await shot('cluster-warning');
}

// ---- settings and login ----------------------------------------------------

async function settings() {
  await visit('/#/settings/apikeys');
  await fill('input[name=title]', 'ui-test key');
  await setChecked('input[name=perm][value=Read]', true);
  await page.select('select[name=minimumLevel]', 'Warning');
  await clickText('button', 'Create key');
  const token = (await text('.token code.new-token')).trim();
  check(token.length >= 16, `a token is shown once (${token})`);
  await page.waitForSelector('tr[data-key="ui-test key"]');
  const row = await text('tr[data-key="ui-test key"]');
  check(row.includes('Ingest, Read') && row.includes('Warning') && row.includes(token.slice(0, 8)), `key row ${row}`);
  await shot('apikeys');
  await page.reload();
  await page.waitForSelector('tr[data-key="ui-test key"]');
  check(await count('.token') === 0, 'the token is not shown again');
  await clickText('tr[data-key="ui-test key"] button', 'Revoke');
  await page.waitForSelector('tr[data-key="ui-test key"]', { hidden: true });

  await visit('/#/settings/users');
  await fill('input[name=username]', 'ui-ops');
  await fill('input[name=new-password]', 'short');
  await clickText('button', 'Add user');
  await withText('form .error-text', 'at least');
  await fill('input[name=new-password]', 'ui-ops-Pa55word-long');
  await page.select('select[name=role]', 'Reader');
  await clickText('button', 'Add user');
  await page.waitForSelector('tr[data-user="ui-ops"]');
  const user = await text('tr[data-user="ui-ops"]');
  check(user.includes('Reader') && user.includes('Read'), `user row ${user}`);
  await shot('users');
  await clickText('tr[data-user="ui-ops"] button', 'Remove');
  await page.waitForSelector('tr[data-user="ui-ops"]', { hidden: true });

  await visit('/#/settings/general');
  const retention = 'form[data-setting="retention.period"]';
  await fill(`${retention} input[name=value]`, 'forever');
  await click(`${retention} button`);
  await page.waitForSelector(`${retention} .error-text`);
  await fill(`${retention} input[name=value]`, '30d');
  await click(`${retention} button`);
  await page.waitForSelector(`${retention} .ok-text`);
  const minimum = 'form[data-setting="ingestion.minimumLevel"]';
  await page.select(`${minimum} select`, 'Debug');
  await click(`${minimum} button`);
  await page.waitForSelector(`${minimum} .ok-text`);
  const stored = (await fetchJson('/api/settings')).body;
  const value = (n) => stored.find((s) => s.Name === n).Value;
  check(value('retention.period') === '30d' && value('ingestion.minimumLevel') === 'Debug', `stored settings ${JSON.stringify(stored)}`);
  await requireKey();
  await shot('settings');

  await visit('/#/login');
  await page.waitForSelector('input[name=password]');
  await shot('login');
}

/** Ticking "require an API key" makes keyless ingestion answer 401; unticking restores it. */
async function requireKey() {
  const form = 'form[data-setting="ingestion.requireApiKey"]';
  const save = async (on) => {
    await page.$eval(`${form} .inline > span`, (s) => s.replaceChildren());
    await setChecked(`${form} input[name=value]`, on);
    await click(`${form} button`);
    await page.waitForSelector(`${form} .ok-text`);
  };
  const keyless = () => ingest([{ '@t': new Date().toISOString(), '@mt': 'Keyless ingestion check' }]);
  check(await keyless() === 201, 'keyless ingestion is accepted before the setting');
  await save(true);
  const refused = await keyless();
  check(refused === 401, `with an API key required, keyless ingestion answers 401 (not ${refused})`);
  await shot('settings-require-key');
  await save(false);
  const accepted = await keyless();
  check(accepted === 201, `the setting restored, keyless ingestion answers 201 (not ${accepted})`);
}

async function login() {
  await visit('/#/events');
  await page.waitForSelector('input[name=password]');
  check(page.url().endsWith('#/login'), `a signed-out visitor is sent to the login page (${page.url()})`);
  await fill('input[name=username]', env('SKEIN_UI_USER'));
  await fill('input[name=password]', 'not-the-password');
  await clickText('button', 'Sign in');
  await withText('.login .error-text', 'not right');
  await shot('login-refused');
  await fill('input[name=password]', env('SKEIN_UI_PASSWORD'));
  await clickText('button', 'Sign in');
  await page.waitForSelector('.filterbar input[name=filter]');
  check(page.url().endsWith('#/events'), `back to the events page (${page.url()})`);
  await withText('#user', env('SKEIN_UI_USER'));
  await visit('/#/settings/apikeys');
  await withText('h2', 'API keys');
  await click('#user button');
  await page.waitForSelector('input[name=password]');
  const after = await page.evaluate(async () => (await fetch('/api/apikeys')).status);
  check(after === 401, `signed out, the API answers 401 (${after})`);
}

/** Benchmark: time from navigation until the events and the histogram are drawn. */
async function load() {
  const runs = Number(env('SKEIN_UI_RUNS', '10'));
  const times = [];
  let bytes = 0;
  for (let i = 0; i < runs; i += 1) {
    await page.goto('about:blank');
    const started = Date.now();
    await page.goto(`${url}/#/events`);
    await page.waitForSelector('.event-list .event');
    await page.waitForSelector('.histogram .total');
    times.push(Date.now() - started);
    if (i === 0) {
      bytes = await page.evaluate(() => performance.getEntriesByType('resource')
        .filter((r) => r.name.includes('/ui/')).reduce((s, r) => s + r.transferSize, 0)
        + performance.getEntriesByType('navigation')[0].transferSize);
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`load (${which}): first (cold cache) ${times[0]} ms, transferred ${bytes} bytes of page and scripts`);
  console.log(`load (${which}): ${runs} loads, median ${sorted[Math.floor(runs / 2)]} ms, max ${sorted[runs - 1]} ms`);
}

const PHASES = { events, cluster, demote, warning, settings, login, load };
let failed = false;
try {
  if (!PHASES[phase]) throw new Error(`unknown phase ${phase} (one of ${Object.keys(PHASES)})`);
  await PHASES[phase]();
  check(pageErrors.length === 0, `no page errors: ${pageErrors.join(' | ')}`);
  console.log(`phase ${phase} (${which}): ok`);
} catch (e) {
  failed = true;
  console.error(`phase ${phase} (${which}) failed: ${e.message}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join(' | ')}`);
  try { await shot(`FAILED-${phase}`); } catch { /* the browser is gone */ }
} finally {
  await browser.close().catch(() => {});
  rmSync(downloads, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

// Drives Debian's Chromium (playwright-core, no downloaded browser) through
// Skein's admin UI; run by tests/ui.rs, one phase per run:
//
//   node ui.mjs <events|cluster|demote|warning|settings>
//
// Environment: SKEIN_UI_URL (the node to browse), SKEIN_UI_INGEST_URL (where
// the tail phase posts its event), SKEIN_UI_MARKER (the run's marker
// property), SKEIN_UI_NEW_LEADER (demote), SKEIN_UI_SCREENSHOTS (folder for
// PNGs), SKEIN_CHROMIUM (the browser). Exits non-zero, saying what did not
// happen, on any failed check, page error or timeout.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const phase = process.argv[2];
const url = env('SKEIN_UI_URL');
const shots = env('SKEIN_UI_SCREENSHOTS');
const WAIT = 30000;
mkdirSync(shots, { recursive: true });

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

const browser = await chromium.launch({
  executablePath: env('SKEIN_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
page.setDefaultTimeout(WAIT);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
// Script errors fail the phase; failed requests are reported (the checks
// fail on their own when a failed request breaks what the user sees).
page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text()); });
page.on('response', (r) => { if (r.status() >= 500) console.log(`warning: ${r.request().method()} ${r.url()} answered ${r.status()}`); });

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
  console.log(`screenshot ${name}.png`);
}

/** The messages of the listed events, top to bottom. */
const messages = () => page.locator('.event-list .event .msg').allInnerTexts();

async function search(filter) {
  await page.fill('input[name=filter]', filter);
  await page.press('input[name=filter]', 'Enter');
}

async function events() {
  const marker = env('SKEIN_UI_MARKER');
  await page.goto(`${url}/#/events`);
  await page.waitForSelector('.event-list .event');
  await search(`Run = '${marker}'`);
  await page.waitForFunction(() => document.querySelectorAll('.event-list .event').length === 6);
  const all = await messages();
  check(all[0].includes('step 6') && all[5].includes('step 1'), `newest first: ${JSON.stringify(all)}`);
  await page.waitForSelector('.histogram svg rect.bar');
  const total = await page.getAttribute('.histogram .total', 'data-total');
  check(total === '6', `histogram counts 6 events, not ${total}`);
  await shot('events');

  // Free text (not an expression) searches messages; the histogram agrees.
  await search(`order 5 STEP 5`);
  await page.waitForFunction(() => document.querySelectorAll('.event-list .event').length === 1
    && document.querySelector('.histogram .total')?.dataset.total === '1');

  // Filter by level: only the two errors stay.
  await search(`Run = '${marker}' and @Level = 'Error'`);
  await page.waitForFunction(() => document.querySelectorAll('.event-list .event').length === 2
    && [...document.querySelectorAll('.event-list .event')].every((e) => e.dataset.level === 'error'));
  await page.waitForFunction(() => document.querySelector('.histogram .total')?.dataset.total === '2');

  // Expand an event: every property and the exception; click a value to filter on it.
  await page.click('.event-list .event >> nth=0 >> .row');
  await page.waitForSelector('.event.open .detail pre.exception');
  const props = await page.locator('.event.open .props tr[data-prop]').evaluateAll((rows) => rows.map((r) => r.dataset.prop));
  for (const p of ['Run', 'Step', 'OrderId', 'Customer']) check(props.includes(p), `property ${p} shown (${props})`);
  await shot('event-expanded');
  await page.click('.event.open tr[data-prop=OrderId] .v');
  await page.waitForFunction(() => document.querySelector('input[name=filter]').value.includes('OrderId = 6'));
  await page.waitForFunction(() => document.querySelectorAll('.event-list .event').length === 1);

  // Permalink to the event.
  await page.click('.event-list .event >> nth=0 >> .row');
  const id = await page.getAttribute('.event.open', 'data-id');
  await page.click('.event.open a.permalink');
  await page.waitForSelector(`.event.open[data-id="${id}"] .detail`);
  check(page.url().endsWith(`#/events/${id}`), `permalink URL ${page.url()}`);
  await page.reload();
  await page.waitForSelector(`.event.open[data-id="${id}"] .detail pre.exception`);
  await shot('permalink');

  // A bad filter: its error, with the position, inline.
  await page.goto(`${url}/#/events`);
  await search('Status >');
  await page.waitForSelector('.filter-error:not([hidden]) pre.where .caret');
  const err = await page.innerText('.filter-error');
  check(/at position 7/.test(err), `the error names its position: ${err}`);
  const caretAt = await page.$eval('.filter-error pre.where', (pre) => pre.textContent.split('\n')[1].indexOf('^'));
  check(caretAt === 7, `the caret stands under character 7, not ${caretAt}`);
  check(await page.locator('.filter.bad').count() === 1, 'the filter box is marked bad');
  await shot('filter-error');

  // Save a signal and combine it with the filter box.
  await search(`Run = '${marker}'`);
  await page.waitForFunction(() => document.querySelectorAll('.event-list .event').length === 6);
  await page.fill('input[name=filter]', "@Level = 'Error'");
  await page.fill('input[name=signal-title]', `Errors ${marker}`);
  await page.click('button:has-text("Save filter as signal")');
  await page.waitForSelector(`.sidebar .item.active[data-signal="Errors ${marker}"]`);
  await search(`Run = '${marker}'`);
  await page.waitForFunction(() => document.querySelectorAll('.event-list .event').length === 2);
  await page.uncheck(`.sidebar .item[data-signal="Errors ${marker}"] input`);
  await page.waitForFunction(() => document.querySelectorAll('.event-list .event').length === 6);

  // Export the result as CLEF.
  const href = await page.getAttribute('a.export', 'href');
  check(href.includes('clef=true'), `export link ${href}`);
  const clef = await page.evaluate(async (h) => (await fetch(h)).text(), href);
  const lines = clef.trim().split('\n').map((l) => JSON.parse(l));
  check(lines.length === 6 && lines.every((l) => l.Run === marker), `export holds the 6 events: ${clef.slice(0, 300)}`);

  // Live tail: an event ingested now appears without reload within 2 s.
  await page.click('button.tail');
  await page.waitForSelector('button.tail.on');
  await page.waitForTimeout(1200);
  const text = `tail ${marker} ${Date.now()}`;
  const res = await fetch(`${env('SKEIN_UI_INGEST_URL')}/ingest/clef`, {
    method: 'POST', headers: { 'Content-Type': 'application/vnd.serilog.clef' },
    body: JSON.stringify({ '@t': new Date().toISOString(), '@mt': 'Tail {Text}', Text: text, Run: marker }),
  });
  check(res.status === 201, `ingestion answered ${res.status}`);
  const acked = Date.now();
  await page.waitForFunction((t) => [...document.querySelectorAll('.event-list .event .msg')].some((e) => e.textContent.includes(t)), text, { timeout: 10000 });
  const took = Date.now() - acked;
  console.log(`tail: the new event appeared ${took} ms after ingestion was acknowledged`);
  check(took <= 2000, `live tail showed the new event within 2 s (took ${took} ms)`);
  check((await messages())[0].includes(text), 'the new event is on top');
  await page.waitForTimeout(300);
  await shot('tail');
}

/** Waits for the cluster table to show `n` nodes and returns them. */
async function clusterRows() {
  return page.$$eval('table.cluster tbody tr[data-node]', (rows) => rows.map((r) => ({
    name: r.dataset.node, role: r.dataset.role, generation: r.querySelector('.generation').textContent,
    upToDate: r.querySelector('.uptodate').textContent,
  })));
}

async function cluster() {
  await page.goto(`${url}/#/settings/cluster`);
  const rows = await page.waitForFunction(() => {
    const rs = [...document.querySelectorAll('table.cluster tbody tr[data-node]')];
    const gens = rs.map((r) => r.querySelector('.generation').textContent);
    return rs.length === 2 && gens[0] === gens[1] && rs.every((r) => r.querySelector('.uptodate').textContent === 'Yes');
  }, null, { timeout: WAIT }).then(clusterRows);
  check(rows.some((r) => r.role === 'Leader') && rows.some((r) => r.role === 'Follower'), `a leader and a follower: ${JSON.stringify(rows)}`);
  console.log(`cluster: ${JSON.stringify(rows)}`);
  check(await page.locator('#notifications .notice').count() === 0, 'no warning while the follower is up to date');
  await shot('cluster');
}

async function demote() {
  const next = env('SKEIN_UI_NEW_LEADER');
  await page.goto(`${url}/#/settings/cluster`);
  await page.click('button.demote:not([disabled])');
  await page.waitForSelector('.modal');
  await shot('demote-confirm');
  await page.click('.modal button.danger');
  await page.waitForSelector('.progress li');
  await page.waitForSelector('.progress li.result', { timeout: 60000 });
  const result = await page.innerText('.progress li.result');
  check(result.includes(`${next} now leads`), `demotion result: ${result}`);
  await page.waitForSelector(`table.cluster tr[data-node="${next}"][data-role="Leader"]`);
  const steps = await page.locator('.progress li').count();
  check(steps >= 3, `progress shows the steps (${steps})`);
  await shot('demote');
}

async function warning() {
  await page.goto(`${url}/#/settings/cluster`);
  await page.waitForSelector('#notifications .notice:has-text("no up-to-date follower")', { timeout: WAIT });
  await page.waitForSelector('.summary [data-status="Degraded"]');
  await page.waitForSelector('button.demote[disabled]');
  await shot('cluster-warning');
}

async function settings() {
  await page.goto(`${url}/#/settings/apikeys`);
  await page.fill('input[name=title]', 'ui-test key');
  await page.check('input[name=perm][value=Read]');
  await page.selectOption('select[name=minimumLevel]', 'Warning');
  await page.click('button:has-text("Create key")');
  const token = (await page.innerText('.token code.new-token', { timeout: WAIT })).trim();
  check(token.length >= 16, `a token is shown once (${token})`);
  await page.waitForSelector('tr[data-key="ui-test key"]');
  const row = await page.innerText('tr[data-key="ui-test key"]');
  check(row.includes('Ingest, Read') && row.includes('Warning') && row.includes(token.slice(0, 8)), `key row ${row}`);
  await shot('apikeys');
  await page.reload();
  await page.waitForSelector('tr[data-key="ui-test key"]');
  check(await page.locator('.token').count() === 0, 'the token is not shown again');
  await page.click('tr[data-key="ui-test key"] button:has-text("Revoke")');
  await page.waitForSelector('tr[data-key="ui-test key"]', { state: 'detached' });

  await page.goto(`${url}/#/settings/users`);
  await page.fill('input[name=username]', 'ui-ops');
  await page.fill('input[name=new-password]', 'short');
  await page.click('button:has-text("Add user")');
  await page.waitForSelector('form .error-text:has-text("at least")');
  await page.fill('input[name=new-password]', 'ui-ops-Pa55word-long');
  await page.selectOption('select[name=role]', 'Reader');
  await page.click('button:has-text("Add user")');
  await page.waitForSelector('tr[data-user="ui-ops"]');
  const user = await page.innerText('tr[data-user="ui-ops"]');
  check(user.includes('Reader') && user.includes('Read'), `user row ${user}`);
  await shot('users');
  await page.click('tr[data-user="ui-ops"] button:has-text("Remove")');
  await page.waitForSelector('tr[data-user="ui-ops"]', { state: 'detached' });

  await page.goto(`${url}/#/settings/general`);
  await page.fill('form[data-setting="retention.period"] input[name=value]', 'forever');
  await page.click('form[data-setting="retention.period"] button');
  await page.waitForSelector('form[data-setting="retention.period"] .error-text');
  await page.fill('form[data-setting="retention.period"] input[name=value]', '30d');
  await page.click('form[data-setting="retention.period"] button');
  await page.waitForSelector('form[data-setting="retention.period"] .ok-text');
  await page.selectOption('form[data-setting="ingestion.minimumLevel"] select', 'Debug');
  await page.click('form[data-setting="ingestion.minimumLevel"] button');
  await page.waitForSelector('form[data-setting="ingestion.minimumLevel"] .ok-text');
  const stored = await page.evaluate(async () => (await fetch('/api/settings')).json());
  const value = (n) => stored.find((s) => s.Name === n).Value;
  check(value('retention.period') === '30d' && value('ingestion.minimumLevel') === 'Debug', `stored settings ${JSON.stringify(stored)}`);
  await shot('settings');

  await page.goto(`${url}/#/login`);
  await page.waitForSelector('input[name=password]');
  await shot('login');
}

async function login() {
  await page.goto(`${url}/#/events`);
  await page.waitForSelector('input[name=password]');
  check(page.url().endsWith('#/login'), `a signed-out visitor is sent to the login page (${page.url()})`);
  await page.fill('input[name=username]', env('SKEIN_UI_USER'));
  await page.fill('input[name=password]', 'not-the-password');
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('.login .error-text:has-text("not right")');
  await shot('login-refused');
  await page.fill('input[name=password]', env('SKEIN_UI_PASSWORD'));
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('.filterbar input[name=filter]');
  check(page.url().endsWith('#/events'), `back to the events page (${page.url()})`);
  await page.waitForSelector(`#user:has-text("${env('SKEIN_UI_USER')}")`);
  await page.goto(`${url}/#/settings/apikeys`);
  await page.waitForSelector('h2:has-text("API keys")');
  await page.click('#user button');
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
    await page.goto('about:blank');
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`load: first (cold cache) ${times[0]} ms, transferred ${bytes} bytes of page and scripts`);
  console.log(`load: ${runs} loads, median ${sorted[Math.floor(runs / 2)]} ms, max ${sorted[runs - 1]} ms`);
}

const PHASES = { events, cluster, demote, warning, settings, login, load };
let failed = false;
try {
  if (!PHASES[phase]) throw new Error(`unknown phase ${phase} (one of ${Object.keys(PHASES)})`);
  await PHASES[phase]();
  check(pageErrors.length === 0, `no page errors: ${pageErrors.join(' | ')}`);
  console.log(`phase ${phase}: ok`);
} catch (e) {
  failed = true;
  console.error(`phase ${phase} failed: ${e.message}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join(' | ')}`);
  try { await shot(`FAILED-${phase}`); } catch { /* the browser is gone */ }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

// Settings → Cluster: every node from /api/cluster (role, storage
// generation model.write, up-to-date flag, time since last sync, lag, state
// — with a progress bar while a follower copies a snapshot — and connection
// counters), refreshed every second; the notification area; and
// "Demote leader" (POST /api/cluster/demote) with a confirmation and its
// progress, followed live.

import { api } from './api.js';
import { h, fill, formatAge, confirmDialog } from './dom.js';
import { refreshNotifications } from './app.js';

const REFRESH_MS = 1000;

/** Whether the node answers (its heartbeat is fresh). */
const connected = (node) => !node.StateDescription.startsWith('unreachable');

/** Whether a follower counts toward the acknowledgement quorum (— without one, or for the leader). */
const quorum = (node, required) => (required === 0 || node.Role !== 'Follower' ? '—' : (node.CountsTowardAcknowledgements ? 'Yes' : 'No'));

/** How far `node` is behind `leader`, from their generations ("unknown" when it does not answer). */
function lag(node, leader) {
  if (!leader || node === leader) return '—';
  if (!connected(node)) return 'unknown';
  const [lm, lw] = leader.Generation.split('.').map(Number);
  const [m, w] = node.Generation.split('.').map(Number);
  if (m === lm && w === lw) return 'none';
  if (m === lm) return `${lw - w} write${lw - w === 1 ? '' : 's'}`;
  return `model ${m} of ${lm}`;
}

/** A follower's snapshot copy in progress: a bar and how far it is (nothing otherwise). */
function catchUp(node) {
  const c = node.CatchUp;
  if (!c) return null;
  const done = c.TotalBytes > 0 ? Math.min(c.CopiedBytes / c.TotalBytes, 1) : 1;
  return h('div', { class: 'catchup', title: `copying a snapshot since ${new Date(c.StartedAt).toLocaleTimeString()}` },
    h('progress', { max: 1, value: done }),
    h('div', { class: 'muted catchup-text' }, c.Description));
}

export function mountCluster(el) {
  let timer = null;
  let demoting = false;
  const summary = h('p', { class: 'summary' });
  const table = h('tbody');
  const actions = h('div', { class: 'inline' });
  const progress = h('ul', { class: 'progress', hidden: true });
  fill(el,
    h('h2', {}, 'Cluster'), summary,
    h('table', { class: 'grid cluster' },
      h('thead', {}, h('tr', {}, ['Node', 'Role', 'Storage generation', 'Up to date', 'Acknowledges writes', 'Last sync', 'Lag', 'State', 'Connections'].map((t) => h('th', {}, t)))),
      table),
    h('h3', {}, 'Fail-over'),
    h('p', { class: 'muted' }, 'Demoting the leader hands leadership to the follower once it has caught up, without losing events.'),
    actions, progress);

  let last = null;
  async function refresh() {
    let c;
    try {
      c = await api('/api/cluster');
    } catch (err) {
      fill(summary, h('span', { class: 'error-text' }, `Cannot read the cluster: ${err.message}`));
      return null;
    }
    last = c;
    refreshNotifications(c);
    const leader = c.Nodes.find((n) => n.Role === 'Leader');
    const required = c.MinimumAcknowledgingReplicas || 0;
    fill(summary, h('span', { class: c.Status === 'Healthy' ? 'ok-text' : 'error-text', dataset: { status: c.Status } }, c.Status), ' — ', c.Description,
      required > 0 ? h('span', { class: 'muted quorum-summary' }, ` (a write is acknowledged once ${required} follower(s) hold it)`) : '');
    fill(table, c.Nodes.map((n) => h('tr', { dataset: { node: n.Name, role: n.Role } },
      h('td', {}, h('b', {}, n.Name), h('div', { class: 'muted mono' }, n.InternalApiUri || '')),
      h('td', { class: `role ${n.Role.toLowerCase()}` }, n.Role),
      h('td', { class: 'generation mono' }, n.Generation),
      h('td', { class: `uptodate ${n.IsUpToDate ? 'yes' : 'no'}` }, n.IsUpToDate ? 'Yes' : 'No'),
      h('td', { class: 'quorum', title: 'whether this follower counts toward replication.minimumAcknowledgingReplicas' }, quorum(n, required)),
      h('td', { class: 'sync' }, n.Role === 'Leader' ? '—' : (n.MillisecondsSinceLastSync == null ? 'never' : `${formatAge(n.MillisecondsSinceLastSync)} ago`)),
      h('td', { class: 'lag' }, lag(n, leader)),
      h('td', { class: 'state' }, h('span', { class: 'state-text' }, n.StateDescription), catchUp(n)),
      h('td', { class: 'connections mono' },
        h('span', { class: 'counts', title: 'accepted / rejected (invalid key) / established' },
          `${n.ConnectionsAccepted} / ${n.ConnectionsRejectedInvalidKey} / ${n.ConnectionsEstablished}`),
        n.RequestsRejectedForgedForwarding == null ? '' : h('div', { class: 'muted refused', title: 'refused: malformed handshakes / frames failing the session check / forged leader proofs / forged or replayed forwarding proofs' },
          `refused ${n.ConnectionsRejectedMalformedHandshake} / ${n.FramesRejectedSessionCheck} / ${n.ConnectionsRejectedForgedLeader} / ${n.RequestsRejectedForgedForwarding}`)))));
    if (!demoting) {
      const follower = c.Nodes.find((n) => n.Role === 'Follower' && connected(n));
      fill(actions, leader
        ? h('button', { class: 'danger demote', disabled: !follower, onclick: () => demote(leader, follower) }, `Demote leader ${leader.Name}`)
        : h('span', { class: 'muted' }, 'No node leads: nothing to demote.'),
      leader && !follower && h('span', { class: 'muted' }, 'No reachable follower to hand over to.'));
    }
    return c;
  }

  async function demote(leader, follower) {
    const ok = await confirmDialog('Demote the leader?',
      `${leader.Name} will stop accepting writes, wait until ${follower.Name} has caught up, and hand leadership to it. Requests are proxied meanwhile.`,
      'Demote leader');
    if (!ok) return;
    demoting = true;
    fill(actions, h('button', { disabled: true }, 'Demoting…'));
    progress.hidden = false;
    const step = (text, cls = '') => progress.append(h('li', { class: cls }, `${new Date().toLocaleTimeString()}  ${text}`));
    fill(progress);
    step(`asked ${leader.Name} to hand leadership to ${follower.Name}`);
    const seen = new Map(last.Nodes.map((n) => [n.Name, `${n.Role}|${n.StateDescription}`]));
    const observe = async () => {
      const c = await refresh();
      for (const n of (c && c.Nodes) || []) {
        const now = `${n.Role}|${n.StateDescription}`;
        if (seen.get(n.Name) !== now) { seen.set(n.Name, now); step(`${n.Name}: ${n.Role}, ${n.StateDescription} (generation ${n.Generation})`); }
      }
    };
    const watch = setInterval(observe, 400);
    try {
      // The leader streams its steps (one JSON line each, the result last).
      const res = await fetch(`/api/cluster/demote?to=${encodeURIComponent(follower.Name)}`, {
        method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/x-ndjson' },
      });
      if (!res.ok) {
        const text = await res.text();
        let json = null;
        try { json = JSON.parse(text); } catch { json = null; }
        if (res.status === 401) window.dispatchEvent(new CustomEvent('auth-required'));
        throw new Error((json && json.Error) || text || `HTTP ${res.status}`);
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let pending = '';
      let result = null;
      const line = (text) => {
        if (!text.trim()) return;
        const l = JSON.parse(text);
        if (typeof l.Step === 'string') step(l.Step, 'done');
        else result = l;
      };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        pending += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) { line(pending.slice(0, nl)); pending = pending.slice(nl + 1); }
      }
      line(pending + decoder.decode());
      if (!result) throw new Error('the answer ended before the demotion\'s result');
      if (result.Error) throw new Error(result.Error);
      step(`${result.NewLeader} now leads (term ${result.Term})`, 'done result');
    } catch (err) {
      step(`demotion failed: ${err.message}`, 'fail result');
    } finally {
      clearInterval(watch);
      demoting = false;
      // The last look logs the final role change too.
      await observe();
    }
  }

  refresh();
  timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}

// The HTTP API as the UI uses it: JSON in and out, errors as ApiError with
// the server's {"Error": …} message, reads retried once after a 502/503/504
// or a network failure, and any 401 announced as an 'auth-required' event so
// the page shows its login form.

/** An error answered by the API. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the API; the parsed JSON answer (null for 204). */
export async function api(path, options) {
  return (await apiRead(path, options)).json;
}

/** Calls the API; the parsed JSON answer and the answer's headers. */
export async function apiRead(path, { method = 'GET', body } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  // A read that meets a passing failure (a proxy between nodes, a node
  // changing role) is tried once more; changes never are.
  const tries = method === 'GET' ? 2 : 1;
  let res;
  for (let i = 1; i <= tries; i += 1) {
    try {
      res = await fetch(path, init);
    } catch (e) {
      if (i === tries) throw new ApiError(0, `the server cannot be reached (${e.message})`);
      res = null;
    }
    if (res && ![502, 503, 504].includes(res.status)) break;
    if (i < tries) await new Promise((r) => setTimeout(r, 300));
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/api/users/')) {
      window.dispatchEvent(new CustomEvent('auth-required'));
    }
    throw new ApiError(res.status, (json && json.Error) || text || res.statusText || `HTTP ${res.status}`);
  }
  return { json, headers: res.headers };
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The character position an API error names ("at position 7", "at character 7"). */
export function errorPosition(message) {
  const m = /at (?:position|character) (\d+)/.exec(message || '');
  return m ? Number(m[1]) : null;
}

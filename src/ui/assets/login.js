// The login page, shown when authentication is on and nobody is signed in
// (or any API call answers 401): POST /api/users/login sets a session cookie.

import { api } from './api.js';
import { h, fill } from './dom.js';
import { signedIn } from './app.js';

export function mount(root) {
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const message = h('div', { class: 'error-text', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  fill(root, h('div', { class: 'login card' }, h('h2', {}, 'Sign in to Skein'),
    h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        fill(message);
        submit.disabled = true;
        try {
          await api('/api/users/login', { method: 'POST', body: { Username: user.value, Password: pass.value } });
          await signedIn();
        } catch (err) {
          pass.value = '';
          fill(message, err.status === 401 ? 'The username or password is not right.'
            : err.status === 429 ? 'Too many failed attempts: wait a moment, then try again.' : err.message);
        } finally { submit.disabled = false; }
      },
    }, h('label', {}, 'Username'), user, h('label', {}, 'Password'), pass, submit, message)));
  user.focus();
  return null;
}

import { ApiProblem } from '../api';
import { h } from '../dom';
import { identity } from './identity';

/**
 * The header's buyer area. Declared mode: the buyer id and "New buyer id". jwt mode: who is
 * signed in and "Sign out", or the dev sign-in form (when the API offers dev tokens), or a note
 * that this page cannot sign in.
 */
export function renderBuyerArea(root: HTMLElement): void {
  if (identity.mode === 'declared') {
    const again = h('button', { type: 'button', id: 'new-buyer', class: 'link-button' }, 'New buyer id');
    again.addEventListener('click', () => identity.newDeclaredBuyer());
    root.replaceChildren(h('span', {}, 'Buyer ', h('code', { id: 'buyer-id' }, identity.buyer() ?? '')), again);
    return;
  }
  const who = identity.buyer();
  if (who) {
    const out = h('button', { type: 'button', class: 'link-button' }, 'Sign out');
    out.addEventListener('click', () => identity.signOut());
    root.replaceChildren(h('span', {}, 'Signed in as ', h('code', { id: 'buyer-id' }, who), ' (dev token)'), out);
    return;
  }
  if (!identity.devTokens) {
    root.replaceChildren(
      h('span', { class: 'auth-note' }, 'This API needs a signed-in buyer (jwt mode), and its dev sign-in is off (AUTH_DEV_TOKENS).'),
    );
    return;
  }
  const input = h('input', {
    id: 'dev-user',
    name: 'userId',
    required: true,
    maxlength: 128,
    pattern: '[\\x21-\\x7e]{1,128}',
    autocomplete: 'username',
    value: '',
  });
  const note = h('span', { class: 'auth-note', role: 'status' });
  const form = h(
    'form',
    { class: 'dev-sign-in', 'aria-label': 'Dev sign-in' },
    h('label', { for: 'dev-user' }, 'User id'),
    ' ',
    input,
    ' ',
    h('button', { type: 'submit', class: 'secondary small' }, 'Dev sign-in'),
    note,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    note.textContent = '';
    identity.signIn(input.value.trim()).catch((err: unknown) => {
      note.textContent = `Sign-in failed: ${err instanceof ApiProblem ? err.message : String(err)}. Use 1–128 visible ASCII characters and try again.`;
    });
  });
  root.replaceChildren(h('span', { class: 'auth-note' }, 'Not signed in (jwt mode).'), form);
}

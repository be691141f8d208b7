// Group orders: #/group opens one from the cart (point, time, who pays); #/group/<code> shows it live: the
// link to share, everyone's first name and lines, the time left, "N of M joined — X% off for everyone".
// A friend arrives here from a j<code> link (main.js reads the launch's start parameter). Every amount shown
// comes from the server; the client sends ids and quantities only.
import { h, toast, copyText } from '../dom.js';
import { t, when } from '../i18n.js';
import { api, post } from '../api.js';
import { store } from '../platform.js';
import { state, saveCart } from '../state.js';
import { pointPicker } from './menu.js';
import { methods } from './checkout.js';
import { payOnArrival } from './order.js';

const POLL = 3000;
const KEY = 'vitrina.group';  // the group this customer is choosing for: the cart leads back to it
const CODE = /^[A-Za-z0-9_-]{1,63}$/;
const LABELS = { counter: 'counter', yookassa: 'card', telegram: 'payTelegram' };

export const rememberedGroup = () => (CODE.test(store.get(KEY) || '') ? store.get(KEY) : '');

const copy = (text) => copyText(text, t('copied'));

function clearCart() {
  state.cart = { lines: [], promo: null, points: 0 };
  saveCart();
}

const fail = (e) => toast(e.message, true);

// --- opening ---------------------------------------------------------------------------------------------

async function opening(ctx) {
  ctx.title(t('groupNew'));
  let payer = 'organiser';
  // a card page needing a receipt e-mail is paid from the order screen of a normal checkout instead
  const offered = methods().filter((m) => m !== 'yookassa' || !state.cfg.receipt_email);
  let payment = offered[0];
  let pickupAt = null;
  let busy = false;
  const slots = await api('points/' + encodeURIComponent(state.point) + '/slots').catch(() => null);
  const slotSel = h('select', { 'data-testid': 'group-time', 'aria-label': t('when'),
    onchange: (e) => { pickupAt = e.target.value || null; } },
  h('option', { value: '' }, t('groupAsap')),
  ...(slots?.slots || []).map((at) => h('option', { value: at }, when(at))));
  const payBox = h('fieldset', { class: 'opts', 'data-testid': 'group-pay' }, h('legend', {}, t('payment')),
    offered.map((m) => h('label', { class: 'opt' },
      h('input', { type: 'radio', name: 'gpay', checked: m === payment, 'data-testid': 'group-pay-' + m,
        onchange: () => { payment = m; } }), h('span', {}, t(LABELS[m])))));
  const payerRadio = (value, label) => h('label', { class: 'opt' },
    h('input', { type: 'radio', name: 'payer', checked: value === payer, 'data-testid': 'payer-' + value,
      onchange: () => { payer = value; payBox.hidden = value !== 'organiser'; } }), h('span', {}, label));
  const open = async () => {
    if (busy) return;
    busy = true;
    try {
      const g = await post('groups', { point: state.point, lines: state.cart.lines, payer, payment: payer === 'each' ? 'counter' : payment,
        pickup_at: pickupAt });
      clearCart();
      store.set(KEY, g.code);
      ctx.go('#/group/' + encodeURIComponent(g.code), true);
    } catch (e) {
      busy = false;
      fail(e);
    }
  };
  const n = state.cart.lines.reduce((s, l) => s + l.quantity, 0);
  return h('div', { class: 'group' },
    h('p', { class: 'hint' }, t('groupHint', { m: state.cfg.group?.min_people ?? '', p: state.cfg.group?.percent ?? '' })),
    h('p', {}, n ? t('groupYourLines', { n }) : t('groupNoLines')),
    pointPicker({ refresh: () => ctx.refresh() }, 'group-point'),
    h('label', { class: 'field' }, h('span', {}, t('when')), slotSel),
    h('fieldset', { class: 'opts', 'data-testid': 'group-payer' }, h('legend', {}, t('groupPayer')),
      payerRadio('organiser', t('payerOrganiser')), payerRadio('each', t('payerEach'))),
    payBox,
    h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'group-open', onclick: open }, t('groupOpen')));
}

// --- the group, live -------------------------------------------------------------------------------------

const clock = (s) => Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');

function progress(g) {
  const vars = { n: g.joined, m: g.min_people, p: g.percent };
  if (g.status !== 'open') return g.reached ? t('groupGot', vars) : t('groupMissed', vars);
  return t(g.reached ? 'groupReached' : 'groupProgress', vars);
}

function members(g) {
  return h('ul', { class: 'lines', 'data-testid': 'group-members' }, g.members.map((m) => h('li', { class: 'line', 'data-testid': 'group-member' },
    h('div', { class: 'grow' },
      h('b', {}, m.name || t('groupGuest'), m.me ? ' (' + t('groupYou') + ')' : '', m.organiser ? ' · ' + t('groupOrganiser') : ''),
      ...m.lines.map((l) => h('small', {}, l.name + (l.options.length ? ' (' + l.options.join(', ') + ')' : '') + ' × ' + l.quantity))),
    m.total ? h('span', { class: 'price', 'data-testid': 'member-total' },
      m.discount?.amount ? h('s', { class: 'hint' }, m.subtotal.text) : null, ' ', m.total.text) : null)));
}

function actions(ctx, g, redraw) {
  const out = [];
  const cartLines = state.cart.lines;
  if (g.joinable) {
    if (cartLines.length) {
      out.push(h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'group-add', onclick: async (e) => {
        e.target.disabled = true;
        try {
          const next = await post('groups/' + encodeURIComponent(g.code) + '/lines', { lines: cartLines });
          clearCart();
          toast(t('groupAdded'));
          redraw(next);
        } catch (err) { e.target.disabled = false; fail(err); }
      } }, t(g.member ? 'groupReplace' : 'groupAdd')));
    } else {
      out.push(h('p', { class: 'hint' }, t(g.member ? 'groupChangeHint' : 'groupChooseHint')),
        h('a', { class: 'btn wide', href: '#/menu', 'data-testid': 'group-to-menu', onclick: () => store.set(KEY, g.code) }, t('toMenu')));
    }
  }
  if (g.organiser && g.status === 'open') {
    out.push(h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'group-close', disabled: !g.joined,
      onclick: async (e) => {
        e.target.disabled = true;
        try {
          const done = await post('groups/' + encodeURIComponent(g.code) + '/close');
          if (done.my_order && done.payment !== 'counter') payOnArrival(done.my_order);
          redraw(done);
        } catch (err) { e.target.disabled = false; fail(err); }
      } }, t('groupClose')),
    h('button', { type: 'button', class: 'link', 'data-testid': 'group-cancel', onclick: async () => {
      try { redraw(await post('groups/' + encodeURIComponent(g.code) + '/cancel')); } catch (err) { fail(err); }
    } }, t('groupCancel')));
  }
  if (g.my_order) {
    out.push(h('a', { class: 'btn primary wide', href: '#/order/' + encodeURIComponent(g.my_order), 'data-testid': 'group-my-order' },
      t('groupMyOrder')));
  }
  return out;
}

async function live(ctx, code) {
  ctx.title(t('group'));
  let g = await api('groups/' + encodeURIComponent(code));
  if (g.status === 'open') store.set(KEY, g.code);
  else if (store.get(KEY) === g.code) store.set(KEY, '');
  const link = new URL(g.link, location.href).href;
  const box = h('div');
  let deadline = Date.now() + g.seconds_left * 1000;
  const left = h('p', { class: 'hint', role: 'timer', 'data-testid': 'group-left' });
  const tick = () => {
    const s = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    left.textContent = g.joinable && s > 0 ? t('groupLeft', { t: clock(s) }) : g.status === 'open' ? t('groupTimeUp') : '';
  };
  const share = () => h('section', { class: 'panel' }, h('h2', {}, t('groupInvite')),
    h('input', { readonly: true, value: link, 'aria-label': t('groupInvite'), 'data-testid': 'group-link', onfocus: (e) => e.target.select() }),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn', 'data-testid': 'group-copy', onclick: () => copy(link) }, t('copy')),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'group-share', onclick: async () => {
        if (!await state.platform.share(link, t('groupShareText', { p: g.percent }))) copy(link);
      } }, t('share'))));
  const panel = share();
  let seen = '';
  const draw = (next) => {
    g = next;
    deadline = Date.now() + g.seconds_left * 1000;
    tick();
    const now = JSON.stringify({ ...g, seconds_left: 0, cart: state.cart.lines.length });
    if (now === seen) return;  // redrawn only when something changed: a tap or a selection is not lost
    seen = now;
    panel.hidden = !g.joinable;  // nobody more can join a group that is closed or past its window
    box.replaceChildren(
      h('p', { class: 'group-progress' + (g.reached ? ' reached' : ''), 'data-testid': 'group-progress', 'data-reached': String(g.reached) },
        progress(g)),
      h('p', { 'data-testid': 'group-status', 'data-status': g.status }, t('gst_' + g.status)),
      h('p', { class: 'hint' }, t('groupPickup', { point: g.point.name, t: g.pickup_at ? when(g.pickup_at) : t('groupAsap') }),
        ' · ', t(g.payer === 'each' ? 'groupEachPays' : 'groupOrganiserPays')),
      members(g),
      ...actions(ctx, g, draw),
      left,
      panel);
  };
  draw(g);
  const ticker = setInterval(tick, 1000);
  const poll = setInterval(async () => {
    if (!ctx.alive() || !['open', 'closed'].includes(g.status)) return;
    try { draw(await api('groups/' + encodeURIComponent(code))); } catch { /* the next poll tries again */ }
  }, POLL);
  ctx.onLeave(() => { clearInterval(ticker); clearInterval(poll); });
  return h('div', { class: 'group' }, box);
}

export async function render(ctx, code) {
  return code ? live(ctx, code) : opening(ctx);
}

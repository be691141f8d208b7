// Checkout: pickup point and time, promo code, points, payment method (and the receipt's e-mail); places the
// order, and an order paid online goes on to its payment from the order screen.
import { h, toast } from '../dom.js';
import { t, when, money } from '../i18n.js';
import { api, post } from '../api.js';
import { state, saveCart, quote, quoteBody } from '../state.js';
import { store } from '../platform.js';
import { pointPicker } from './menu.js';
import { totals, emptyCart, lineText } from './cart.js';
import { payOnArrival, awaitingPayment } from './order.js';
import { ensureConsent } from '../privacy.js';  // personal data

// The pickup times the point can serve, from the server (the rule that placing the order checks), so a
// time offered is never refused: {asap, opens_at, slots}. null when they could not be fetched.
const pickupTimes = (point) => api('points/' + encodeURIComponent(point) + '/slots').catch(() => null);
const REFRESH = 60000;  // the earliest time moves on while the customer chooses

// Where the platform asks (VK), ask once, after the first order, whether the shop may message the customer
// ("your order is ready"), and tell the server the answer. Never holds up the order.
async function askMessages() {
  if (store.get('vitrina.messages')) return;
  const allowed = await state.platform.allowMessages(state.cfg.channels?.[state.platform.kind]?.group_id);
  if (allowed === null) return;
  await post('me/messages', { allowed });
  store.set('vitrina.messages', allowed ? 'allowed' : 'refused');
}

// The methods this customer can pay with here, in /api/config's order: the counter always, a card online
// everywhere, Telegram's invoices only inside Telegram where the client can open one; Stars never for a cart.
const LABELS = { counter: 'counter', yookassa: 'card', telegram: 'payTelegram' };
export function methods() {
  const configured = (state.cfg.payments || []).filter((m) => m !== 'counter');
  return ['counter', ...configured].filter((m) => LABELS[m] && (m !== 'telegram' || state.platform.openInvoice));
}
// The customer's choice stays for the next order; with one method there is nothing to choose.
function chosen(offered) {
  const last = store.get('vitrina.pay');
  return offered.length === 1 ? offered[0] : offered.includes(last) ? last : null;
}
export const EMAIL = /^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$/;  // the server's rule (OrderBody.email)
// Telegram asks for the receipt's e-mail in its own invoice; a card page needs it from us. A method the
// server asked an e-mail for (email_required) needs it too.
const emailAsked = new Set();
const needsEmail = (method) => (Boolean(state.cfg.receipt_email) && method === 'yookassa') || emailAsked.has(method);

const uid = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));

export async function render(ctx) {
  ctx.title(t('checkout'));
  if (!state.cart.lines.length) return emptyCart(ctx);
  let requestId = uid();
  const offered = methods();
  let payment = chosen(offered);
  let q;
  let busy = false;
  let pickupAt = null;
  state.cart.points = 0;
  const linesBox = h('ul', { class: 'lines compact' });
  const totalsBox = h('div');
  const pointsBox = h('div');
  const promoMsg = h('p', { class: 'hint', role: 'status', 'data-testid': 'promo-message' });
  const promo = h('input', { id: 'promo', value: state.cart.promo || '', autocomplete: 'off', autocapitalize: 'characters',
    'data-testid': 'promo-input', enterkeyhint: 'done' });
  const slotSel = h('select', { 'aria-label': t('later'), 'data-testid': 'time-select', disabled: true,
    onchange: (e) => { pickupAt = e.target.value; } });
  const whenBox = h('fieldset', { class: 'opts', 'data-testid': 'when' });
  let times = null;
  let chooseLater = false;
  const whenRadio = (value, label) => h('label', { class: 'opt' },
    h('input', { type: 'radio', name: 'when', checked: value === chooseLater, 'data-testid': 'when-' + (value ? 'later' : 'asap'),
      onchange: () => { chooseLater = value; slotSel.disabled = !value; pickupAt = value ? slotSel.value || null : null; } }),
    h('span', {}, label));
  // As soon as possible when the point can serve it now; else a word on when it opens and its times.
  const drawWhen = () => {
    const slots = times?.slots || [];
    const asap = !times || Boolean(times.asap);  // unknown: the server decides when the order is placed
    const kept = slotSel.value;
    slotSel.replaceChildren(...slots.map((at) => h('option', { value: at, selected: at === kept }, when(at))));
    if (!asap) chooseLater = true;
    if (!slots.length) chooseLater = false;
    slotSel.disabled = !chooseLater;
    pickupAt = chooseLater ? slotSel.value || null : null;
    whenBox.replaceChildren(h('legend', {}, t('when')),
      asap ? whenRadio(false, t('asap')) : h('p', { class: 'hint closed-note', role: 'status', 'data-testid': 'point-closed' },
        times.opens_at ? t('opensAt', { t: when(times.opens_at) }) : t('closedNow')),
      slots.length ? h('div', { class: 'later' }, asap ? whenRadio(true, t('later')) : h('span', {}, t('later')), slotSel) : null);
  };
  const loadTimes = async () => {
    const point = state.point;
    const found = await pickupTimes(point);
    if (point !== state.point || !ctx.alive()) return;
    times = found;
    drawWhen();
  };
  const timer = setInterval(loadTimes, REFRESH);
  ctx.onLeave(() => clearInterval(timer));

  const button = () => (payment
    ? ctx.main(t(payment === 'counter' ? 'place' : 'pay') + ' · ' + q.total.text, place, busy)
    : ctx.main(t('choosePay'), place, true));

  const email = h('input', { type: 'email', id: 'email', name: 'email', autocomplete: 'email', inputmode: 'email',
    maxlength: 254, value: store.get('vitrina.email') || '', 'aria-describedby': 'email-error', 'data-testid': 'email',
    oninput: () => { emailMsg.hidden = true; email.removeAttribute('aria-invalid'); } });
  const emailMsg = h('p', { class: 'hint error', id: 'email-error', role: 'alert', hidden: true, 'data-testid': 'email-error' });
  const emailBox = h('div', { class: 'field', hidden: !needsEmail(payment), 'data-testid': 'email-field' },
    h('label', { for: 'email' }, t('email')), email, emailMsg);
  const emailWrong = (text) => {
    emailBox.hidden = false;
    emailMsg.textContent = text;
    emailMsg.hidden = false;
    email.setAttribute('aria-invalid', 'true');
    email.focus({ preventScroll: true });
    emailBox.scrollIntoView({ block: 'center' });  // its message too, above the main button
  };
  const payRadio = (m) => h('label', { class: 'opt' },
    h('input', { type: 'radio', name: 'pay', value: m, checked: m === payment, 'data-testid': 'pay-' + m,
      onchange: () => { payment = m; emailBox.hidden = !needsEmail(m); button(); } }),
    h('span', {}, t(LABELS[m])));

  async function requote() {
    try {
      q = await quote();
    } catch (e) {
      if (!state.cart.promo || !/^promo/.test(e.code)) throw e;
      promoMsg.textContent = e.message;
      promoMsg.className = 'hint error';
      state.cart.promo = null;
      saveCart();
      q = await quote();
    }
    linesBox.replaceChildren(...q.lines.map((l) => h('li', { class: 'line' },
      h('div', { class: 'grow' }, ...lineText(l)), h('span', {}, '× ' + l.quantity), h('span', { class: 'price' }, l.total.text))));
    totalsBox.replaceChildren(totals(q));
    const available = Math.min(q.points_cap || 0, q.balance || 0);
    pointsBox.replaceChildren(available > 0 ? h('label', { class: 'check' },
      h('input', { type: 'checkbox', checked: state.cart.points > 0, 'data-testid': 'use-points',
        onchange: (e) => { state.cart.points = e.target.checked ? available : 0; requote().catch(fail); } }),
      h('span', {}, t('usePoints', { n: money(available, q.total.currency) }))) : '');
    button();
  }
  const fail = (e) => toast(e.message, true);

  async function place() {
    if (busy || !payment) return;
    const receipt = needsEmail(payment) ? email.value.trim() : null;
    if (receipt !== null && !EMAIL.test(receipt)) return emailWrong(t(receipt ? 'emailBad' : 'emailNeeded'));
    busy = true;
    button();
    if (!await ensureConsent()) {  // personal data: consent first; "not now" leaves the checkout as it was
      busy = false;
      if (ctx.alive()) button();
      return;
    }
    try {
      const start = /^[A-Za-z0-9_-]{1,64}$/.test(state.platform.start || '') ? state.platform.start : null;
      const o = await post('orders', { ...quoteBody(), pickup_at: pickupAt, payment, request_id: requestId, start,
        email: receipt });
      store.set('vitrina.pay', payment);
      if (receipt) store.set('vitrina.email', receipt);
      state.cart = { lines: [], promo: null, points: 0 };
      state.menus = {};
      saveCart();
      askMessages().catch(() => {});  // a lost answer is asked again after the next order
      if (awaitingPayment(o)) payOnArrival(o.id);  // the order screen opens the payment and follows it
      ctx.go('#/order/' + encodeURIComponent(o.id), true);
    } catch (e) {
      busy = false;
      // a refusal wrote nothing (or cancelled the order, for a provider's): the next press is a new order;
      // after a lost answer the same id finds the order the server may have placed
      if (e.status) requestId = uid();
      if (e.code === 'out_of_stock') state.menus = {};
      if (e.code === 'bad_pickup_time' || e.code === 'point_closed') loadTimes();
      if (e.code === 'email_required') {
        emailAsked.add(payment);
        emailWrong(e.message);
      }
      else fail(e);
      if (ctx.alive()) button();
    }
  }

  await requote();
  times = await pickupTimes(state.point);
  drawWhen();
  const applyPromo = async () => {
    state.cart.promo = promo.value.trim() || null;
    promoMsg.textContent = '';
    promoMsg.className = 'hint';
    await requote().catch(fail);
    if (state.cart.promo && q.promo) promoMsg.textContent = '✓ ' + q.promo;
    saveCart();
  };
  return h('form', { class: 'checkout', onsubmit: (e) => { e.preventDefault(); applyPromo(); } },
    linesBox,
    pointPicker({ refresh: () => { loadTimes(); requote().catch(fail); } }, 'checkout-point'),
    whenBox,
    h('div', { class: 'field' }, h('label', { for: 'promo' }, t('promo')),
      h('div', { class: 'row' }, promo, h('button', { type: 'submit', class: 'btn', 'data-testid': 'promo-apply' }, t('apply')))),
    promoMsg,
    pointsBox,
    h('fieldset', { class: 'opts', 'data-testid': 'pay-methods' }, h('legend', {}, t('payment')), offered.map(payRadio)),
    emailBox,
    totalsBox);
}

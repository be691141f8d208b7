// My orders, newest first, each with "Repeat" (its cart again, what is still on the menu); an order whose
// online payment is not made yet says so.
import { h, toast } from '../dom.js';
import { t, date } from '../i18n.js';
import { api, post } from '../api.js';
import { state, saveCart, setPoint } from '../state.js';
import { awaitingPayment } from './order.js';

async function repeat(ctx, o) {
  try {
    const r = await post('orders/' + encodeURIComponent(o.id) + '/repeat');
    if (!r.lines.length) return toast(t('skipped', { n: r.skipped }), true);
    if (o.point?.id && state.points.some((p) => p.id === o.point.id)) setPoint(o.point.id);
    state.cart.lines = r.lines;
    saveCart();
    toast(r.skipped ? t('skipped', { n: r.skipped }) : t('repeated'));
    ctx.go('#/cart');
  } catch (e) { toast(e.message, true); }
}

export async function render(ctx) {
  ctx.title(t('orders'));
  const { orders } = await api('orders');
  if (!orders.length) {
    return h('div', { class: 'empty' }, h('p', {}, t('noOrders')), h('a', { class: 'btn', href: '#/menu' }, t('toMenu')));
  }
  return h('ul', { class: 'orders' }, orders.map((o) => h('li', { class: 'card order-row', 'data-testid': 'order-row' },
    h('a', { href: '#/order/' + encodeURIComponent(o.id), class: 'grow' },
      h('b', {}, t('order', { n: o.number || o.short_code })), ' ',
      h('span', { class: 'status s-' + o.status }, t('st_' + o.status)),
      awaitingPayment(o) ? [' ', h('span', { class: 'badge unpaid', 'data-testid': 'order-unpaid' }, t('waitingPay'))] : null,
      h('br'),
      h('small', {}, date(o.created_at) + ' · ' + o.lines.map((l) => l.name + (l.quantity > 1 ? ' ×' + l.quantity : '')).join(', '))),
    h('span', { class: 'price' }, o.total.text),
    h('button', { type: 'button', class: 'btn small', 'data-testid': 'repeat', onclick: () => repeat(ctx, o) }, t('repeat')))));
}

// Staff: scan or type a pickup code, see the order, hand it over; open orders of a point to accept and mark ready.
import { h, select, field, toast } from '../dom.js';
import { t, time } from '../i18n.js';
import { api, post } from '../api.js';
import { state } from '../state.js';
import { store } from '../platform.js';
import { lineText } from './cart.js';

const NEXT = { placed: ['accept', 'accept'], accepted: ['ready', 'ready'] };

export async function render(ctx) {
  ctx.title(t('staff'));
  const me = state.me;
  if (!me?.is_staff) throw new Error(t('notFound'));
  const allowed = me.staff_points || [];
  const points = state.points.filter((p) => allowed.includes('*') || allowed.includes(p.id));
  let point = store.get('vitrina.staffpoint');
  if (!points.some((p) => p.id === point)) point = points.some((p) => p.id === state.point) ? state.point : points[0]?.id;
  const result = h('div', { 'aria-live': 'polite', 'data-testid': 'staff-result' });
  const list = h('ul', { class: 'orders' });
  const input = h('input', { id: 'code', placeholder: t('typeCode'), inputmode: 'numeric', autocomplete: 'off', maxlength: 12, 'data-testid': 'staff-code' });

  const act = (label, fn, testid) => h('button', { type: 'button', class: 'btn primary wide', 'data-testid': testid, onclick: async (e) => {
    e.target.disabled = true;
    try { await fn(); } catch (err) { toast(err.message, true); e.target.disabled = false; }
  } }, label);

  const step = (o, after) => NEXT[o.status] ? act(t(NEXT[o.status][0]), async () => {
    await post('staff/orders/' + encodeURIComponent(o.id) + '/' + NEXT[o.status][1]);
    await after();
  }, 'staff-' + NEXT[o.status][1]) : null;

  function show(o, key) {
    const lookup = async () => show(await post('staff/lookup', key), key);
    result.replaceChildren(h('article', { class: 'card panel', 'data-testid': 'staff-order' },
      h('h2', {}, t('order', { n: o.number || o.short_code }), ' ',
        h('span', { class: 'status s-' + o.status, 'data-testid': 'staff-status' }, t('st_' + o.status))),
      o.customer?.name ? h('p', {}, t('customer') + ': ', h('b', {}, o.customer.name)) : null,
      h('ul', { class: 'lines compact' }, o.lines.map((l) => h('li', { class: 'line' },
        h('div', { class: 'grow' }, ...lineText(l)), h('span', {}, '× ' + l.quantity)))),
      h('p', { class: 'sum grand' }, h('span', {}, t(o.payment?.provider === 'counter' && o.payment.status === 'pending' ? 'counter' : 'total')),
        h('span', {}, o.total.text)),
      o.status === 'ready' ? act(t('handOver'), async () => {
        const done = await post('staff/handover', key);
        toast(t('handedOver'));
        show(done, key);
        input.value = '';
        refresh();
      }, 'staff-handover') : step(o, lookup)));
  }

  async function find(key) {
    try { show(await post('staff/lookup', key), key); } catch (e) {
      result.replaceChildren(h('p', { class: 'hint error', role: 'alert' }, e.message));
    }
  }

  async function refresh() {
    if (!point || !ctx.alive() || document.hidden) return;
    try {
      const { orders } = await api('staff/orders?point=' + encodeURIComponent(point));
      list.replaceChildren(...(orders.length ? orders.map((o) => h('li', { class: 'card order-row', 'data-testid': 'staff-row' },
        h('div', { class: 'grow' }, h('b', {}, '№ ' + (o.short_code || o.number)), ' ',
          h('span', { class: 'status s-' + o.status }, t('st_' + o.status)), ' ', h('small', {}, time(o.pickup_at)), h('br'),
          h('small', {}, o.lines.map((l) => l.name + (l.options?.length ? ' (' + l.options.join(', ') + ')' : '') + ' ×' + l.quantity).join('; '))),
        step(o, refresh))) : [h('li', { class: 'hint' }, t('noOpen'))]));
    } catch (e) { list.replaceChildren(h('li', { class: 'hint error' }, e.message)); }
  }

  const timer = setInterval(refresh, 5000);
  ctx.onLeave(() => clearInterval(timer));
  await refresh();
  const scan = state.platform.scan;
  return h('div', { class: 'staff' },
    points.length > 1 ? field(t('point'), select(points, point, (id) => {
      point = id;
      store.set('vitrina.staffpoint', id);
      refresh();
    }, { 'data-testid': 'staff-point' })) : null,
    scan ? h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'staff-scan', onclick: async () => {
      const text = (await scan(t('scan')))?.trim();
      if (text) find(/^\d{1,12}$/.test(text) ? { code: text, point } : { token: text });
    } }, t('scan')) : null,
    h('form', { class: 'row', onsubmit: (e) => {
      e.preventDefault();
      if (input.value.trim()) find({ code: input.value.trim(), point });
    } }, h('label', { for: 'code', class: 'sr' }, t('typeCode')), h('span', { class: 'grow' }, input),
      h('button', { type: 'submit', class: 'btn', 'data-testid': 'staff-find' }, t('find'))),
    result,
    h('h2', {}, t('openOrders')),
    list);
}

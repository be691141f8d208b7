// Staff: the orders board of a point (table, pickup time, lateness; accept, ready, hand over, cancel) and the
// counter: scan or type a pickup code, see the order, hand it over.
import { h, fill, select, field, toast } from '../dom.js';
import { t, time } from '../i18n.js';
import { api, post } from '../api.js';
import { state } from '../state.js';
import { store } from '../platform.js';
import { lineText } from './cart.js';

const NEXT = { placed: 'accept', accepted: 'ready' };
const CANCELLABLE = ['placed', 'accepted'];
const orderPath = (o, step) => 'staff/orders/' + encodeURIComponent(o.id) + '/' + step;

// A button that is disabled while its request runs and says what went wrong.
const act = (label, fn, testid, cls = 'btn primary') => h('button', { type: 'button', class: cls, 'data-testid': testid,
  onclick: async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try { await fn(); } catch (err) { toast(err.message, true); button.disabled = false; }
  } }, label);

// How an order is paid, so staff know whether to take money: at the counter, paid online, or held on the
// card until the hand-over (captured then).
const PAID_AS = { pending: 'payAwaiting', authorized: 'payHeld', captured: 'payOnline', refunded: 'payReturned' };
const paidAs = (o) => (o.payment?.provider === 'counter' && o.payment.status !== 'refunded' ? 'payCounter'
  : PAID_AS[o.payment?.status] || '');

// Status, table, lateness and payment: what staff look for first.
const badges = (o, statusId) => [
  h('span', { class: 'status s-' + o.status, 'data-testid': statusId }, t('st_' + o.status)),
  paidAs(o) ? h('span', { class: 'badge pay ' + paidAs(o), 'data-testid': 'staff-pay', 'data-pay': paidAs(o) },
    t(paidAs(o))) : null,
  o.table ? h('span', { class: 'badge table', 'data-testid': 'staff-table' }, t('table', { n: o.table })) : null,
  o.late_minutes > 0 ? h('span', { class: 'badge late', 'data-testid': 'staff-late' }, t('late', { n: o.late_minutes })) : null];


export async function render(ctx) {
  ctx.title(t('staff'));
  const me = state.me;
  if (!me?.is_staff) throw new Error(t('notFound'));
  const allowed = me.staff_points || [];
  const points = state.points.filter((p) => allowed.includes('*') || allowed.includes(p.id));
  let point = store.get('vitrina.staffpoint');
  if (!points.some((p) => p.id === point)) point = points.some((p) => p.id === state.point) ? state.point : points[0]?.id;
  const result = h('div', { 'aria-live': 'polite', 'data-testid': 'staff-result' });
  const list = h('ul', { class: 'orders board' });
  const input = h('input', { id: 'code', placeholder: t('typeCode'), inputmode: 'numeric', autocomplete: 'off', maxlength: 12, 'data-testid': 'staff-code' });
  const asking = new Set();  // rows with a question open (cancel? which code?): the board waits for them

  function show(o, key) {
    const lookup = async () => show(await post('staff/lookup', key), key);
    const next = NEXT[o.status];
    result.replaceChildren(h('article', { class: 'card panel', 'data-testid': 'staff-order' },
      h('h2', {}, t('order', { n: o.number || o.short_code })),
      h('div', { class: 'board-head' }, badges(o, 'staff-status')),
      h('p', { class: 'board-meta' }, [t('byTime', { t: time(o.pickup_at) }), o.customer?.name].filter(Boolean).join(' · ')),
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
      }, 'staff-handover', 'btn primary wide') : next ? act(t(next), async () => {
        await post(orderPath(o, next));
        await lookup();
      }, 'staff-' + next, 'btn primary wide') : null));
  }

  async function find(key) {
    try { show(await post('staff/lookup', key), key); } catch (e) {
      result.replaceChildren(h('p', { class: 'hint error', role: 'alert' }, e.message));
    }
  }

  // One order of the board: its text above, its next steps below on their own line (never squeezed beside).
  function row(o) {
    const actions = h('div', { class: 'board-actions', 'data-testid': 'staff-actions' });
    const done = async (message) => {
      asking.delete(o.id);
      if (message) toast(message);
      await refresh();
    };
    const steps = () => {
      asking.delete(o.id);
      fill(actions,
        NEXT[o.status] ? act(t(NEXT[o.status]), async () => { await post(orderPath(o, NEXT[o.status])); await done(); },
          'staff-' + NEXT[o.status]) : null,
        o.status === 'ready' ? h('button', { type: 'button', class: 'btn primary', 'data-testid': 'staff-give', onclick: give },
          t('handOver')) : null,
        CANCELLABLE.includes(o.status) ? h('button', { type: 'button', class: 'btn', 'data-testid': 'staff-cancel', onclick: ask },
          t('staffCancel')) : null);
    };
    // hand over: the customer's code is typed, so the order goes to the one who shows it
    function give() {
      asking.add(o.id);
      const code = h('input', { inputmode: 'numeric', autocomplete: 'off', maxlength: 12, 'aria-label': t('codeAsk'),
        placeholder: t('codeAsk'), 'data-testid': 'staff-give-code' });
      const said = h('p', { class: 'hint error', role: 'alert', hidden: true });
      actions.replaceChildren(h('form', { class: 'board-give', onsubmit: async (e) => {
        e.preventDefault();
        const key = { code: code.value.trim(), point: o.point.id };
        try {
          const found = await post('staff/lookup', key);
          if (found.id !== o.id) throw new Error(t('wrongCode', { n: found.short_code }));
          await post('staff/handover', key);
          await done(t('handedOver'));
        } catch (err) { said.textContent = err.message; said.hidden = false; }
      } }, code, h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'staff-give-ok' }, t('handOver')),
      h('button', { type: 'button', class: 'btn', onclick: steps }, t('back')), said));
      code.focus();
    }
    function ask() {
      asking.add(o.id);
      actions.replaceChildren(h('p', { class: 'board-ask' }, t('cancelAsk', { n: o.short_code })),
        act(t('cancelYes'), async () => { await post('orders/' + encodeURIComponent(o.id) + '/cancel'); await done(t('cancelled')); },
          'staff-cancel-yes', 'btn danger-btn'),
        h('button', { type: 'button', class: 'btn', 'data-testid': 'staff-cancel-no', onclick: steps }, t('keep')));
    }
    steps();
    return h('li', { class: 'card board-row' + (o.late_minutes > 0 ? ' is-late' : ''), 'data-testid': 'staff-row',
      'data-status': o.status },
    h('div', { class: 'board-text', 'data-testid': 'staff-text' },
      h('div', { class: 'board-head' }, h('b', { class: 'board-code' }, '№ ' + (o.short_code || o.number)), badges(o, 'staff-row-status')),
      h('p', { class: 'board-meta' }, [t('byTime', { t: time(o.pickup_at) }), o.customer?.name, o.total.text]
        .filter(Boolean).join(' · ')),
      h('p', { class: 'board-lines' }, o.lines.map((l) => l.name + (l.options?.length ? ' (' + l.options.join(', ') + ')' : '')
        + ' × ' + l.quantity).join('; '))),
    actions);
  }

  let pages = 1;  // the board comes a page at a time; "more" shows one page more, and each refresh reads them all
  async function refresh() {
    if (!point || !ctx.alive() || document.hidden || asking.size) return;
    try {
      const orders = [];
      let next = null;
      for (let shown = 0; shown < pages && (shown === 0 || next); shown++) {
        const page = await api('staff/orders?point=' + encodeURIComponent(point)
          + (next ? '&after=' + encodeURIComponent(next) : ''));
        orders.push(...page.orders);
        next = page.next;
      }
      if (asking.size) return;  // a question was opened while the board was asked for
      const more = next ? h('li', {}, h('button', { type: 'button', class: 'btn wide', 'data-testid': 'staff-more',
        onclick: () => { pages += 1; refresh(); } }, t('more'))) : null;
      list.replaceChildren(...(orders.length ? orders.map(row) : [h('li', { class: 'hint' }, t('noOpen'))]),
        ...(more ? [more] : []));
    } catch (e) { list.replaceChildren(h('li', { class: 'hint error' }, e.message)); }
  }

  const timer = setInterval(refresh, 5000);
  ctx.onLeave(() => clearInterval(timer));
  await refresh();
  const scan = state.platform.scan;
  return h('div', { class: 'staff' },
    points.length > 1 ? field(t('point'), select(points, point, (id) => {
      point = id;
      pages = 1;
      store.set('vitrina.staffpoint', id);
      asking.clear();
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

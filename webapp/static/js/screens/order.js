// One order: live status timeline (polled every 3 s while open), its payment (an online one opened and
// followed until paid), the pickup QR and the short code (once paid, or at once when paid at the counter).
import { h, fill, toast } from '../dom.js';
import { t, time, date } from '../i18n.js';
import { api, post } from '../api.js';
import { state } from '../state.js';
import { webUrl } from '../platform.js';
import { lineText, totals } from './cart.js';
import { sharePanel } from './share.js';  // sharing

const STEPS = ['placed', 'accepted', 'ready', 'picked_up'];
export const OPEN = ['placed', 'accepted', 'ready'];
const PAID = ['authorized', 'captured'];
const FAST = 3000;  // ms between polls of an open order
const SLOWEST = 20000;  // a payment nobody finishes is asked about less and less often ...
const GIVE_UP = 5 * 60000;  // ... and not at all after this long without a change, until "Refresh"

// An open order whose online payment the customer has not made yet: not the staff's, no pickup code.
export const awaitingPayment = (o) =>
  OPEN.includes(o.status) && !!o.payment && o.payment.provider !== 'counter' && o.payment.status === 'pending';
const canPickUp = (o) => OPEN.includes(o.status) && (o.payment?.provider === 'counter' || PAID.includes(o.payment?.status));

// The checkout hands a just-placed order paid online to this screen, which opens its payment once.
let payNext = '';
export const payOnArrival = (id) => { payNext = id; };

// Open where the order is paid: Telegram's invoice ('paid', 'cancelled', 'failed', 'pending' come back)
// or the payment page with the platform's link opener (null: the page follows by polling).
async function openPayment(o) {
  const p = o.payment || {};
  if (p.invoice_link && state.platform.openInvoice) return state.platform.openInvoice(p.invoice_link);
  if (webUrl(p.confirmation_url)) state.platform.openLink(p.confirmation_url);
  return null;
}

const INVOICE_NOTES = { paid: 'payChecking', cancelled: 'payNotDone', failed: 'payFailed', pending: 'payProcessing' };

// How the order is paid, in the customer's words.
function paymentLine(o, note, stopped, pay, refresh) {
  const p = o.payment || {};
  const box = (cls, ...children) => h('div', { class: 'payment ' + cls, 'data-testid': 'payment',
    'data-status': p.status || '', role: 'status' }, ...children);
  const back = p.refunded ? t('refunded', { n: p.refunded.text }) : '';
  if (p.provider === 'counter' && !p.refunded) return box('hint', t('counter'));
  if (awaitingPayment(o)) {
    // once Telegram said paid (or processing), the money is on its way: nothing to pay again
    const done = note === 'payChecking' || note === 'payProcessing';
    const link = !done && (p.confirmation_url || (state.platform.openInvoice && p.invoice_link));
    return box('panel waiting',
      h('p', { class: 'pay-title' }, h('b', {}, t('awaitingPay'))),
      note ? h('p', { class: 'hint', 'data-testid': 'payment-note' }, t(note)) : null,
      stopped ? h('p', { class: 'hint' }, t('payStopped')) : null,
      h('div', { class: 'pay-actions' },
        link ? h('button', { type: 'button', class: 'btn primary', 'data-testid': 'pay-again', onclick: pay }, t('pay')) : null,
        stopped ? h('button', { type: 'button', class: 'btn', 'data-testid': 'payment-refresh', onclick: refresh },
          t('refresh')) : null));
  }
  if (p.status === 'refunded') return box('hint', t('refunded', { n: (p.refunded || o.total).text }));
  if (p.status === 'captured') return box('ok', t('paid'), back ? ' · ' + back : '');
  if (p.status === 'authorized') return box('ok', t('paidHeld'));
  if (p.status === 'failed') return box('hint', t('payFailed'));
  if (p.status === 'voided') return box('hint', t('payVoided'));
  const method = t('m_' + p.provider);
  return box('hint', t('payment') + ': ' + (method.startsWith('m_') ? p.provider || '' : method));
}

function timeline(o) {
  const at = Object.fromEntries((o.history || []).map((x) => [x.status, x.at]));
  const steps = OPEN.includes(o.status) || o.status === 'picked_up' ? STEPS : ['placed', o.status];
  const reached = steps.indexOf(o.status);
  return h('ol', { class: 'timeline', 'data-testid': 'timeline' }, steps.map((s, i) =>
    h('li', { class: i < reached ? 'done' : i === reached ? 'now' : '', 'aria-current': i === reached ? 'step' : null },
      h('span', {}, t(i === reached ? 'st_' + s : 'ph_' + s)), at[s] ? h('small', {}, time(at[s])) : null)));
}

function reviewForm(o, line) {
  const box = h('div', { class: 'rate' });
  const open = () => {
    let rating = 5;
    const text = h('textarea', { rows: 2, maxlength: 1000, 'aria-label': t('yourReview'), 'data-testid': 'review-text' });
    box.replaceChildren(h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await post('orders/' + encodeURIComponent(o.id) + '/reviews', { item: line.item, rating, text: text.value.trim() });
          box.replaceChildren(h('p', { class: 'hint' }, t('thanks')));
        } catch (err) { toast(err.message, true); }
      },
    }, h('fieldset', { class: 'starpick' }, h('legend', {}, line.name),
      [1, 2, 3, 4, 5].map((n) => h('label', {}, h('input', { type: 'radio', name: 'r-' + line.item, value: n, checked: n === 5,
        'aria-label': t('stars', { n }), onchange: () => { rating = n; } }), h('span', { 'aria-hidden': 'true' }, '★')))),
    text, h('button', { type: 'submit', class: 'btn' }, t('send'))));
  };
  box.append(h('button', { type: 'button', class: 'link', 'data-testid': 'rate-' + line.item, onclick: open },
    t('rate') + ': ' + line.name));
  return box;
}

export async function render(ctx, id) {
  const path = 'orders/' + encodeURIComponent(id);
  let o = await api(path);
  let note = '';  // what Telegram's invoice said last
  let stopped = false;  // polling of an unpaid order gave up: "Refresh" asks again
  const root = h('div', { class: 'order' });
  const qrImg = h('img', { class: 'qr', alt: t('code'), width: 220, height: 220, 'data-testid': 'qr' });
  let qrUrl = '';
  ctx.onLeave(() => qrUrl && URL.revokeObjectURL(qrUrl));
  const loadQr = async () => {
    if (qrUrl) return;
    try {
      const blob = await (await api(o.qr || path + '/qr.svg', { raw: true })).blob();
      qrUrl = URL.createObjectURL(blob);
      qrImg.src = qrUrl;
    } catch { qrImg.hidden = true; }
  };
  const draw = () => {
    ctx.title(t('order', { n: o.number || o.short_code }));
    const open = OPEN.includes(o.status);
    const reviewed = o.status === 'picked_up' ? [...new Map(o.lines.map((l) => [l.item, l])).values()] : [];
    fill(root,
      h('p', { class: 'status s-' + o.status, 'data-testid': 'order-status', 'data-status': o.status }, t('st_' + o.status)),
      canPickUp(o) ? h('div', { class: 'pickup' },
        qrImg,
        h('p', { class: 'hint' }, t('showCode')),
        h('p', { class: 'code' }, h('small', {}, t('code')), h('strong', { 'data-testid': 'short-code' }, o.short_code)))
        : open ? h('p', { class: 'hint pickup-later', 'data-testid': 'code-after-pay' }, t('codeAfterPay')) : null,
      paymentLine(o, note, stopped, pay, () => poll(true)),
      timeline(o),
      h('p', { class: 'where' }, h('b', {}, o.point?.name || ''), h('br'), o.point?.address || '', h('br'),
        t('pickupAt') + ': ' + date(o.pickup_at)),
      h('ul', { class: 'lines compact' }, o.lines.map((l) => h('li', { class: 'line' },
        h('div', { class: 'grow' }, ...lineText(l)), h('span', {}, '× ' + l.quantity), h('span', { class: 'price' }, l.total.text)))),
      totals(o),
      reviewed.map((l) => reviewForm(o, l)),
      OPEN.includes(o.status) || o.status === 'picked_up' ? sharePanel(o) : null,  // sharing
      o.status === 'placed' ? h('button', { type: 'button', class: 'link danger', 'data-testid': 'cancel-order',
        onclick: async () => {
          try { o = await post(path + '/cancel'); draw(); toast(t('cancelled')); } catch (e) { toast(e.message, true); }
        } }, t('cancel')) : null);
  };
  // What the screen shows of an order; a poll that finds the same redraws nothing.
  const shown = (x) => JSON.stringify([x.status, (x.history || []).length, x.payment?.status, x.payment?.refunded?.amount,
    !!(x.payment?.confirmation_url || x.payment?.invoice_link)]);

  // Polling: every 3 s while the order is open; an unpaid one backs off to 20 s and stops after 5 minutes
  // without a change (a "Refresh" button then). A hidden page asks nothing and asks at once when shown.
  let timer = 0;
  let delay = FAST;
  let since = Date.now();
  const schedule = () => {
    clearTimeout(timer);
    if (ctx.alive() && OPEN.includes(o.status) && !stopped && !document.hidden) timer = setTimeout(() => poll(), delay);
  };
  async function poll(fresh) {
    clearTimeout(timer);
    if (!ctx.alive()) return;
    if (fresh) { delay = FAST; since = Date.now(); if (stopped) { stopped = false; draw(); } }
    try {
      const next = await api(path);
      if (!ctx.alive()) return;
      const changed = shown(next) !== shown(o);
      o = next;
      if (changed) {
        delay = FAST;
        since = Date.now();
        if (!awaitingPayment(o)) note = '';
        draw();
        if (canPickUp(o)) loadQr();
      } else if (awaitingPayment(o)) delay = Math.min(delay * 1.5, SLOWEST);
    } catch {
      delay = Math.min(delay * 2, SLOWEST);  // the network: try again, less often
    }
    if (!ctx.alive()) return;
    if (awaitingPayment(o) && Date.now() - since > GIVE_UP) { stopped = true; draw(); return; }
    schedule();
  }
  const visible = () => { if (!document.hidden && OPEN.includes(o.status)) poll(true); };
  document.addEventListener('visibilitychange', visible);
  ctx.onLeave(() => { clearTimeout(timer); document.removeEventListener('visibilitychange', visible); });

  // Pay (again): Telegram's invoice says how it went; a page is followed by polling, sooner after a return.
  async function pay() {
    const said = await openPayment(o);
    if (!ctx.alive()) return;
    if (said) { note = INVOICE_NOTES[said] || ''; draw(); }
    poll(true);
  }

  draw();
  if (canPickUp(o)) loadQr();
  if (payNext === o.id) {
    payNext = '';
    if (awaitingPayment(o)) pay();
  }
  schedule();
  return root;
}

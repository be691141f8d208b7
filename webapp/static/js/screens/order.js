// One order: live status timeline (polled every 3 s while open), the pickup QR and the short code.
import { h, fill, toast } from '../dom.js';
import { t, time, date } from '../i18n.js';
import { api, post } from '../api.js';
import { lineText, totals } from './cart.js';

const STEPS = ['placed', 'accepted', 'ready', 'picked_up'];
export const OPEN = ['placed', 'accepted', 'ready'];

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
  const root = h('div', { class: 'order' });
  const qrImg = h('img', { class: 'qr', alt: t('code'), width: 220, height: 220, 'data-testid': 'qr' });
  let qrUrl = '';
  ctx.onLeave(() => qrUrl && URL.revokeObjectURL(qrUrl));
  const loadQr = async () => {
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
      open ? h('div', { class: 'pickup' },
        qrImg,
        h('p', { class: 'hint' }, t('showCode')),
        h('p', { class: 'code' }, h('small', {}, t('code')), h('strong', { 'data-testid': 'short-code' }, o.short_code))) : null,
      timeline(o),
      h('p', { class: 'where' }, h('b', {}, o.point?.name || ''), h('br'), o.point?.address || '', h('br'),
        t('pickupAt') + ': ' + date(o.pickup_at)),
      h('ul', { class: 'lines compact' }, o.lines.map((l) => h('li', { class: 'line' },
        h('div', { class: 'grow' }, ...lineText(l)), h('span', {}, '× ' + l.quantity), h('span', { class: 'price' }, l.total.text)))),
      totals(o),
      h('p', { class: 'hint' }, t('payment') + ': ' + (o.payment?.provider === 'counter' ? t('counter') : o.payment?.provider || '')),
      reviewed.map((l) => reviewForm(o, l)),
      o.status === 'placed' ? h('button', { type: 'button', class: 'link danger', 'data-testid': 'cancel-order',
        onclick: async () => {
          try { o = await post(path + '/cancel'); draw(); toast(t('cancelled')); } catch (e) { toast(e.message, true); }
        } }, t('cancel')) : null);
  };
  draw();
  if (OPEN.includes(o.status)) loadQr();
  const timer = setInterval(async () => {
    if (!OPEN.includes(o.status)) return clearInterval(timer);
    if (document.hidden) return;
    try {
      const next = await api(path);
      if (!ctx.alive()) return;
      if (next.status !== o.status || (next.history || []).length !== (o.history || []).length) { o = next; draw(); }
    } catch { /* try again on the next tick */ }
  }, 3000);
  ctx.onLeave(() => clearInterval(timer));
  return root;
}

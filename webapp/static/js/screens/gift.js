// Gifts: #/gift/new/<item> buys an item (its default options) or #/gift/new an amount for a friend, paid
// online (a card page, or Telegram's invoice inside Telegram); #/gift/<code> shows one: to its giver the
// link to send (the platform's share and a copy button), to anyone else who it is from and what, "Take it",
// then a point and a time to order it. A friend arrives here from a g<code> link (main.js reads the launch's
// start parameter). Every amount comes from the server; the client sends ids only.
import { h, toast, copyText } from '../dom.js';
import { t, when, date } from '../i18n.js';
import { api, post } from '../api.js';
import { store, webUrl } from '../platform.js';
import { state, loadMenu, saveCart, cartCount } from '../state.js';
import { pointPicker } from './menu.js';

const CODE = /^[A-Za-z0-9]{8,64}$/;
const LABELS = { yookassa: 'card', telegram: 'payTelegram' };
const POLL = 3000;
const fail = (e) => toast(e.message, true);

// The online methods this platform can pay a gift with (the server's list for the caller's channel).
const usable = (offer) => (offer?.payments || []).filter((m) => LABELS[m] && (m !== 'telegram' || state.platform.openInvoice));

// Whether the item screen offers "Gift it": some online method works here.
export const giftable = () => (state.cfg.payments || []).some((m) => m === 'yookassa' || (m === 'telegram' && state.platform.openInvoice));

// A gift of money the taker fills the cart for: the cart leads back to it.
const KEY = 'vitrina.gift';
export const giftLink = () => (CODE.test(store.get(KEY) || '')
  ? h('a', { class: 'btn wide', href: '#/gift/' + encodeURIComponent(store.get(KEY)), 'data-testid': 'to-gift' }, '🎁 ' + t('giftToGift'))
  : null);

const copy = (text) => copyText(text, t('copied'));

// --- buying ---------------------------------------------------------------------------------------

async function buying(ctx, itemId) {
  ctx.title(t('giftNew'));
  const [offer, menu] = await Promise.all([api('gifts/offer'), itemId ? loadMenu() : null]);
  const item = itemId ? menu.items.find((i) => i.id === itemId) : null;
  if (itemId && !item) throw new Error(t('notFound'));
  const methods = usable(offer);
  let amount = item ? null : offer.amounts[0]?.amount ?? null;
  let payment = methods[0];
  let busy = false;
  const message = h('textarea', { maxlength: 140, rows: 2, 'data-testid': 'gift-message', placeholder: t('giftMessageHint') });
  const amounts = item ? null : h('fieldset', { class: 'opts', 'data-testid': 'gift-amounts' }, h('legend', {}, t('giftAmount')),
    offer.amounts.map((m) => h('label', { class: 'opt' },
      h('input', { type: 'radio', name: 'gamount', checked: m.amount === amount, 'data-testid': 'gift-amount-' + m.amount,
        onchange: () => { amount = m.amount; } }), h('span', {}, m.text))));
  const pay = h('fieldset', { class: 'opts', 'data-testid': 'gift-pay' }, h('legend', {}, t('payment')),
    methods.map((m) => h('label', { class: 'opt' },
      h('input', { type: 'radio', name: 'gpay', checked: m === payment, 'data-testid': 'gift-pay-' + m,
        onchange: () => { payment = m; } }), h('span', {}, t(LABELS[m])))));
  const buy = async () => {
    if (busy || !payment) return;
    busy = true;
    try {
      const g = await post('gifts', { ...(item ? { item: item.id } : { amount }), message: message.value.trim(), payment });
      await openPayment(g, payment);
      ctx.go('#/gift/' + encodeURIComponent(g.code), true);
    } catch (e) {
      busy = false;
      fail(e);
    }
  };
  if (methods.length) ctx.main(t('giftPay'), buy);
  return h('div', { class: 'gift' },
    item ? h('div', { class: 'row' }, h('h2', {}, item.name), h('span', { class: 'price' }, item.price.text)) : null,
    h('p', { class: 'hint' }, t('giftHint', { days: offer.days })),
    amounts,
    h('label', { class: 'field' }, h('span', {}, t('giftMessage')), message),
    methods.length ? pay : h('p', { class: 'hint', 'data-testid': 'gift-no-pay' }, t('giftNoPay')),
    methods.length ? h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'gift-buy', onclick: buy }, t('giftPay')) : null);
}

// Telegram's invoice inside Telegram, else the card page with the platform's link opener.
async function openPayment(g, method) {
  const link = g.payment_link;
  if (!link) return;
  if (method === 'telegram' && state.platform.openInvoice) await state.platform.openInvoice(link);
  else if (webUrl(link)) state.platform.openLink(link);
}

// --- one gift ---------------------------------------------------------------------------------------

const what = (g) => g.title || t('giftOf', { amount: g.amount.text });

// The profile's list of gifts the customer gave or took, newest first, each opening its screen; nothing
// at all for someone who never gave or took one.
export async function myGifts() {
  let found;
  try { found = (await api('gifts')).gifts; } catch { return null; }
  if (!found.length) return null;
  return h('section', { class: 'panel', 'data-testid': 'my-gifts' }, h('h2', {}, t('giftsMine')),
    ...found.map((g) => h('p', { 'data-testid': 'my-gift' },
      h('a', { href: '#/gift/' + encodeURIComponent(g.code) },
        g.giver ? t('giftYours', { what: what(g) }) : t('giftFrom', { name: g.from_name || '—', what: what(g) })),
      h('span', { class: 'hint' }, ' · ' + t('giftStatus_' + g.status)))));
}

function sending(g) {
  const text = t('giftShareText', { what: what(g) });
  return h('div', { class: 'gift-send', 'data-testid': 'gift-send' },
    h('p', {}, t('giftSendHint')),
    h('input', { class: 'link', readonly: true, value: g.link, 'data-testid': 'gift-link', onfocus: (e) => e.target.select() }),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn primary', 'data-testid': 'gift-share',
        onclick: async () => { if (!(await state.platform.share(g.link, text))) copy(g.link); } }, t('share')),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'gift-copy', onclick: () => copy(g.link) }, t('copy'))));
}

async function ordering(ctx, g) {
  let pickupAt = null;
  let busy = false;
  const slots = await api('points/' + encodeURIComponent(state.point) + '/slots').catch(() => null);
  const slotSel = h('select', { 'data-testid': 'gift-time', 'aria-label': t('when'),
    onchange: (e) => { pickupAt = e.target.value || null; } },
  slots && !slots.asap ? null : h('option', { value: '' }, t('asap')),
  ...(slots?.slots || []).map((at) => h('option', { value: at }, when(at))));
  if (slots && !slots.asap && slots.slots.length) pickupAt = slots.slots[0];
  // a gift of money pays for the cart (up to its amount; the rest at the counter); an item's gift is the item
  const lines = g.item ? [] : state.cart.lines;
  if (!g.item) store.set(KEY, g.code);
  if (!g.item && !cartCount()) {
    return h('div', { class: 'gift-order', 'data-testid': 'gift-order' },
      h('p', { class: 'hint' }, t('giftAmountHint', { amount: g.amount.text })),
      h('a', { class: 'btn primary wide', href: '#/menu', 'data-testid': 'gift-to-menu' }, t('menu')));
  }
  const place = async () => {
    if (busy) return;
    busy = true;
    try {
      const o = await post('gifts/' + encodeURIComponent(g.code) + '/order', { point: state.point, pickup_at: pickupAt, lines });
      if (lines.length) {
        state.cart = { lines: [], promo: null, points: 0 };
        saveCart();
      }
      store.set(KEY, '');
      ctx.go('#/order/' + encodeURIComponent(o.id));
    } catch (e) {
      busy = false;
      fail(e);
    }
  };
  ctx.main(t('giftOrder'), place);
  return h('div', { class: 'gift-order', 'data-testid': 'gift-order' },
    pointPicker({ refresh: () => ctx.refresh() }, 'gift-point'),
    h('label', { class: 'field' }, h('span', {}, t('when')), slotSel),
    g.item ? null : h('p', { class: 'hint', 'data-testid': 'gift-cart' }, t('giftCartCovered', { amount: g.amount.text, n: cartCount() })),
    h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'gift-place', onclick: place }, t('giftOrder')));
}

async function showing(ctx, code) {
  if (!CODE.test(code)) throw new Error(t('notFound'));
  ctx.title(t('gift'));
  const g = await api('gifts/' + encodeURIComponent(code));
  const head = h('div', { class: 'gift-card', 'data-testid': 'gift-card' },
    h('p', { class: 'gift-from', 'data-testid': 'gift-from' }, g.giver ? t('giftYours', { what: what(g) }) : t('giftFrom', { name: g.from_name || '—', what: what(g) })),
    g.message ? h('blockquote', { 'data-testid': 'gift-message-shown' }, g.message) : null,
    h('p', { class: 'badge', 'data-testid': 'gift-status' }, t('giftStatus_' + g.status)),
    g.expires_at && ['active', 'claimed'].includes(g.status) ? h('p', { class: 'hint' }, t('giftUntil', { at: date(g.expires_at) })) : null);
  if (g.giver) {
    if (g.status === 'awaiting_payment') {
      const timer = setTimeout(() => ctx.alive() && ctx.refresh(), POLL);  // follows the payment
      ctx.onLeave(() => clearTimeout(timer));
      return h('div', { class: 'gift' }, head, g.payment_link ? h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'gift-pay-again',
        onclick: () => openPayment(g, /^https:\/\/t\.me\//.test(g.payment_link) ? 'telegram' : 'yookassa') }, t('giftPay')) : null);
    }
    return h('div', { class: 'gift' }, head, g.status === 'active' ? sending(g) : null);
  }
  if (g.claimable) {
    const take = async () => {
      try {
        await post('gifts/' + encodeURIComponent(code) + '/claim');
        state.platform.haptic();
        ctx.refresh();
      } catch (e) { fail(e); }
    };
    ctx.main(t('giftTake'), take);
    return h('div', { class: 'gift' }, head,
      h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'gift-take', onclick: take }, t('giftTake')));
  }
  if (g.taker && g.status === 'claimed') {
    if (g.order) {
      return h('div', { class: 'gift' }, head,
        h('a', { class: 'btn primary wide', href: '#/order/' + encodeURIComponent(g.order), 'data-testid': 'gift-my-order' }, t('giftMyOrder')));
    }
    return h('div', { class: 'gift' }, head, await ordering(ctx, g));
  }
  return h('div', { class: 'gift' }, head, g.taken && !g.taker ? h('p', { class: 'hint', 'data-testid': 'gift-taken' }, t('giftTaken')) : null);
}

export async function render(ctx, arg) {
  const m = /^new(?:\/(.+))?$/.exec(arg || '');
  return m ? buying(ctx, m[1] || null) : showing(ctx, arg || '');
}

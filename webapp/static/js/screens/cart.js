// The cart: lines with quantities; every amount shown comes from POST /api/cart/quote.
import { h } from '../dom.js';
import { t, money } from '../i18n.js';
import { state, saveCart, quote } from '../state.js';
import { stepper } from './item.js';
import { togetherSuggestions } from './suggestions.js';  // suggestions
import { rememberedGroup } from './group.js';
import { giftLink } from './gift.js';  // gifts

// group orders: back to the group being chosen for, or open one with this cart
const groupLink = () => (rememberedGroup()
  ? h('a', { class: 'btn wide', href: '#/group/' + encodeURIComponent(rememberedGroup()), 'data-testid': 'to-group' }, t('groupToGroup'))
  : h('a', { class: 'btn wide', href: '#/group', 'data-testid': 'group-start' }, t('groupStart')));

export function totals(q) {
  const row = (label, m, testid, cls) => h('div', { class: 'sum ' + (cls || '') },
    h('span', {}, label), h('span', { 'data-testid': testid }, m.text));
  return h('div', { class: 'totals' },
    row(t('subtotal'), q.subtotal, 'subtotal'),
    q.discount?.amount > (q.birthday?.amount || 0)  // the birthday offer is a part of the discount, shown on its own
      ? row(t('discount'), { text: '−' + money(q.discount.amount - (q.birthday?.amount || 0), q.discount.currency) }, 'discount') : null,
    q.birthday ? row(t('birthdayOff'), { text: '−' + q.birthday.text }, 'birthday-discount') : null,
    q.points ? row(t('pointsUsed'), { text: '−' + money(q.points, q.total.currency) }, 'points-used') : null,
    row(t('total'), q.total, 'total', 'grand'));
}

export const lineText = (l) => [h('b', {}, l.name), l.options?.length ? h('small', {}, l.options.join(', ')) : null];

export function emptyCart(ctx) {
  return h('div', { class: 'empty' }, h('p', {}, t('emptyCart')),
    h('a', { class: 'btn', href: '#/menu', 'data-testid': 'to-menu' }, t('toMenu')));
}

export async function render(ctx) {
  ctx.title(t('cart'));
  const lines = state.cart.lines;
  if (!lines.length) return emptyCart(ctx);
  let q;
  try {
    q = await quote();
  } catch (e) {
    if (state.cart.promo && /^promo/.test(e.code)) { state.cart.promo = null; saveCart(); return render(ctx); }
    return h('div', { class: 'error-box', role: 'alert' }, h('p', {}, e.message),
      h('button', { type: 'button', class: 'btn', onclick: () => { lines.length = 0; saveCart(); ctx.refresh(); } }, t('clear')));
  }
  const change = (i, d) => {
    lines[i].quantity += d;
    if (lines[i].quantity < 1) lines.splice(i, 1);
    saveCart();
    ctx.refresh();
  };
  ctx.main(t('checkout'), () => ctx.go('#/checkout'));
  return h('div', { class: 'cart' },
    h('ul', { class: 'lines' }, q.lines.map((l, i) => h('li', { class: 'line', 'data-testid': 'cart-line' },
      h('div', { class: 'grow' }, ...lineText(l), h('small', {}, l.unit_price.text)),
      stepper(l.quantity, (d) => change(i, d), l.name),
      h('span', { class: 'price' }, l.total.text)))),
    totals(q),
    togetherSuggestions(lines.map((l) => l.item)),  // suggestions: what is often taken with the cart
    h('button', { type: 'button', class: 'link', 'data-testid': 'clear-cart',
      onclick: () => { lines.length = 0; saveCart(); ctx.refresh(); } }, t('clear')),
    groupLink(),  // group orders
    giftLink());  // gifts: back to a gift of money the cart is for
}

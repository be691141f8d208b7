// What the screens share: the platform, config, the customer, the chosen point, the menu and the cart.
import { api } from './api.js';
import { store } from './platform.js';

export const state = {
  platform: null, cfg: {}, me: null, points: [], point: '', menus: {},
  cart: { lines: [], promo: null, points: 0 },
};

export function restoreCart() {
  try {
    const c = JSON.parse(store.get('vitrina.cart'));
    if (c && Array.isArray(c.lines)) state.cart = { lines: c.lines, promo: c.promo || null, points: 0 };
  } catch { /* a broken cart is an empty cart */ }
}

export function saveCart() {
  store.set('vitrina.cart', JSON.stringify({ lines: state.cart.lines, promo: state.cart.promo }));
  state.platform.closingConfirmation(state.cart.lines.length > 0);
  const badge = document.querySelector('[data-testid="tab-cart"] .count');
  if (badge) badge.textContent = cartCount() || '';
}

export const cartCount = () => state.cart.lines.reduce((n, l) => n + l.quantity, 0);

const sameOptions = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export function addLine(item, quantity, options) {
  const line = state.cart.lines.find((l) => l.item === item && sameOptions(l.options, options));
  if (line) line.quantity += quantity;
  else state.cart.lines.push({ item, quantity, options });
  saveCart();
}

export function setPoint(id) {
  state.point = id;
  store.set('vitrina.point', id);
}

export async function loadMenu(point = state.point) {
  if (!state.menus[point]) state.menus[point] = await api('menu?point=' + encodeURIComponent(point));
  return state.menus[point];
}

export const quoteBody = () => ({
  point: state.point, lines: state.cart.lines, promo: state.cart.promo || null, points: state.cart.points || 0,
});

export const quote = () => api('cart/quote', { method: 'POST', body: quoteBody() });

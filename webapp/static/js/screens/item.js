// One item: photo, options (radio for one choice, checkboxes for several), quantity, reviews.
import { h, fill, toast } from '../dom.js';
import { t, money, date } from '../i18n.js';
import { api } from '../api.js';
import { state, loadMenu, addLine } from '../state.js';
import { photo } from './menu.js';
import { togetherSuggestions } from './suggestions.js';  // suggestions
import { giftable } from './gift.js';  // gifts

export const stars = (n) => h('span', { class: 'stars', 'aria-label': t('stars', { n: Math.round(n * 10) / 10 }) },
  '★'.repeat(Math.round(n)) + '☆'.repeat(5 - Math.round(n)));

export function stepper(value, onChange, label) {
  return h('div', { class: 'stepper', role: 'group', 'aria-label': label },
    h('button', { type: 'button', 'aria-label': t('less'), 'data-testid': 'qty-minus', onclick: () => onChange(-1) }, '−'),
    h('output', { 'data-testid': 'qty' }, value),
    h('button', { type: 'button', 'aria-label': t('more'), 'data-testid': 'qty-plus', onclick: () => onChange(1) }, '+'));
}

async function reviews(id, box) {
  try {
    const r = await api('items/' + encodeURIComponent(id) + '/reviews');
    fill(box, h('h2', {}, t('reviews'), r.count ? [' ', stars(r.average), ' ', h('small', {}, r.count)] : null),
      r.reviews.length ? r.reviews.map((v) => h('article', { class: 'review' },
        h('p', { class: 'meta' }, stars(v.rating), ' ', v.author || '', ' · ', date(v.created_at)),
        v.text ? h('p', {}, v.text) : null)) : h('p', { class: 'hint' }, t('noReviews')));
  } catch { box.replaceChildren(); }
}

export async function render(ctx, id) {
  const data = await loadMenu();
  const item = data.items.find((i) => i.id === id);
  if (!item) throw new Error(t('notFound'));
  ctx.title(item.name);
  const groups = item.options || [];
  const chosen = Object.fromEntries(groups.map((g) => [g.id, g.required && !g.multiple && g.options.length ? [g.options[0].id] : []]));
  let qty = 1;
  const priceEl = h('span', { class: 'price', 'data-testid': 'item-price' });
  const qtyBox = h('div');
  const addBtn = h('button', {
    type: 'button', class: 'btn primary wide', 'data-testid': 'add-to-cart', disabled: item.sold_out,
    onclick: () => {
      const options = Object.fromEntries(Object.entries(chosen).filter(([, v]) => v.length));
      addLine(item.id, qty, options);
      state.platform.haptic();
      toast(t('added'));
      ctx.go('#/menu');
    },
  });
  const update = () => {
    let amount = item.price.amount;
    for (const g of groups) for (const o of g.options) if (chosen[g.id].includes(o.id)) amount += o.price_delta.amount;
    priceEl.textContent = money(amount * qty, item.price.currency);
    addBtn.textContent = item.sold_out ? t('soldOut') : t('addToCart') + ' · ' + priceEl.textContent;
    qtyBox.replaceChildren(stepper(qty, (d) => { qty = Math.max(1, Math.min(99, qty + d)); update(); }, t('quantity')));
  };
  const choice = (g, o) => h('label', { class: 'opt' },
    h('input', {
      type: g.multiple ? 'checkbox' : 'radio', name: 'g-' + g.id, value: o ? o.id : '',
      checked: o ? chosen[g.id].includes(o.id) : !chosen[g.id].length,
      'data-testid': 'opt-' + g.id + '-' + (o ? o.id : 'none'),
      onchange: (e) => {
        if (!g.multiple) chosen[g.id] = o ? [o.id] : [];
        else chosen[g.id] = e.target.checked ? [...chosen[g.id], o.id] : chosen[g.id].filter((x) => x !== o.id);
        update();
      },
    }),
    h('span', {}, o ? o.name : t('none')),
    o && o.price_delta.amount ? h('span', { class: 'delta' }, (o.price_delta.amount > 0 ? '+' : '') + o.price_delta.text) : null);
  const revBox = h('section', { class: 'reviews', 'aria-live': 'polite' });
  reviews(item.id, revBox);
  update();
  return h('div', { class: 'item' },
    photo(item, 'hero'),
    h('div', { class: 'row' }, h('h2', {}, item.name), priceEl),
    item.sold_out ? h('span', { class: 'badge', 'data-testid': 'sold-out' }, t('soldOut')) : null,
    item.description ? h('p', { class: 'desc' }, item.description) : null,
    groups.map((g) => h('fieldset', { class: 'opts' }, h('legend', {}, g.name),
      !g.multiple && !g.required ? choice(g, null) : null,
      g.options.map((o) => choice(g, o)))),
    h('div', { class: 'row' }, h('span', {}, t('quantity')), qtyBox),
    addBtn,
    giftable() && !item.sold_out ? h('a', { class: 'btn wide', href: '#/gift/new/' + encodeURIComponent(item.id),
      'data-testid': 'gift-item' }, '🎁 ' + t('giftGive')) : null,  // gifts
    togetherSuggestions([item.id]),  // suggestions: "often taken together"
    revBox);
}

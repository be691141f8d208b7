// Suggestions (GET /api/suggestions): "your usual" and "taken now" on the menu, "often taken together" on an
// item's screen. Nothing is drawn when the server has nothing to suggest: no empty boxes for someone new.
import { h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { state, addLine } from '../state.js';

const ask = async (items = []) => {
  if (!state.point) return null;
  const q = new URLSearchParams({ point: state.point });
  if (items.length) q.set('items', items.join(','));
  try { return await api('suggestions?' + q); } catch { return null; }  // a suggestion is never worth an error
};

const chip = (s, extra, onAdd) => h('div', { class: 'sugg', 'data-testid': 'sugg-' + s.item },
  h('a', { href: '#/item/' + encodeURIComponent(s.item), class: 'sugg-name' }, s.name,
    extra ? h('small', {}, extra) : null),
  h('span', { class: 'price' }, s.price.text),
  onAdd ? h('button', { type: 'button', class: 'add', 'aria-label': t('add') + ': ' + s.name,
    'data-testid': 'sugg-add-' + s.item, onclick: onAdd }, '+') : null);

const strip = (title, testid, chips) => (chips.length
  ? h('section', { class: 'sugg-strip', 'data-testid': testid, 'aria-label': title }, h('h2', {}, title),
    h('div', { class: 'sugg-row' }, chips)) : null);

// Drawn when the answer comes: the screen does not wait for a suggestion, and an empty answer draws nothing.
const later = (promise) => {
  const box = h('div', { class: 'sugg-box' });
  promise.then((found) => { if (found) box.replaceChildren(...[found].flat().filter(Boolean)); });
  return box;
};

// The menu's strip: the customer's usual lines (added with their options in one tap) and what sells this hour.
export const menuSuggestions = (onAdded) => later(menuStrip(onAdded));
// The item screen's (and the cart's) "often taken together".
export const togetherSuggestions = (items) => later(togetherStrip(items));

async function menuStrip(onAdded) {
  const found = await ask();
  if (!found) return null;
  const usual = found.usual.map((u) => chip(u, u.option_names.join(', '), () => {
    addLine(u.item, 1, u.options);
    state.platform.haptic();
    toast(t('added'));
    onAdded?.();
  }));
  const seen = new Set(found.usual.map((u) => u.item));
  const now = found.now.filter((i) => !seen.has(i.item)).map((i) => chip(i, '', null));
  return [strip(t('suggUsual'), 'sugg-usual', usual), strip(t('suggNow'), 'sugg-now', now)];
}

async function togetherStrip(items) {
  const found = await ask(items);
  return found ? strip(t('suggTogether'), 'sugg-together', found.together.map((i) => chip(i, '', null))) : null;
}

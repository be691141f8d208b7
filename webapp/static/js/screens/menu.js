// The menu: categories with photos, prices, sold-out badges, and the pickup point selector.
import { h, safeUrl, select, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { state, loadMenu, setPoint, addLine, cartCount } from '../state.js';
import { menuSuggestions } from './suggestions.js';  // suggestions

// A photo an owner sent from the chat is stored in two widths, "/media/<digest>-<width>.jpg", each in WebP
// too (adapters/images.py, SIZES): the browser takes the WebP the slot needs at the screen's density, and the
// JPEGs when the WebP cannot be had (a photo stored before WebP was made, a browser that cannot show it).
const MEDIA = /^(\/media\/[0-9a-f]{32})-[0-9]+\.jpg$/;
const SLOT = { thumb: '(min-width: 640px) 200px, 45vw', hero: '(min-width: 640px) 608px, calc(100vw - 32px)' };

// A menu card's photo is fetched when the card comes within half a screen of the view. The browser's own
// loading="lazy" reaches 1250-2500 px ahead on a slow line: the whole menu's photos at once, competing with
// the ones on screen. Without IntersectionObserver, the browser's lazy loading it is.
const ahead = typeof IntersectionObserver === 'function' ? new IntersectionObserver((seen) => {
  for (const e of seen) {
    if (!e.isIntersecting) continue;
    ahead.unobserve(e.target);
    load(e.target);
  }
}, { rootMargin: '50% 0px' }) : null;

const sizes = (base, ext) => base + '-480.' + ext + ' 480w, ' + base + '-1200.' + ext + ' 1200w';

function load(img) {
  const { media, src } = img.dataset;
  if (media) {
    img.addEventListener('error', () => { img.srcset = sizes(media, 'jpg'); }, { once: true });
    img.srcset = sizes(media, 'webp');
  }
  img.src = src;
}

export function photo(item, cls) {
  const src = safeUrl(item.photo);
  if (!src) return h('div', { class: cls + ' nophoto', 'aria-hidden': 'true' });
  const media = MEDIA.exec(src);
  const img = h('img', {
    class: cls, sizes: media ? SLOT[cls] : null, alt: '', decoding: 'async', width: 400, height: 300,
    'data-src': src, 'data-media': media ? media[1] : null,
  });
  if (cls === 'thumb' && ahead) ahead.observe(img);
  else {
    img.loading = cls === 'thumb' ? 'lazy' : 'eager';  // the item screen's photo is its first sight
    load(img);
  }
  return img;
}

export const pointPicker = (ctx, testid = 'point-select') => field(t('point'),
  select(state.points.map((p) => ({ id: p.id, name: p.name + (p.open_now === false ? ' (' + t('closed') + ')' : '') })),
    state.point, (id) => { setPoint(id); ctx.refresh(); }, { 'data-testid': testid }));

function card(ctx, item) {
  const simple = !item.options?.length && !item.sold_out;
  return h('article', { class: 'card' + (item.sold_out ? ' sold' : ''), 'data-testid': 'item-' + item.id },
    h('a', { href: '#/item/' + encodeURIComponent(item.id), class: 'card-link' },
      photo(item, 'thumb'),
      h('h3', {}, item.name)),
    h('div', { class: 'card-foot' },
      h('span', { class: 'price' }, item.price.text),
      item.sold_out ? h('span', { class: 'badge', 'data-testid': 'sold-out' }, t('soldOut'))
        : simple ? h('button', {
          type: 'button', class: 'add', 'aria-label': t('add') + ': ' + item.name, 'data-testid': 'quick-add-' + item.id,
          onclick: () => { addLine(item.id, 1, {}); state.platform.haptic(); toast(t('added')); mainButton(ctx); },
        }, '+') : null));
}

function mainButton(ctx) {
  const n = cartCount();
  ctx.main(n ? t('checkout') + ' · ' + t('pcs', { n }) : null, () => ctx.go('#/cart'));
}

export async function render(ctx) {
  ctx.title(state.cfg.shop || t('menu'));
  const data = await loadMenu();
  const sections = data.categories.map((c) => {
    const items = data.items.filter((i) => i.category === c.id);
    return items.length ? h('section', { 'aria-labelledby': 'cat-' + c.id },
      h('h2', { id: 'cat-' + c.id }, c.name),
      h('div', { class: 'grid' }, items.map((i) => card(ctx, i)))) : null;
  });
  mainButton(ctx);
  return h('div', { class: 'menu' },
    data.categories.length > 1 ? h('nav', { class: 'chips', 'aria-label': t('menu') },
      data.categories.map((c) => h('a', { href: '#/menu', onclick: (e) => {
        e.preventDefault();
        document.getElementById('cat-' + c.id)?.scrollIntoView({ behavior: 'smooth' });
      } }, c.name))) : null,
    pointPicker(ctx),
    menuSuggestions(() => mainButton(ctx)),  // suggestions: "your usual", "popular right now"
    sections);
}

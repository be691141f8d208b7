// Boot and hash routing: #/menu, #/item/<id>, #/cart, #/checkout, #/order/<id>, #/orders, #/profile, #/staff.
import { h, $, toast } from './dom.js';
import { t, setLang, setZone, lang } from './i18n.js';
import { api, setAuth, setStart, setConsentHandler } from './api.js';
import { detect, store } from './platform.js';
import { state, restoreCart, saveCart, setPoint, cartCount } from './state.js';
import { render as menuScreen } from './screens/menu.js';

// The menu comes with the first screen; every other screen (and the consent form) is in later.js, loaded the
// first time one is opened or once the menu is shown, so a slow line carries only the menu's code before the menu.
const later = () => import('./later.js');
const screen = (name) => async () => ({ render: (await later()).screens[name] });
const routes = { menu: async () => ({ render: menuScreen }), item: screen('item'), cart: screen('cart'), checkout: screen('checkout'),
  order: screen('order'), orders: screen('orders'), profile: screen('profile'), staff: screen('staff'),
  group: screen('group'),  // group orders
  gift: screen('gift') };  // gifts
const askConsent = async () => (await later()).askConsent();  // personal data
const parents = { item: '#/menu', cart: '#/menu', checkout: '#/cart', order: '#/orders', orders: '#/menu',
  profile: '#/menu', staff: '#/menu',
  group: '#/cart',  // group orders
  gift: '#/menu' };  // gifts

let seq = 0;
let leave = [];
let current = '';  // the screen shown (or being drawn)
// who is calling (/api/me): the menu is drawn without waiting for it, every other screen waits
let known = Promise.resolve();
let prevHash = '';
let curHash = '';

export function go(hash, replace) {
  if (replace) {
    history.replaceState(null, '', hash);
    render();
  } else if (location.hash === hash) render();
  else location.hash = hash;
}

function tabs() {
  const list = [['menu', t('menu')], ['cart', t('cart')], ['orders', t('orders')], ['profile', t('profile')]];
  if (state.me?.is_staff) list.push(['staff', t('staff')]);
  const nav = $('#tabs');
  nav.setAttribute('aria-label', t('menu'));
  nav.replaceChildren(...list.map(([id, label]) => h('a', { href: '#/' + id, 'data-testid': 'tab-' + id, 'data-tab': id,
    'aria-current': id === current || null },
    label, id === 'cart' ? h('span', { class: 'count' }, cartCount() || '') : null)));
  nav.hidden = false;
}

function ctxFor(my, name) {
  return {
    go,
    alive: () => my === seq,
    onLeave: (fn) => leave.push(fn),
    title: (text) => { $('#title').textContent = text; document.title = text; },
    main: (text, onClick, disabled) => my === seq && state.platform.setMain(text, onClick, disabled),
    refresh: () => my === seq && render(),
    tabs,
    changeLanguage,
    name,
  };
}

export async function render() {
  const m = /^#\/(\w+)\/?(.*)$/.exec(location.hash) || [];
  const name = current = routes[m[1]] ? m[1] : 'menu';
  if (location.hash !== curHash) { prevHash = curHash; curHash = location.hash; }
  const my = ++seq;
  leave.splice(0).forEach((fn) => fn());
  const p = state.platform;
  p.setMain(null);
  const parent = parents[name];
  p.setBack(parent ? () => (prevHash === parent ? history.back() : go(parent)) : null);
  for (const a of document.querySelectorAll('#tabs a')) a.toggleAttribute('aria-current', a.dataset.tab === name);
  const app = $('#app');
  const ctx = ctxFor(my, name);
  try {
    if (name !== 'menu') await known;
    const node = await (await routes[name]()).render(ctx, decodeURIComponent(m[2] || ''));
    if (my === seq) { app.replaceChildren(node); window.scrollTo(0, 0); }
  } catch (e) {
    if (my !== seq) return;
    console.error(e);
    app.replaceChildren(h('div', { class: 'error-box', role: 'alert', 'data-testid': 'error' },
      h('p', {}, e.message || t('network')),
      h('button', { class: 'btn', type: 'button', onclick: () => render() }, t('retry'))));
  }
}

// The language: the user's explicit choice, else what the platform says. The server learns it from
// Telegram's and VK's launch data itself; the demo browser and an explicit choice tell it.
export async function changeLanguage(code, explicit) {
  if (explicit) store.set('vitrina.lang', code);
  await setLang(code);
  if (state.me && state.me.language !== lang && (explicit || state.platform.kind === 'browser')) {
    const told = api('me', { method: 'PATCH', body: { language: lang } }).then((me) => { state.me = me; },
      () => { /* cosmetic */ });
    if (explicit) await told;  // the first screen does not wait for it
  }
  document.querySelector('#back').setAttribute('aria-label', t('back'));
  tabs();
}

function bootFailed(e) {
  $('#app').replaceChildren(h('div', { class: 'error-box', role: 'alert', 'data-testid': 'error' },
    h('p', {}, e.message), h('button', { class: 'btn', type: 'button', onclick: () => location.reload() }, t('retry'))));
}

// What the page brought (webapp/page.py): /api/config's and /api/points' answers and the first point's menu,
// so that the menu waits for one call (/api/me) instead of four. Each is asked for when it is missing.
const brought = (() => {
  try { return JSON.parse(document.getElementById('boot')?.textContent || '{}') || {}; } catch { return {}; }
})();

async function boot() {
  let cfg;
  try {
    cfg = brought.config || await api('config');  // public: which channels are configured, before anyone signs in
  } catch (e) {
    bootFailed(e);
    return;
  }
  const p = state.platform = await detect(cfg.channels);
  setAuth(p.auth);
  setConsentHandler(askConsent);  // personal data: an order refused for want of consent asks for it
  setStart(p.start);  // referrals that hold: the start parameter travels on every API call
  await setLang(store.get('vitrina.lang') || p.language || 'ru');
  document.documentElement.dataset.platform = p.kind;
  const start = /^[pt]([a-z0-9]+)/.exec(p.start || '');
  const join = /^j([A-Za-z0-9_-]{1,63})$/.exec(p.start || '');  // group orders: a friend's j<code> link
  if (join && !location.hash.startsWith('#/')) history.replaceState(null, '', location.pathname + location.search + '#/group/' + join[1]);
  const present = /^g([A-Za-z0-9]{8,63})$/.exec(p.start || '');  // gifts: a friend's g<code> link
  if (present && !location.hash.startsWith('#/')) history.replaceState(null, '', location.pathname + location.search + '#/gift/' + present[1]);
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', location.pathname + location.search + '#/menu');
  known = api('me').then((me) => { state.me = me; });  // asked now, waited for after the menu is drawn
  try {
    const pts = await (brought.points || api('points'));
    Object.assign(state, { cfg, points: pts.points });
    setZone(cfg.timezone);
  } catch (e) {
    bootFailed(e);
    return;
  }
  if (/^[A-Za-z0-9_-]{1,64}$/.test(p.start || '')) {
    api('visits', { method: 'POST', body: { start: p.start } }).catch(() => {}); // attribution never blocks the menu
  }
  const ids = state.points.map((x) => x.id);
  const saved = store.get('vitrina.point');
  setPoint(start && ids.includes(start[1]) ? start[1] : ids.includes(saved) ? saved : ids[0] || '');
  Object.assign(state.menus, brought.menus);
  restoreCart();
  saveCart();
  await changeLanguage(lang, false);
  window.addEventListener('hashchange', render);
  const drawn = render();
  try {
    await known;
  } catch (e) {
    seq++;  // a screen still being drawn is not put over the error
    bootFailed(e);
    return;
  }
  await changeLanguage(lang, false);  // now that the server's idea of the language and the staff tab are known
  await drawn;
  // the other screens' code, fetched while the menu is read: the first tap on an item waits for no download
  const fetchLater = () => later().catch(() => { /* fetched again when a screen needs it */ });
  if (window.requestIdleCallback) requestIdleCallback(fetchLater, { timeout: 2000 });
  else setTimeout(fetchLater, 500);
}

boot().catch((e) => { console.error(e); toast(e.message || String(e), true); });

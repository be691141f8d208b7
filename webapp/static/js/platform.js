// The thin platform layer: Telegram Mini App, VK Mini App or a plain browser (the demo).
// Each exposes the same small surface; what a platform lacks falls back to on-page controls.
import { $ } from './dom.js';

const TG_SCRIPT = 'https://telegram.org/js/telegram-web-app.js';
const VK_SCRIPT = new URL('../vendor/vk-bridge.browser.min.js', import.meta.url).href;

function loadScript(src, ms) {
  return new Promise((resolve) => {
    const s = document.createElement('script');
    const timer = setTimeout(() => resolve(false), ms);
    s.src = src;
    s.onload = () => { clearTimeout(timer); resolve(true); };
    s.onerror = () => { clearTimeout(timer); resolve(false); };
    document.head.append(s);
  });
}

// never wait on a bridge that does not answer
const within = (promise, ms) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);

const store = {
  get: (k) => { try { return localStorage.getItem(k); } catch { return null; } },
  set: (k, v) => { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
};
export { store };

// On-page replacements for the Telegram buttons (VK and the browser).
let mainHandler = null;
let backHandler = null;
const page = {
  setMain(text, onClick, disabled) {
    mainHandler = onClick;
    const bar = $('#mainbar');
    bar.hidden = !text;
    document.body.classList.toggle('has-main', !!text);
    if (text) { $('#main').textContent = text; $('#main').disabled = !!disabled; }
  },
  setBack(onClick) {
    backHandler = onClick;
    $('#back').hidden = !onClick;
  },
};

function wirePageButtons() {
  $('#main').addEventListener('click', () => mainHandler && mainHandler());
  $('#back').addEventListener('click', () => backHandler && backHandler());
}

const base = {
  ...page,
  haptic() {},
  closingConfirmation() {},
  scan: null,  // staff types the code instead
  // whether the customer lets the shop message them: null where the platform does not ask (Telegram lets
  // a bot write to whoever started it, the browser has no chat)
  async allowMessages() { return null; },
  async share(url, text) {
    if (navigator.share) {
      try { await navigator.share({ url, text }); return true; } catch { return false; }
    }
    return false;
  },
  // A payment page (YooKassa's): the browser goes there itself and the page sends it back to the order
  // (its return_url, #/order/<id>).
  openLink(url) { location.assign(url); },
  // Telegram's invoices: openInvoice(link) -> 'paid' | 'cancelled' | 'failed' | 'pending'; null elsewhere.
  openInvoice: null,
  // sharing (screens/share.js): the ways this platform shares besides a link, by share kind; each takes
  // {story, link, text, shop, query} and says whether the platform's dialog was opened
  sharing: {},
};

// Only a web page may be opened as a payment page (never a javascript: or data: address).
export const webUrl = (u) => typeof u === 'string' && /^https?:\/\//i.test(u);

function telegram() {
  const W = window.Telegram.WebApp;
  const tgParams = new URLSearchParams(location.hash.slice(1));
  W.ready();
  W.expand();
  const theme = () => {
    const p = W.themeParams || {};
    const map = { bg_color: '--bg', secondary_bg_color: '--card', text_color: '--text', hint_color: '--hint',
      link_color: '--link', button_color: '--accent', button_text_color: '--on-accent',
      section_bg_color: '--card', destructive_text_color: '--danger' };
    for (const [k, v] of Object.entries(map)) if (p[k]) document.documentElement.style.setProperty(v, p[k]);
    document.documentElement.dataset.scheme = W.colorScheme || 'light';
  };
  theme();
  W.onEvent('themeChanged', theme);
  let main = null;
  let back = null;
  W.MainButton.onClick(() => main && main());
  W.BackButton.onClick(() => back && back());
  const invoices = typeof W.openInvoice === 'function' && (!W.isVersionAtLeast || W.isVersionAtLeast('6.1'));
  return {
    ...base,
    kind: 'telegram',
    auth: 'tma ' + W.initData,
    language: W.initDataUnsafe?.user?.language_code,
    start: W.initDataUnsafe?.start_param || tgParams.get('tgWebAppStartParam') || '',
    setMain(text, onClick, disabled) {
      main = onClick;
      if (!text) { W.MainButton.hide(); return; }
      W.MainButton.setParams({ text, is_visible: true, is_active: !disabled });
    },
    setBack(onClick) {
      back = onClick;
      onClick ? W.BackButton.show() : W.BackButton.hide();
    },
    haptic() { try { W.HapticFeedback.impactOccurred('light'); } catch { /* old client */ } },
    closingConfirmation(on) {
      try { on ? W.enableClosingConfirmation() : W.disableClosingConfirmation(); } catch { /* old client */ }
    },
    scan(prompt) {
      return new Promise((resolve) => {
        try {
          W.showScanQrPopup({ text: prompt }, (data) => {
            W.closeScanQrPopup();
            resolve(data);
            return true;
          });
          W.onEvent('scanQrPopupClosed', () => resolve(null));
        } catch { resolve(null); }
      });
    },
    async share(url, text) {
      W.openTelegramLink('https://t.me/share/url?' + new URLSearchParams({ url, text }));
      return true;
    },
    // the page opens in the browser over the Mini App, which stays where it is and follows the order
    openLink(url) { W.openLink(url); },
    openInvoice: invoices ? (link) => new Promise((resolve) => {
      try { W.openInvoice(link, (status) => resolve(status)); } catch { resolve('failed'); }
    }) : null,
    // sharing: a story (Bot API 7.8) and the bot's inline card (6.7, when the bot has inline mode on)
    sharing: telegramSharing(W, tgParams),
  };
}

function vk() {
  const bridge = window.vkBridge;
  const q = new URLSearchParams(location.search);
  const send = (method, params) =>
    bridge ? within(bridge.send(method, params), 1500).catch(() => null) : Promise.resolve(null);
  if (bridge) {
    bridge.subscribe((e) => {
      if (e.detail?.type === 'VKWebAppUpdateConfig') {
        const scheme = e.detail.data?.appearance || (/dark/.test(e.detail.data?.scheme || '') ? 'dark' : 'light');
        document.documentElement.dataset.scheme = scheme;
      }
    });
  }
  send('VKWebAppInit');
  const hash = decodeURIComponent(location.hash.slice(1));
  return {
    ...base,
    kind: 'vk',
    auth: 'vk ' + location.search.slice(1),
    language: q.get('vk_language'),
    start: hash.startsWith('/') ? '' : hash,
    haptic() { send('VKWebAppTapticImpactOccurred', { style: 'light' }); },
    scan: bridge ? async () => {
      // the camera may stay open for a while; the typed code keeps working meanwhile
      try { return (await bridge.send('VKWebAppOpenCodeReader'))?.code_data || null; } catch { return null; }
    } : null,
    async share(url) { return !!(await send('VKWebAppShare', { link: url })); },
    // sharing: a story and a wall post; VK's boxes wait for the person, so no timeout
    sharing: bridge ? vkSharing(bridge) : {},
    // VK Bridge has no method for an outside page: VK's clients open a target=_blank link in their
    // browser (vk.com in a new tab), and the Mini App stays on the order
    openLink(url) {
      const a = document.createElement('a');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener';
      a.click();
    },
    // A community may write to a customer only after they allowed it (or wrote first). The dialog waits
    // for the person, so no timeout; true or false is their answer, null when nothing was asked.
    async allowMessages(groupId) {
      if (!bridge || !groupId) return null;
      try {
        return !!(await bridge.send('VKWebAppAllowMessagesFromGroup', { group_id: Number(groupId) }))?.result;
      } catch (e) {
        return e?.error_data?.error_code === 4 ? false : null;  // 4: the user said no; anything else asked nothing
      }
    },
  };
}

// sharing: each way returns true once the platform's own dialog was opened (Telegram says no more)
function telegramSharing(W, tgParams) {
  const at = (v) => typeof W.isVersionAtLeast === 'function' && W.isVersionAtLeast(v);
  const ways = {};
  if (typeof W.shareToStory === 'function' && at('7.8')) {
    ways.telegram_story = async (o) => {
      W.shareToStory(o.story, { text: o.text, widget_link: { url: o.link, name: o.shop.slice(0, 48) } });
      return true;
    };
  }
  if (typeof W.switchInlineQuery === 'function' && at('6.7') && tgParams.get('tgWebAppBotInline') === '1') {
    ways.telegram_inline = async (o) => { W.switchInlineQuery(o.query, ['users', 'groups', 'channels']); return true; };
  }
  return ways;
}

function vkSharing(bridge) {
  const asked = async (method, params) => { try { return !!(await bridge.send(method, params)); } catch { return false; } };
  return {
    vk_story: (o) => asked('VKWebAppShowStoryBox', { background_type: 'image', url: o.story,
      attachment: { text: 'go_to', type: 'url', url: o.link } }),
    vk_wall: (o) => asked('VKWebAppShowWallPostBox', { message: o.text, attachments: o.link }),
  };
}

export function demoName() {
  let name = store.get('vitrina.demo');
  if (!name) {
    name = 'guest-' + Math.random().toString(36).slice(2, 6);
    store.set('vitrina.demo', name);
  }
  return name;
}

function browser() {
  return {
    ...base,
    kind: 'browser',
    auth: 'demo ' + demoName(),
    language: navigator.language,
    start: new URLSearchParams(location.search).get('start') || '',
  };
}

const session = {
  get: (k) => { try { return sessionStorage.getItem(k); } catch { return null; } },
  set: (k, v) => { try { sessionStorage.setItem(k, v); } catch { /* sandboxed */ } },
};

async function openTelegram() {
  const launch = new URLSearchParams(location.hash.slice(1));
  if (window.Telegram?.WebApp || await loadScript(TG_SCRIPT, 3000)) {
    if (window.Telegram?.WebApp?.initData) {
      session.set('vitrina.tg', '1');
      return telegram();
    }
  }
  // telegram.org did not answer: carry on as a browser, still signed in with the launch data
  const data = launch.get('tgWebAppData');
  if (!data) return null;
  let user = {};
  try { user = JSON.parse(new URLSearchParams(data).get('user')) || {}; } catch { /* no user */ }
  return { ...browser(), auth: 'tma ' + data, language: user.language_code,
    start: new URLSearchParams(data).get('start_param') || '' };
}

async function openVk() {
  await loadScript(VK_SCRIPT, 3000);
  return vk();
}

// The channels whose Mini App this front end knows, by the name the server gives them in /api/config:
// how to tell that the page was opened inside one, and its platform layer. A new channel adds a line.
const PLATFORMS = {
  telegram: {
    opened: () => new URLSearchParams(location.hash.slice(1)).has('tgWebAppData') || !!session.get('vitrina.tg'),
    open: openTelegram,
  },
  vk: {
    opened: () => { const q = new URLSearchParams(location.search); return q.has('vk_app_id') && q.has('sign'); },
    open: openVk,
  },
};

// `channels` is /api/config's: only a configured channel is tried; anything else is the browser (the demo).
export async function detect(channels) {
  wirePageButtons();
  for (const name of Object.keys(channels || {})) {
    const platform = PLATFORMS[name];
    if (platform?.opened()) {
      const opened = await platform.open();
      if (opened) return opened;
    }
  }
  return browser();
}

// Sharing from an order's screen (most of all after pickup): a Telegram story and the bot's inline card,
// a VK story and wall post where the platform offers them, and a plain link everywhere. Every link carries
// the customer's referral code tagged with the way it was shared (GET /api/share); a share is recorded
// (POST /api/shares) once the platform's dialog was opened, so the owner's numbers count it.
import { h, copyText } from '../dom.js';
import { t } from '../i18n.js';
import { api, post } from '../api.js';
import { state } from '../state.js';

const ORDER = ['telegram_story', 'telegram_inline', 'vk_story', 'vk_wall', 'link'];
const STORIES = ['telegram_story', 'vk_story'];  // need the server's story picture
let offered = null;  // GET /api/share, once per launch

const copy = (text) => copyText(text, t('copied'));

// The ways offered here, in order: what the platform can do, a story only with a picture, a link always.
export function ways(offer) {
  const sharing = state.platform.sharing || {};
  return ORDER.filter((kind) => kind === 'link' || (sharing[kind] && (!STORIES.includes(kind) || offer.story)));
}

async function share(kind, offer, order) {
  const shared = offer.links.find((l) => l.kind === kind);
  if (!shared) return;
  // inside VK a friend stays in VK: the VK Mini App's own link, its hash the start parameter
  const vkApp = state.cfg.channels?.vk?.app_id;
  const link = kind.startsWith('vk_') && vkApp ? `https://vk.com/app${vkApp}#${shared.start}` : shared.link;
  const text = t('shareText', { shop: offer.shop });
  let opened;
  try {
    opened = kind === 'link'
      ? await state.platform.share(link, text)
      : await state.platform.sharing[kind]({ story: offer.story, link, text, shop: offer.shop, query: offer.inline_query });
  } catch { opened = false; }
  if (!opened && kind === 'link') { await copy(link); opened = true; }
  if (!opened) return;
  try { await post('shares', { kind, order_id: order?.id || undefined }); } catch { /* counted or not, it was shared */ }
}

// The panel under an order; drawn at once, filled when the offer arrives.
export function sharePanel(order) {
  const box = h('section', { class: 'panel share', 'data-testid': 'share' },
    h('h2', {}, t(order?.status === 'picked_up' ? 'shareAfter' : 'shareTitle')),
    h('p', { class: 'hint' }, t('shareHint')));
  (offered ||= api('share').catch((e) => { offered = null; throw e; })).then((offer) => {
    box.append(h('div', { class: 'share-actions' }, ways(offer).map((kind) =>
      h('button', { type: 'button', class: kind === 'link' ? 'btn' : 'btn primary', 'data-testid': 'share-' + kind,
        onclick: () => share(kind, offer, order) }, t('share_' + kind)))));
  }).catch(() => { box.hidden = true; });
  return box;
}

// Personal data (152-FZ): the consent sheet before the first order, and "My data" (export, deletion) in the
// profile. The policy is the server's page (/api/config's privacy.url); every server text goes in as text.
import { h, fill, toast } from './dom.js';
import { t, date } from './i18n.js';
import { api, post } from './api.js';
import { state, saveCart } from './state.js';
import { store } from './platform.js';

const policy = () => state.cfg.privacy || null;

// The shop asks for consent, and the customer's latest one is to another text of the policy, or there is none.
export const needsConsent = () => Boolean(policy()?.required) && state.me?.consent?.version !== policy().version;

// The policy opens beside the Mini App: with Telegram's link opener inside Telegram, VK's way inside VK, and as
// an ordinary link (a new tab) in the browser.
function policyLink(testid) {
  const url = new URL(policy()?.url || 'privacy', document.baseURI).href;
  const p = state.platform;
  return h('a', { href: url, target: '_blank', rel: 'noopener', 'data-testid': testid,
    onclick: (e) => { if (p.kind !== 'browser') { e.preventDefault(); p.openLink(url); } } }, t('consentPolicy'));
}

let asking = null;  // one sheet at a time: a second ask waits for the same answer

// The sheet: a short text, the policy, "Agree". Resolves true once the server recorded the consent.
export function askConsent() {
  if (asking) return asking;
  asking = new Promise((resolve) => {
    const message = h('p', { class: 'hint error', role: 'alert', 'data-testid': 'consent-error', hidden: true });
    const finish = (given) => {
      sheet.remove();
      document.removeEventListener('keydown', onKey);
      asking = null;
      resolve(given);
    };
    const onKey = (e) => { if (e.key === 'Escape') finish(false); };
    const agree = h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'consent-agree', onclick: async () => {
      agree.disabled = true;
      try {
        const consent = await post('consent', { version: policy().version });
        state.me = { ...state.me, consent };
        finish(true);
      } catch (e) {
        agree.disabled = false;
        message.textContent = e.message;
        message.hidden = false;
        // the policy changed while the sheet was open: the next press consents to the text in force now
        if (e.code === 'consent_version_stale') state.cfg = await api('config').catch(() => state.cfg);
      }
    } }, t('consentAgree'));
    const sheet = h('div', { class: 'sheet-backdrop', 'data-testid': 'consent-sheet',
      onclick: (e) => { if (e.target === sheet) finish(false); } },
    h('div', { class: 'sheet', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'consent-title' },
      h('h2', { id: 'consent-title' }, t('consentTitle')),
      state.me?.consent ? h('p', { class: 'hint', 'data-testid': 'consent-changed' }, t('consentChanged')) : null,
      h('p', {}, t('consentText')),
      h('p', { class: 'sheet-link' }, policyLink('consent-policy')),
      message,
      agree,
      h('button', { type: 'button', class: 'link sheet-later', 'data-testid': 'consent-later', onclick: () => finish(false) },
        t('consentLater'))));
    document.addEventListener('keydown', onKey);
    document.body.append(sheet);
    agree.focus({ preventScroll: true });
  });
  return asking;
}

// Before an order: true when it may go on (consent not asked, already given, or given now).
export const ensureConsent = async () => !needsConsent() || askConsent();

// Save what the server answers as a file: an <a download> over a blob (Telegram's WebView may not save it:
// the chat's /mydata sends the same file there).
async function download(e) {
  const button = e.currentTarget;
  button.disabled = true;
  try {
    const res = await api('me/export', { raw: true });
    const blob = await res.blob();
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '')?.[1] || 'my-data.json';
    const url = URL.createObjectURL(new Blob([blob], { type: 'application/json' }));
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    toast(t('downloaded'));
  } catch (err) { toast(err.message, true); } finally { button.disabled = false; }
}

// What this browser kept for the person goes too: the cart, the e-mail, the chosen payment.
function forgetHere() {
  for (const key of ['vitrina.cart', 'vitrina.email', 'vitrina.pay', 'vitrina.messages']) store.set(key, '');
  state.cart = { lines: [], promo: null, points: 0 };
  saveCart();
  state.me = { ...state.me, consent: null, points: 0, channels: [] };
}

function deleted(ctx) {
  return h('section', { class: 'panel deleted', role: 'status', 'data-testid': 'data-deleted' },
    h('h2', {}, t('forgotten')), h('p', {}, t('forgottenHint')),
    h('button', { type: 'button', class: 'btn wide', onclick: () => ctx.go('#/menu') }, t('toMenu')));
}

// "My data" in the profile: the consent given, the policy, download, delete (asked once more first).
export function myData(ctx) {
  const box = h('section', { class: 'panel', 'data-testid': 'my-data' });
  const given = state.me?.consent;
  const draw = () => fill(box, h('h2', {}, t('myData')), h('p', { class: 'hint' }, t('myDataHint')),
    given ? h('p', { class: 'hint', 'data-testid': 'consent-given' }, t('consentGiven', { t: date(given.given_at) })) : null,
    h('p', {}, policyLink('privacy-link')),
    h('div', { class: 'data-actions' },
      h('button', { type: 'button', class: 'btn', 'data-testid': 'data-export', onclick: download }, t('download')),
      h('button', { type: 'button', class: 'btn danger', 'data-testid': 'data-forget', onclick: ask }, t('forget'))),
    state.platform.kind === 'browser' ? null : h('p', { class: 'hint' }, t('downloadChat')));
  const forget = async (e) => {
    e.currentTarget.disabled = true;
    try {
      await post('me/forget', { confirm: true });
    } catch (err) {
      toast(err.message, true);
      draw();
      return;
    }
    forgetHere();
    fill(box.parentElement || box, deleted(ctx));
  };
  const ask = () => fill(box, h('h2', {}, t('forget')),
    h('p', { role: 'alert', 'data-testid': 'forget-ask' }, t('forgetAsk')),
    h('div', { class: 'data-actions' },
      h('button', { type: 'button', class: 'btn danger-btn', 'data-testid': 'forget-yes', onclick: forget }, t('forgetYes')),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'forget-no', onclick: draw }, t('keep'))));
  draw();
  return box;
}

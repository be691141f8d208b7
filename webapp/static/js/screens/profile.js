// Profile: points, referral link, account linking, language, and the demo's staff switch.
import { h, field, select, toast, copyText } from '../dom.js';
import { t, money, date, lang } from '../i18n.js';
import { api, post } from '../api.js';
import { store, demoName } from '../platform.js';
import { state } from '../state.js';
import { referrals } from './referrals.js';
import { pointsPanel } from './points.js';  // points: tier, history, birthday
import { myGifts } from './gift.js';
import { myData } from '../privacy.js';  // personal data

const copy = (text) => copyText(text, t('copied'));

function linking(ctx) {
  const out = h('p', { class: 'code', 'aria-live': 'polite', 'data-testid': 'link-code' });
  const input = h('input', { placeholder: t('enterCode'), inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 12, id: 'link-input',
    'data-testid': 'link-input' });
  return h('section', { class: 'panel' }, h('h2', {}, t('link')), h('p', { class: 'hint' }, t('linkHint')),
    h('button', { type: 'button', class: 'btn', 'data-testid': 'link-get', onclick: async () => {
      try {
        const r = await post('link/code');
        out.replaceChildren(h('strong', {}, r.code), ' ', h('small', {}, t('validUntil', { t: date(r.expires_at) })));
      } catch (e) { toast(e.message, true); }
    } }, t('getCode')),
    out,
    h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      try {
        state.me = await post('link', { code: input.value.trim() });
        toast(t('linked'));
        ctx.refresh();
      } catch (err) { toast(err.message, true); }
    } }, h('label', { for: 'link-input', class: 'sr' }, t('enterCode')),
      h('span', { class: 'grow' }, input), h('button', { type: 'submit', class: 'btn', 'data-testid': 'link-send' }, 'OK')));
}

function demoStaff(ctx) {
  const on = demoName() === 'staff';
  return h('label', { class: 'check panel' },
    h('input', { type: 'checkbox', checked: on, 'data-testid': 'demo-staff', onchange: (e) => {
      if (e.target.checked) { store.set('vitrina.demo.guest', demoName()); store.set('vitrina.demo', 'staff'); }
      else store.set('vitrina.demo', store.get('vitrina.demo.guest') || '');
      location.hash = e.target.checked ? '#/staff' : '#/profile';
      location.reload();
    } }),
    h('span', {}, t('demoStaff'), h('br'), h('small', { class: 'hint' }, t('demoStaffHint'))));
}

// Points packs for Telegram Stars: only inside Telegram, where openInvoice exists and the server lists them.
async function packs(ctx) {
  if (!state.platform.openInvoice) return null;
  let found = [];
  try { found = (await api('packs')).packs; } catch { return null; }
  if (!found.length) return null;
  const buy = (p) => async (e) => {
    e.currentTarget.disabled = true;
    try {
      const bought = await post(`packs/${encodeURIComponent(p.id)}`);
      const status = await state.platform.openInvoice(bought.invoice_link);
      if (status === 'paid') {
        toast(t('packPaid', { n: p.points }));
        setTimeout(() => ctx.refresh(), 1500);  // the points arrive with Telegram's payment message
      } else if (status === 'failed') toast(t('packFailed'), true);
    } catch (err) { toast(err.message, true); } finally { e.target.disabled = false; }
  };
  return h('section', { class: 'panel', 'data-testid': 'packs' }, h('h2', {}, t('packs')),
    h('p', { class: 'hint' }, t('packsHint')),
    h('div', { class: 'row pack-list' }, ...found.map((p) => h('button', { type: 'button', class: 'btn',
      'data-testid': `pack-${p.id}`, onclick: buy(p) }, t('packBuy', { n: p.points, stars: p.stars })))));
}

export async function render(ctx) {
  ctx.title(t('profile'));
  const me = state.me = await api('me');
  const currency = state.cfg.currency || 'RUB';
  const link = me.referral_link ? new URL(me.referral_link, location.href).href : '';
  return h('div', { class: 'profile' },
    h('section', { class: 'panel' },
      h('h2', { 'data-testid': 'me-name' }, me.name || ''),
      h('p', { class: 'balance' }, t('balance') + ': ', h('b', { 'data-testid': 'points' }, money(me.points || 0, currency))),
      me.channels?.length ? h('p', { class: 'hint' }, t('accounts') + ': ' + me.channels.map((c) => c.channel).join(', ')) : null),
    link ? h('section', { class: 'panel' }, h('h2', {}, t('referral')), h('p', { class: 'hint' }, t('referralHint')),
      h('input', { readonly: true, value: link, 'aria-label': t('referral'), 'data-testid': 'referral-link',
        onfocus: (e) => e.target.select() }),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn', 'data-testid': 'copy-referral', onclick: () => copy(link) }, t('copy')),
        h('button', { type: 'button', class: 'btn', 'data-testid': 'share-referral', onclick: async () => {
          if (!await state.platform.share(link, state.cfg.shop || '')) copy(link);
        } }, t('share')))) : null,
    await pointsPanel(currency),  // points: tier, history, birthday
    await referrals(),
    await myGifts(),
    await packs(ctx),
    linking(ctx),
    h('section', { class: 'panel' }, field(t('language'), select([{ id: 'ru', name: 'Русский' }, { id: 'en', name: 'English' }],
      lang, async (code) => { await ctx.changeLanguage(code, true); ctx.refresh(); }, { 'data-testid': 'language' }))),
    myData(ctx),  // personal data: consent, export, deletion
    state.platform.kind === 'browser' && state.cfg.demo ? demoStaff(ctx) : null,
    me.is_staff ? h('a', { class: 'btn wide', href: '#/staff', 'data-testid': 'to-staff' }, t('staff')) : null);
}

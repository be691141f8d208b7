// Invited friends on the profile: what the invitation pays and when, the month's cap, each friend and the totals.
import { h } from '../dom.js';
import { t, money, date } from '../i18n.js';
import { api } from '../api.js';
import { state } from '../state.js';

const STATUS = { pending: 'refPending', rewarded: 'refRewarded', capped: 'refCapped', void: 'refVoid' };

function friend(f) {
  return h('li', { class: 'ref-friend', 'data-testid': 'referral-friend', 'data-status': f.status },
    h('b', {}, f.name || t('refNoName')), ' · ', h('small', { class: 'hint' }, date(f.joined_at)), ' · ',
    h('span', {}, t(STATUS[f.status] || f.status)),
    f.points ? h('span', { class: 'ref-points' }, ' +' + f.points) : null);
}

export async function referrals() {
  let r;
  try { r = await api('me/referrals'); } catch { return null; }
  const currency = state.cfg.currency || 'RUB';
  return h('section', { class: 'panel', 'data-testid': 'referrals' }, h('h2', {}, t('refFriends')),
    r.invitation === 'pending' ? h('p', { class: 'ref-invited', 'data-testid': 'referral-invited' },
      t('refInvited', { n: r.bonus, m: money(r.bonus, currency) })) : null,
    h('p', { 'data-testid': 'referral-terms' }, t('refTerms', { n: r.bonus, m: money(r.bonus, currency) })),
    r.monthly_cap ? h('p', { class: 'hint', 'data-testid': 'referral-cap' },
      t('refCapLeft', { left: r.left_this_month, cap: r.monthly_cap })) : null,
    r.friends.length
      ? h('ul', { class: 'ref-list' }, ...r.friends.map(friend))
      : h('p', { class: 'hint' }, t('refNone')),
    h('p', { 'data-testid': 'referral-totals' }, t('refTotals', { n: r.invited, points: r.points })));
}

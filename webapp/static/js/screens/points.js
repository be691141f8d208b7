// The profile's points (GET /api/me/points): the tier and what is left to the next, points expiring soon, the
// ledger's history page by page, and the opt-in birthday (PUT/DELETE /api/me/birthday).
import { h, fill, toast } from '../dom.js';
import { t, money, date, locale } from '../i18n.js';
import { api } from '../api.js';
import { state } from '../state.js';

const reason = (r) => t('pr_' + r) === 'pr_' + r ? r : t('pr_' + r);

function moves(list) {
  return list.map((m) => h('li', { class: 'move', 'data-testid': 'points-move' },
    h('span', {}, reason(m.reason), m.short_code ? h('small', {}, ' № ' + m.short_code) : null,
      h('br'), h('small', { class: 'hint' }, date(m.at))),
    h('b', { class: m.delta > 0 ? 'plus' : 'minus' }, (m.delta > 0 ? '+' : '−') + money(Math.abs(m.delta), state.cfg.currency || 'RUB'))));
}

function birthday(p, box, redraw) {
  const b = p.birthday;
  if (!b.percent) return null;
  const day = h('input', { type: 'number', min: 1, max: 31, value: b.day ?? '', 'aria-label': t('bdDay'), 'data-testid': 'bd-day' });
  const month = h('select', { 'aria-label': t('bdMonth'), 'data-testid': 'bd-month' },
    Array.from({ length: 12 }, (_, i) => h('option', { value: i + 1, selected: b.month === i + 1 },
      new Date(2000, i, 1).toLocaleDateString(locale(), { month: 'long' }))));
  const save = async (e) => {
    e.preventDefault();
    try {
      redraw(await api('me/birthday', { method: 'PUT', body: { day: Number(day.value), month: Number(month.value) } }));
      toast(t('bdSaved'));
    } catch (err) { toast(err.message, true); }
  };
  return h('form', { class: 'bd', onsubmit: save, 'data-testid': 'birthday' },
    h('h3', {}, t('bdTitle')), h('p', { class: 'hint' }, t('bdHint', { p: b.percent, d: b.days })),
    h('div', { class: 'row' }, day, month,
      h('button', { type: 'submit', class: 'btn', 'data-testid': 'bd-save' }, t('bdSave')),
      b.day ? h('button', { type: 'button', class: 'link', 'data-testid': 'bd-forget', onclick: async () => {
        try { redraw(await api('me/birthday', { method: 'DELETE' })); } catch (err) { toast(err.message, true); }
      } }, t('bdForget')) : null));
}

export async function pointsPanel(currency = 'RUB') {
  let p;
  try { p = await api('me/points'); } catch { return null; }
  const box = h('section', { class: 'panel points', 'data-testid': 'points-panel' });
  const draw = (data) => {
    const list = h('ul', { class: 'moves' }, moves(data.history));
    let more = data.more;
    const moreBtn = h('button', { type: 'button', class: 'link', 'data-testid': 'points-more', hidden: more === null,
      onclick: async () => {
        try {
          const page = await api('me/points?before=' + more);
          list.append(...moves(page.history));
          more = page.more;
          moreBtn.hidden = more === null;
        } catch (err) { toast(err.message, true); }
      } }, t('pointsMore'));
    fill(box,
      h('h2', {}, t('tier'), ': ', h('span', { 'data-testid': 'tier-name' }, data.tier.name),
        ' ', h('small', {}, t('tierEarn', { p: data.tier.percent }))),
      data.next_tier ? h('p', { class: 'hint', 'data-testid': 'tier-next' },
        t('tierNext', { left: money(data.to_next, currency), name: data.next_tier.name, p: data.next_tier.percent })) : null,
      data.expiring ? h('p', { class: 'warn', 'data-testid': 'points-expiring' },
        t('pointsExpiring', { n: money(data.expiring, currency), d: date(data.expiring_at) })) : null,
      h('h3', {}, t('pointsHistory')),
      data.history.length ? list : h('p', { class: 'hint' }, t('pointsNone')),
      moreBtn,
      birthday(data, box, draw));
  };
  draw(p);
  return box;
}

// Mini App texts. Russian is the default; English when the user's language is English.
const ru = {
  loading: 'Загрузка…', back: 'Назад', menu: 'Меню', cart: 'Корзина', orders: 'Заказы', profile: 'Профиль',
  staff: 'Персонал', point: 'Точка выдачи', soldOut: 'Нет в наличии', add: 'Добавить', added: 'Добавлено в корзину',
  addToCart: 'В корзину', checkout: 'Оформить заказ', place: 'Заказать', pay: 'Оплатить', none: 'Не нужно',
  quantity: 'Количество', reviews: 'Отзывы', noReviews: 'Отзывов пока нет', emptyCart: 'Корзина пуста',
  toMenu: 'Перейти в меню', subtotal: 'Сумма', discount: 'Скидка', pointsUsed: 'Баллами', total: 'Итого',
  clear: 'Очистить', remove: 'Убрать', more: 'Ещё', less: 'Меньше', when: 'Когда забрать', asap: 'Как можно скорее',
  later: 'Ко времени', promo: 'Промокод', apply: 'Применить', usePoints: 'Списать баллы: {n}',
  balance: 'Баллы', payment: 'Оплата', counter: 'Оплата на кассе', order: 'Заказ №{n}', code: 'Код выдачи',
  showCode: 'Покажите QR-код или назовите код на кассе', st_placed: 'Оформлен', st_accepted: 'Готовится',
  st_ready: 'Готов к выдаче', st_picked_up: 'Выдан', st_cancelled: 'Отменён', st_expired: 'Просрочен',
  ph_placed: 'Оформлен', ph_accepted: 'Принят', ph_ready: 'Готов', ph_picked_up: 'Выдан',
  cancel: 'Отменить заказ', cancelled: 'Заказ отменён', pickupAt: 'Забрать', repeat: 'Повторить',
  repeated: 'Заказ добавлен в корзину', skipped: 'Не всё есть в меню: пропущено {n}', noOrders: 'Заказов пока нет',
  rate: 'Оценить', send: 'Отправить', thanks: 'Спасибо за отзыв!', yourReview: 'Ваш отзыв',
  referral: 'Пригласите друга', referralHint: 'Когда друг заберёт свой первый заказ, вы оба получите баллы.',
  packs: 'Баллы за звёзды', packsHint: 'Купите баллы за звёзды Telegram: 1 балл = 1 копейка скидки.',
  packBuy: '{n} баллов за {stars} ⭐', packPaid: 'Оплачено: {n} баллов скоро появятся на счёте',
  packFailed: 'Оплата не прошла',
  copy: 'Копировать', copied: 'Скопировано', share: 'Поделиться', link: 'Связать аккаунты',
  linkHint: 'Получите код здесь и введите его в другом приложении (Telegram или VK) — история и баллы объединятся.',
  getCode: 'Получить код', enterCode: 'Код из другого приложения', linked: 'Аккаунты связаны', validUntil: 'действует до {t}',
  language: 'Язык', demoStaff: 'Войти как сотрудник', demoStaffHint: 'Демо: режим сотрудника', accounts: 'Аккаунты',
  scan: 'Сканировать QR', typeCode: 'Код выдачи', find: 'Найти', handOver: 'Выдать', accept: 'Принять',
  ready: 'Готов', handedOver: 'Заказ выдан', openOrders: 'Открытые заказы', noOpen: 'Открытых заказов нет',
  customer: 'Покупатель', network: 'Нет связи. Проверьте интернет и попробуйте ещё раз.', retry: 'Повторить попытку',
  notFound: 'Страница не найдена', stars: '{n} из 5', item: 'Позиция', pcs: '{n} шт.', closed: 'закрыто',
  tomorrow: 'завтра в {t}', opensAt: 'Сейчас точка закрыта. Откроется {t} — выберите время.',
  closedNow: 'Точка сейчас не принимает заказы.', table: 'Стол {n}', late: 'Опаздывает на {n} мин', byTime: 'к {t}',
  staffCancel: 'Отменить', cancelAsk: 'Отменить заказ №{n}?', cancelYes: 'Да, отменить', keep: 'Нет',
  codeAsk: 'Код покупателя', wrongCode: 'Это код другого заказа (№{n}). Ничего не изменилось.',
  payCounter: 'на кассе', payOnline: 'оплачено онлайн', payHeld: 'заблокировано до выдачи', payAwaiting: 'ждёт оплаты',
  payReturned: 'возвращено', card: 'Картой онлайн', payTelegram: 'Оплатить в Telegram',
  choosePay: 'Выберите способ оплаты', email: 'E-mail для чека', emailBad: 'Проверьте e-mail: на него придёт чек.',
  emailNeeded: 'Укажите e-mail: на него придёт чек.', awaitingPay: 'Ожидаем оплату', refresh: 'Обновить',
  paidHeld: 'Оплачено (деньги заблокированы до выдачи)', paid: 'Оплачено', refunded: 'Возвращено {n}',
  payFailed: 'Оплата не прошла', payVoided: 'Оплата отменена', payNotDone: 'Оплата не завершена',
  payChecking: 'Платёж получен, подтверждаем…', payProcessing: 'Платёж обрабатывается…',
  payStopped: 'Статус больше не обновляется сам: нажмите «Обновить».', codeAfterPay: 'Код выдачи появится после оплаты',
  waitingPay: 'ждёт оплаты', m_counter: 'на кассе', m_yookassa: 'картой онлайн', m_telegram: 'в Telegram',
  // referrals that hold
  refFriends: 'Приглашённые друзья', refTerms: 'Когда друг заберёт свой первый заказ, вы оба получите {n} баллов ({m}).',
  refCapLeft: 'Бонусов за друзей в этом месяце осталось: {left} из {cap}. Сверх этого друг всё равно получит баллы.',
  refNone: 'Пока никого. Отправьте другу ссылку выше.', refTotals: 'Пришло друзей: {n}, вам начислено баллов: {points}',
  refPending: 'ждём первый заказ', refRewarded: 'бонус начислен', refCapped: 'другу начислено, вам — лимит месяца',
  refVoid: 'не засчитано', refNoName: 'Друг',
  refInvited: 'Вас пригласил друг: когда вы заберёте свой первый заказ, вы оба получите {n} баллов ({m}).',
  // group orders
  group: 'Групповой заказ', groupNew: 'Заказ с друзьями', groupStart: 'Собрать с друзьями',
  groupHint: 'Друзья добавят свои позиции по ссылке. Когда наберётся {m} человек, скидка {p}% для всех. Забираете всё в одной точке.',
  groupYourLines: 'Ваша корзина ({n} шт.) войдёт в заказ.', groupNoLines: 'Ваша корзина пуста: вы только собираете заказ друзей.',
  groupPayer: 'Кто платит', payerOrganiser: 'Я плачу за всех (один заказ)', payerEach: 'Каждый за себя, на кассе',
  groupOpen: 'Открыть групповой заказ', groupAsap: 'как можно скорее после закрытия',
  groupProgress: '{n} из {m} — скидка {p}% для всех, когда наберётся {m}', groupReached: '{n} из {m} — скидка {p}% для всех!',
  groupGot: 'Собралось {n}: скидка {p}% для всех', groupMissed: 'Собралось {n} из {m}: без скидки',
  groupLeft: 'До закрытия: {t}', groupTimeUp: 'Время сбора вышло', groupInvite: 'Пригласите друзей',
  groupShareText: 'Заказываем вместе: скидка {p}% для всех', groupAdd: 'Добавить мою корзину',
  groupReplace: 'Заменить мои позиции корзиной', groupAdded: 'Ваши позиции в групповом заказе',
  groupChooseHint: 'Выберите позиции в меню и вернитесь сюда из корзины.', groupChangeHint: 'Чтобы изменить свои позиции, соберите корзину заново.',
  groupClose: 'Закрыть и заказать', groupCancel: 'Отменить групповой заказ', groupMyOrder: 'Мой заказ',
  groupToGroup: 'В групповой заказ', groupYou: 'вы', groupOrganiser: 'собирает заказ',
  groupPickup: 'Забрать: {point}, {t}', groupOrganiserPays: 'платит организатор', groupEachPays: 'каждый платит за себя на кассе',
  gst_open: 'Идёт сбор', gst_closed: 'Закрыт, заказы оформляются', gst_ordered: 'Заказ оформлен', gst_cancelled: 'Отменён',
  gst_expired: 'Никто не добавил позиций',
  groupGuest: 'Гость',
  // sharing
  shareTitle: 'Расскажите друзьям', shareAfter: 'Понравилось? Поделитесь',
  shareHint: 'Друг, который придёт по вашей ссылке, и вы получите баллы, когда он заберёт свой первый заказ.',
  shareText: '{shop}: заказываю заранее и забираю без очереди. Заходи по ссылке — после твоего первого заказа баллы получим оба.',
  share_telegram_story: 'В историю', share_telegram_inline: 'Карточкой в чат', share_vk_story: 'В историю ВКонтакте',
  share_vk_wall: 'На стену', share_link: 'Ссылкой',
  // suggestions and points
  suggUsual: 'Ваше обычное', suggNow: 'Сейчас берут', suggTogether: 'Часто берут вместе',
  tier: 'Уровень', tierEarn: '{p}% баллами', tierNext: 'До уровня «{name}» ({p}%) осталось потратить {left}',
  pointsExpiring: 'Баллы на {n} сгорят {d}', pointsHistory: 'История баллов', pointsNone: 'Пока ни одного начисления.',
  pointsMore: 'Показать ещё',
  pr_earn: 'Начислено за заказ', pr_spend: 'Оплата заказа', pr_refund: 'Возврат баллов', pr_referral: 'Бонус за друга',
  pr_expire: 'Сгорели', pr_adjust: 'Начисление магазина', pr_stars: 'Куплены за звёзды', pr_stars_refund: 'Возврат звёзд', pr_referral_void: 'Бонус за друга отменён',
  bdTitle: 'День рождения', bdHint: 'Скидка {p}% на один заказ за {d} дн. до и после дня рождения. Год не нужен.',
  bdDay: 'День', bdMonth: 'Месяц', bdSave: 'Сохранить', bdSaved: 'Сохранено', bdForget: 'Удалить',
  birthdayOff: 'Скидка ко дню рождения',
  // gifts
  gift: 'Подарок', giftsMine: 'Мои подарки', giftNew: 'Подарить другу', giftGive: 'Подарить', giftPay: 'Оплатить подарок',
  giftHint: 'Друг заберёт подарок в любой точке по ссылке — в Telegram, ВКонтакте или в браузере. Не заберёт за {days} дн. — деньги вернутся вам.',
  giftAmount: 'Сумма', giftMessage: 'Пожелание (необязательно)', giftMessageHint: 'С днём рождения!',
  giftNoPay: 'Подарок оплачивается онлайн, а онлайн-оплата здесь недоступна.',
  giftOf: 'подарок на {amount}', giftShareText: 'Тебе подарок: {what}!', giftSendHint: 'Отправьте ссылку другу:',
  giftYours: 'Ваш подарок: {what}', giftFrom: 'Подарок от {name}: {what}', giftUntil: 'Действует до {at}',
  giftTake: 'Забрать подарок', giftOrder: 'Заказать подарок', giftMyOrder: 'Мой заказ с подарком',
  giftTaken: 'Этот подарок уже забрал другой человек.', giftAmountHint: 'Подарок оплатит корзину до {amount}: добавьте позиции в корзину.', giftCartCovered: 'Ваша корзина ({n} шт.): подарок оплатит до {amount}, остальное — на кассе.', giftToGift: 'К подарку',
  giftStatus_awaiting_payment: 'ждёт оплаты', giftStatus_active: 'оплачен — можно забрать', giftStatus_claimed: 'принят',
  giftStatus_redeemed: 'получен', giftStatus_failed: 'не оплачен', giftStatus_expired: 'истёк', giftStatus_refunded: 'истёк, деньги возвращены',
  // personal data
  consentTitle: 'Согласие на обработку данных',
  consentText: 'Чтобы оформить заказ, магазину нужно ваше согласие на обработку персональных данных: имени, аккаунта, заказов и баллов. Что мы храним, зачем и как это удалить — в политике.',
  consentChanged: 'Политика изменилась с вашего прошлого согласия: прочитайте её и подтвердите согласие.',
  consentPolicy: 'Политика обработки персональных данных', consentAgree: 'Согласен', consentLater: 'Не сейчас',
  myData: 'Мои данные', myDataHint: 'Скачайте всё, что магазин хранит о вас, или удалите свои данные.',
  consentGiven: 'Согласие на обработку данных дано {t}', download: 'Скачать мои данные', downloaded: 'Файл сохранён',
  downloadChat: 'Если файл не сохранился, отправьте боту команду /mydata — он пришлёт его в чат.',
  forget: 'Удалить мои данные', forgetYes: 'Да, удалить',
  forgetAsk: 'Удалить профиль, баллы, историю заказов и связанные аккаунты? Это нельзя отменить.',
  forgotten: 'Ваши данные удалены',
  forgottenHint: 'Профиль, баллы и связанные аккаунты удалены. Если вы снова откроете магазин, он начнёт с чистого листа.',
};
const dicts = { ru };
export let lang = 'ru';
export const normLang = (code) => (/^en\b/i.test(code || '') ? 'en' : 'ru');
// English is a file of its own, fetched the first time it is chosen; if it cannot be had, the texts stay Russian
export async function setLang(code) {
  let wanted = normLang(code);
  if (!dicts[wanted]) {
    try { dicts.en = (await import('./i18n-en.js')).en; } catch { wanted = 'ru'; }
  }
  lang = wanted;
  document.documentElement.lang = lang;
}
export const t = (key, vars) =>
  (dicts[lang][key] ?? ru[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars?.[k] ?? '');

export const locale = () => (lang === 'en' ? 'en-GB' : 'ru-RU');
// Client-side display only (option deltas on the item screen); totals always come from the server.
export function money(amount, currency = 'RUB') {
  const sign = { RUB: '₽', XTR: '⭐' }[currency] || currency;
  const n = currency === 'XTR' ? amount : amount / 100;
  const digits = Number.isInteger(n) ? 0 : 2;
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n)
    + '\u00a0' + sign;
}
// Times are shown in the shop's time zone: a pickup "at 09:30" means the counter's clock, wherever the phone is.
let zone;
export const setZone = (z) => { try { new Intl.DateTimeFormat('ru', { timeZone: z }); zone = z; } catch { zone = undefined; } };
export const time = (iso) =>
  new Date(iso).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit', timeZone: zone });
export const date = (iso) => new Date(iso).toLocaleString(locale(),
  { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: zone });
// The shop's calendar day of a time, to tell today's times from tomorrow's.
const day = (at) => new Date(at).toLocaleDateString('en-CA', { timeZone: zone });
// A pickup time: 09:30 today, "tomorrow at 09:30", a date further on.
export function when(iso) {
  const days = Math.round((Date.parse(day(iso)) - Date.parse(day(Date.now()))) / 864e5);
  return days === 0 ? time(iso) : days === 1 ? t('tomorrow', { t: time(iso) }) : date(iso);
}

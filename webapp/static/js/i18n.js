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
const en = {
  loading: 'Loading…', back: 'Back', menu: 'Menu', cart: 'Cart', orders: 'Orders', profile: 'Profile',
  staff: 'Staff', point: 'Pickup point', soldOut: 'Sold out', add: 'Add', added: 'Added to cart',
  addToCart: 'Add to cart', checkout: 'Checkout', place: 'Place order', pay: 'Pay', none: 'None',
  quantity: 'Quantity', reviews: 'Reviews', noReviews: 'No reviews yet', emptyCart: 'Your cart is empty',
  toMenu: 'Go to the menu', subtotal: 'Subtotal', discount: 'Discount', pointsUsed: 'Points', total: 'Total',
  clear: 'Clear', remove: 'Remove', more: 'More', less: 'Less', when: 'Pickup time', asap: 'As soon as possible',
  later: 'At a time', promo: 'Promo code', apply: 'Apply', usePoints: 'Use points: {n}',
  balance: 'Points', payment: 'Payment', counter: 'Pay at the counter', order: 'Order #{n}', code: 'Pickup code',
  showCode: 'Show the QR code or tell the code at the counter', st_placed: 'Placed', st_accepted: 'Being made',
  st_ready: 'Ready for pickup', st_picked_up: 'Picked up', st_cancelled: 'Cancelled', st_expired: 'Expired',
  ph_placed: 'Placed', ph_accepted: 'Accepted', ph_ready: 'Ready', ph_picked_up: 'Picked up',
  cancel: 'Cancel order', cancelled: 'Order cancelled', pickupAt: 'Pickup', repeat: 'Repeat',
  repeated: 'The order is in your cart', skipped: 'Some items are off the menu: {n} skipped', noOrders: 'No orders yet',
  rate: 'Rate', send: 'Send', thanks: 'Thank you for the review!', yourReview: 'Your review',
  referral: 'Invite a friend', referralHint: 'When your friend picks up their first order, you both get points.',
  packs: 'Points for Stars', packsHint: 'Buy points for Telegram Stars: 1 point = 1 kopeck off.',
  packBuy: '{n} points for {stars} ⭐', packPaid: 'Paid: {n} points will be yours in a moment',
  packFailed: 'The payment failed',
  copy: 'Copy', copied: 'Copied', share: 'Share', link: 'Link accounts',
  linkHint: 'Get a code here and enter it in the other app (Telegram or VK): history and points are merged.',
  getCode: 'Get a code', enterCode: 'Code from the other app', linked: 'Accounts linked', validUntil: 'valid until {t}',
  language: 'Language', demoStaff: 'Sign in as staff', demoStaffHint: 'Demo: staff mode', accounts: 'Accounts',
  scan: 'Scan QR', typeCode: 'Pickup code', find: 'Find', handOver: 'Hand over', accept: 'Accept',
  ready: 'Ready', handedOver: 'Order handed over', openOrders: 'Open orders', noOpen: 'No open orders',
  customer: 'Customer', network: 'No connection. Check the internet and try again.', retry: 'Try again',
  notFound: 'Page not found', stars: '{n} of 5', item: 'Item', pcs: '{n} pcs', closed: 'closed',
  tomorrow: 'tomorrow at {t}', opensAt: 'The point is closed now. It opens {t}: choose a time.',
  closedNow: 'This point takes no orders now.', table: 'Table {n}', late: '{n} min late', byTime: 'by {t}',
  staffCancel: 'Cancel', cancelAsk: 'Cancel order #{n}?', cancelYes: 'Yes, cancel', keep: 'No',
  codeAsk: "Customer's code", wrongCode: 'That code is of another order (#{n}). Nothing changed.',
  payCounter: 'at the counter', payOnline: 'paid online', payHeld: 'held until pickup', payAwaiting: 'awaiting payment',
  payReturned: 'refunded', card: 'Card online', payTelegram: 'Pay in Telegram',
  choosePay: 'Choose how to pay', email: 'E-mail for the receipt', emailBad: 'Check the e-mail: the receipt goes there.',
  emailNeeded: 'Enter an e-mail for the receipt.', awaitingPay: 'Waiting for the payment', refresh: 'Refresh',
  paidHeld: 'Paid (the money is held until pickup)', paid: 'Paid', refunded: 'Refunded {n}',
  payFailed: 'The payment failed', payVoided: 'The payment was cancelled', payNotDone: 'The payment was not completed',
  payChecking: 'Payment received, confirming…', payProcessing: 'The payment is being processed…',
  payStopped: 'The status no longer updates by itself: tap Refresh.', codeAfterPay: 'The pickup code appears once paid',
  waitingPay: 'awaiting payment', m_counter: 'at the counter', m_yookassa: 'card online', m_telegram: 'in Telegram',
  // referrals that hold
  refFriends: 'Invited friends', refTerms: 'When your friend picks up their first order, you both get {n} points ({m}).',
  refCapLeft: 'Friend bonuses left this month: {left} of {cap}. Beyond that your friend still gets the points.',
  refNone: 'Nobody yet. Send a friend the link above.', refTotals: 'Friends who came: {n}, points you got: {points}',
  refPending: 'waiting for the first order', refRewarded: 'bonus paid', refCapped: 'paid to the friend; your monthly limit',
  refVoid: 'not counted', refNoName: 'Friend',
  refInvited: 'A friend invited you: when you pick up your first order, you both get {n} points ({m}).',
  // group orders
  group: 'Group order', groupNew: 'Order with friends', groupStart: 'Order with friends',
  groupHint: 'Friends add their items by the link. Once {m} people join, {p}% off for everyone. You pick everything up at one point.',
  groupYourLines: 'Your cart ({n} pcs) goes into the order.', groupNoLines: 'Your cart is empty: you only gather your friends\' order.',
  groupPayer: 'Who pays', payerOrganiser: 'I pay for everyone (one order)', payerEach: 'Everyone pays their own at the counter',
  groupOpen: 'Open the group order', groupAsap: 'as soon as possible after it closes',
  groupProgress: '{n} of {m} joined — {p}% off for everyone when {m} join', groupReached: '{n} of {m} joined — {p}% off for everyone!',
  groupGot: '{n} joined: {p}% off for everyone', groupMissed: '{n} of {m} joined: no discount',
  groupLeft: 'Closes in {t}', groupTimeUp: 'Time to join is up', groupInvite: 'Invite friends',
  groupShareText: 'Let\'s order together: {p}% off for everyone', groupAdd: 'Add my cart',
  groupReplace: 'Replace my items with my cart', groupAdded: 'Your items are in the group order',
  groupChooseHint: 'Choose from the menu and come back here from the cart.', groupChangeHint: 'To change your items, fill the cart again.',
  groupClose: 'Close and order', groupCancel: 'Call off the group order', groupMyOrder: 'My order',
  groupToGroup: 'To the group order', groupYou: 'you', groupOrganiser: 'organiser',
  groupPickup: 'Pickup: {point}, {t}', groupOrganiserPays: 'the organiser pays', groupEachPays: 'everyone pays their own at the counter',
  gst_open: 'Gathering', gst_closed: 'Closed, placing the orders', gst_ordered: 'Ordered', gst_cancelled: 'Cancelled',
  gst_expired: 'Nobody added anything',
  groupGuest: 'Guest',
  // sharing
  shareTitle: 'Tell your friends', shareAfter: 'Enjoyed it? Share it',
  shareHint: 'A friend who comes by your link and you both get points once they pick up their first order.',
  shareText: '{shop}: I order ahead and skip the queue. Come by this link — after your first order we both get points.',
  share_telegram_story: 'To my story', share_telegram_inline: 'As a card in a chat', share_vk_story: 'To my VK story',
  share_vk_wall: 'To my wall', share_link: 'As a link',
  // suggestions and points
  suggUsual: 'Your usual', suggNow: 'Popular right now', suggTogether: 'Often taken together',
  tier: 'Tier', tierEarn: '{p}% back in points', tierNext: 'Spend {left} more to reach {name} ({p}%)',
  pointsExpiring: 'Points worth {n} expire {d}', pointsHistory: 'Points history', pointsNone: 'Nothing yet.',
  pointsMore: 'Show more',
  pr_earn: 'Earned for an order', pr_spend: 'Paid for an order', pr_refund: 'Points given back', pr_referral: 'Friend bonus',
  pr_expire: 'Expired', pr_adjust: 'From the shop', pr_stars: 'Bought for Stars', pr_stars_refund: 'Stars refunded', pr_referral_void: 'Friend bonus taken back',
  bdTitle: 'Birthday', bdHint: '{p}% off one order within {d} days of your birthday. No year needed.',
  bdDay: 'Day', bdMonth: 'Month', bdSave: 'Save', bdSaved: 'Saved', bdForget: 'Remove',
  birthdayOff: 'Birthday discount',
  // gifts
  gift: 'Gift', giftsMine: 'My gifts', giftNew: 'Gift it to a friend', giftGive: 'Gift it', giftPay: 'Pay for the gift',
  giftHint: 'Your friend picks it up at any point by the link — in Telegram, VK or the browser. Not picked up within {days} days, the money comes back to you.',
  giftAmount: 'Amount', giftMessage: 'A message (optional)', giftMessageHint: 'Happy birthday!',
  giftNoPay: 'A gift is paid online, and no online payment works here.',
  giftOf: 'a gift of {amount}', giftShareText: 'A gift for you: {what}!', giftSendHint: 'Send your friend the link:',
  giftYours: 'Your gift: {what}', giftFrom: 'A gift from {name}: {what}', giftUntil: 'Valid until {at}',
  giftTake: 'Take the gift', giftOrder: 'Order the gift', giftMyOrder: 'My order with the gift',
  giftTaken: 'Someone else has already taken this gift.', giftAmountHint: 'The gift pays for a cart up to {amount}: add items to the cart.', giftCartCovered: 'Your cart ({n} pcs): the gift pays up to {amount}, the rest at the counter.', giftToGift: 'To the gift',
  giftStatus_awaiting_payment: 'awaiting payment', giftStatus_active: 'paid — ready to take', giftStatus_claimed: 'taken',
  giftStatus_redeemed: 'picked up', giftStatus_failed: 'not paid', giftStatus_expired: 'expired', giftStatus_refunded: 'expired, money back',
  // personal data
  consentTitle: 'Consent to data processing',
  consentText: 'To place an order, the shop needs your consent to processing your personal data: your name, account, orders and points. What we keep, why, and how to delete it is in the policy.',
  consentChanged: 'The policy has changed since you last consented: please read it and confirm.',
  consentPolicy: 'Personal data policy', consentAgree: 'I agree', consentLater: 'Not now',
  myData: 'My data', myDataHint: 'Download everything the shop keeps about you, or delete your data.',
  consentGiven: 'Consent to data processing given {t}', download: 'Download my data', downloaded: 'File saved',
  downloadChat: 'If the file was not saved, send the bot /mydata and it sends the file to the chat.',
  forget: 'Delete my data', forgetYes: 'Yes, delete',
  forgetAsk: 'Delete your profile, points, order history and linked accounts? This cannot be undone.',
  forgotten: 'Your data is deleted',
  forgottenHint: 'Your profile, points and linked accounts are deleted. If you open the shop again, it starts afresh.',
};
const dicts = { ru, en };
export let lang = 'ru';
export const normLang = (code) => (/^en\b/i.test(code || '') ? 'en' : 'ru');
export function setLang(code) {
  lang = normLang(code);
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

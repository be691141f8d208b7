"""The chat's texts: Russian by default, English when the customer's language is English."""
from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "greet": ("Здравствуйте{name}! Это {shop}. Закажите заранее и заберите без очереди.",
              "Hello{name}! This is {shop}. Order ahead and skip the queue."),
    "greet_point": ("Вы у точки «{point}» — можно заказать прямо отсюда.",
                    "You are at «{point}» — order right from here."),
    "greet_table": ("Стол {table}, «{point}». Закажите, и мы позовём, когда будет готово.",
                    "Table {table}, «{point}». Order and we will call you when it is ready."),
    "greet_group": ("Вас зовут в групповой заказ: откройте приложение и добавьте свои позиции.",  # group orders
                    "You are invited to a group order: open the app and add your items."),
    "greet_referral": ("Вас пригласил друг: когда вы заберёте свой первый заказ, вы оба получите {points} баллов.",
                       "A friend invited you: when you pick up your first order, you both get {points} points."),
    "greet_unknown": ("Ссылку не удалось распознать, но мы всё равно рады вам.",
                      "We could not read that link, but you are welcome all the same."),
    "open_app": ("Открыть меню", "Open the menu"),
    "menu_chat": ("Меню в чате", "Menu in chat"),
    "repeat": ("Повторить заказ", "Repeat my order"),
    "my_orders": ("Мои заказы", "My orders"),
    "my_points": ("Мои баллы", "My points"),
    "help": ("Что я умею:\n/menu — меню\n/orders — мои заказы\n/points — баллы и приглашение друга\n"
             "/link — связать аккаунты Telegram и ВКонтакте\n/lang — English\n/stop — не присылать сообщения\n"
             "/mydata — что магазин хранит обо мне\n/forget — удалить мои данные\n"
             "Заказать удобнее всего в приложении — кнопка «Открыть меню».",
             "What I can do:\n/menu — the menu\n/orders — my orders\n/points — points and inviting a friend\n"
             "/link — link your Telegram and VK accounts\n/lang — русский\n/stop — no more messages\n"
             "/mydata — what the shop keeps about me\n/forget — delete my data\n"
             "Ordering is easiest in the app — the «Open the menu» button."),
    "categories": ("Меню. Выберите раздел:", "Menu. Choose a section:"),
    "category": ("{name}:", "{name}:"),
    "item_line": ("{name} — {price}", "{name} — {price}"),
    "sold_out": ("нет в наличии", "sold out"),
    "item": ("{name} — {price}\n{description}", "{name} — {price}\n{description}"),
    "item_options": ("{group}: {options}", "{group}: {options}"),
    "back": ("Назад", "Back"),
    "no_orders": ("Заказов пока нет. Самое время попробовать!", "No orders yet. Time to try one!"),
    "orders": ("Ваши заказы:", "Your orders:"),
    "order_line": ("№ {code} от {date} — {total}, {status}", "No. {code} of {date} — {total}, {status}"),
    "repeat_offer": ("Повторить заказ в «{point}»?\n{lines}\nИтого: {total}. Оплата на кассе.",
                     "Repeat the order at «{point}»?\n{lines}\nTotal: {total}. Pay at the counter."),
    "repeat_nothing": ("Из прошлого заказа сейчас ничего нет в меню.",
                       "Nothing from your last order is on the menu now."),
    "confirm": ("Подтвердить", "Confirm"),
    "placed": ("Заказ № {code} принят к оформлению. Итого {total}, оплата на кассе.\n"
               "Заберите в «{point}» к {time}. Мы напишем, когда будет готово.",
               "Order No. {code} is placed. Total {total}, pay at the counter.\n"
               "Pick it up at «{point}» by {time}. We will write when it is ready."),
    "points": ("У вас {points} баллов (1 балл = 1 копейка).", "You have {points} points (1 point = 1 kopeck)."),
    "link_code": ("Ваш код: {code}\nОтправьте его в чат с нами в другом мессенджере в течение 10 минут — "
                  "и история заказов и баллы станут общими.",
                  "Your code: {code}\nSend it to our chat in the other messenger within 10 minutes — "
                  "your orders and points will be shared."),
    "linked": ("Готово: аккаунты связаны. Баллов: {points}.", "Done: your accounts are linked. Points: {points}."),
    "lang_set": ("Язык: русский.", "Language: English."),
    "stopped": ("Хорошо, больше не будем писать первыми. Вернуться — /start.",
                "All right, we will not write first any more. To come back — /start."),
    "unknown": ("Не понял вас. /help — что я умею.", "Sorry, I did not get that. /help — what I can do."),
    "error": ("{message}", "{message}"),
    "cancelled": ("Отменено, ничего не изменилось.", "Cancelled, nothing changed."),
    "nothing_open": ("Отменять нечего.", "There is nothing to cancel."),
    "cancel": ("Отмена", "Cancel"),
    # notifications
    "n_accepted": ("Заказ № {code} принят и готовится.", "Order No. {code} is accepted and being prepared."),
    "n_ready": ("Заказ № {code} готов! Покажите QR-код или назовите код {code} на кассе «{point}».",
                "Order No. {code} is ready! Show the QR code or say the code {code} at «{point}»."),
    "n_picked_up": ("Приятного аппетита! Начислено баллов: {points}. Оцените заказ — это помогает другим.",
                    "Enjoy! Points earned: {points}. Rate your order — it helps others."),
    "n_cancelled": ("Заказ № {code} отменён.", "Order No. {code} is cancelled."),
    "n_expired": ("Заказ № {code} закрыт: его не забрали вовремя.",
                  "Order No. {code} is closed: it was not collected in time."),
    "n_expired_unpaid": ("Заказ № {code} закрыт: оплата не пришла вовремя. Баллы и промокод возвращены.",
                         "Order No. {code} is closed: the payment did not arrive in time. Your points and promo "
                         "code are back."),
    "n_expired_not_accepted": ("Заказ № {code} закрыт: его не успели принять, извините. Баллы и промокод "
                               "возвращены — оформите заказ заново, если он ещё нужен.",
                               "Order No. {code} is closed: nobody accepted it in time, sorry. Your points and "
                               "promo code are back — please order again if you still want it."),
    "n_staff_expired": ("Заказ № {code} — {point} закрыт: его никто не принял вовремя. Покупатель уведомлён, "
                        "товар вернулся в наличие.",
                        "Order No. {code} — {point} is closed: nobody accepted it in time. The customer is told, "
                        "the stock is back."),
    "rate": ("Оценить", "Rate"),
    "accept": ("Принять", "Accept"),
    "ready": ("Готов", "Ready"),
    "done_accept": ("Заказ № {code} принят.", "Order No. {code} accepted."),
    "done_ready": ("Заказ № {code} готов, покупатель уведомлён.", "Order No. {code} is ready, the customer is told."),
    "pay_counter": ("оплата на кассе", "pay at the counter"),
    "pay_online": ("оплачен онлайн", "paid online"),
}

STATUS = {
    "placed": ("оформлен", "placed"), "accepted": ("готовится", "being prepared"), "ready": ("готов", "ready"),
    "picked_up": ("выдан", "picked up"), "cancelled": ("отменён", "cancelled"), "expired": ("не состоялся", "expired"),
}


def t(language: str, key: str, **values: object) -> str:
    ru, en = TEXTS[key]
    return (en if language == "en" else ru).format(**values)


def status(language: str, value: str) -> str:
    ru, en = STATUS[value]
    return en if language == "en" else ru


def add_texts(texts: dict[str, tuple[str, str]]) -> None:
    """Add a scenario module's texts (Russian, English); a key used twice is a mistake, caught at import."""
    clash = TEXTS.keys() & texts.keys()
    if clash:
        raise KeyError(f"texts defined twice: {sorted(clash)}")
    TEXTS.update(texts)

"""Error codes of the engine, each with its Russian and English message."""
from __future__ import annotations

import math
from enum import Enum


class ErrorCode(str, Enum):
    # (status hint for HTTP views, Russian, English)
    BAD_INPUT = "bad_input"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_STAFF = "not_staff"
    NOT_FOUND = "not_found"
    ITEM_NOT_FOUND = "item_not_found"
    ITEM_UNAVAILABLE = "item_unavailable"
    POINT_NOT_FOUND = "point_not_found"
    ORDER_NOT_FOUND = "order_not_found"
    CUSTOMER_NOT_FOUND = "customer_not_found"
    OUT_OF_STOCK = "out_of_stock"
    TOO_MANY_OPEN_ORDERS = "too_many_open_orders"
    EMPTY_CART = "empty_cart"
    BAD_OPTION = "bad_option"
    BAD_QUANTITY = "bad_quantity"
    BAD_PICKUP_TIME = "bad_pickup_time"
    POINT_CLOSED = "point_closed"
    PROMO_UNKNOWN = "promo_unknown"
    PROMO_EXPIRED = "promo_expired"
    PROMO_EXHAUSTED = "promo_exhausted"
    PROMO_ALREADY_USED = "promo_already_used"
    POINTS_INSUFFICIENT = "points_insufficient"
    POINTS_OVER_CAP = "points_over_cap"
    INVALID_TRANSITION = "invalid_transition"
    ALREADY_PICKED_UP = "already_picked_up"
    NOT_READY = "not_ready"
    PICKUP_CODE_INVALID = "pickup_code_invalid"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_PROVIDER_UNKNOWN = "payment_provider_unknown"
    EMAIL_REQUIRED = "email_required"
    LINK_CODE_INVALID = "link_code_invalid"
    LINK_SAME_CUSTOMER = "link_same_customer"
    LINK_TOO_MANY_ATTEMPTS = "link_too_many_attempts"
    DEEP_LINK_INVALID = "deep_link_invalid"
    MENU_INVALID = "menu_invalid"
    REVIEW_NOT_ALLOWED = "review_not_allowed"
    REVIEW_EXISTS = "review_exists"
    CONFLICT = "conflict"
    NOT_OWNER = "not_owner"
    NOTHING_TO_UNDO = "nothing_to_undo"
    # --- codes of the owner's areas are added below, one block per area
    # broadcasts (journey/broadcasts.py)
    BROADCAST_TEXT_INVALID = "broadcast_text_invalid"
    BROADCAST_NOT_FOUND = "broadcast_not_found"
    BROADCAST_STATE = "broadcast_state"
    BROADCAST_BUSY = "broadcast_busy"
    BROADCAST_NOT_SENDING = "broadcast_not_sending"
    BROADCAST_NO_RECIPIENTS = "broadcast_no_recipients"
    # shop, points, promotions, staff (journey/setup.py)
    SETTING_UNKNOWN = "setting_unknown"
    SETTING_INVALID = "setting_invalid"
    POINT_INVALID = "point_invalid"
    POINT_EXISTS = "point_exists"
    PROMO_INVALID = "promo_invalid"
    PROMO_EXISTS = "promo_exists"
    PROMO_ENDED = "promo_ended"
    ACCOUNT_INVALID = "account_invalid"
    # group orders (journey/groups.py)
    GROUP_NOT_FOUND = "group_not_found"
    GROUP_CLOSED = "group_closed"
    GROUP_NOT_ORGANISER = "group_not_organiser"
    GROUP_EMPTY = "group_empty"
    # the birthday offer (journey/loyalty.py)
    BIRTHDAY_INVALID = "birthday_invalid"
    # gifts (journey/gifts.py)
    GIFT_NOT_FOUND = "gift_not_found"
    GIFT_UNAVAILABLE = "gift_unavailable"
    GIFT_OWN = "gift_own"
    GIFT_TAKEN = "gift_taken"
    # abuse limits (journey/limits.py): too many requests; and a staff account kept out of linking
    RATE_LIMITED = "rate_limited"
    LINK_STAFF_ACCOUNT = "link_staff_account"
    # personal data (journey/privacy.py)
    CONSENT_REQUIRED = "consent_required"
    CONSENT_VERSION_STALE = "consent_version_stale"

    @property
    def http_status(self) -> int:
        return _STATUS.get(self, 409)

    def message(self, language: str = "ru") -> str:
        ru, en = _MESSAGES[self]
        return en if language == "en" else ru


_STATUS = {
    ErrorCode.BAD_INPUT: 400,
    ErrorCode.BAD_OPTION: 400,
    ErrorCode.BAD_QUANTITY: 400,
    ErrorCode.BAD_PICKUP_TIME: 400,
    ErrorCode.EMPTY_CART: 400,
    ErrorCode.MENU_INVALID: 400,
    ErrorCode.DEEP_LINK_INVALID: 400,
    ErrorCode.LINK_CODE_INVALID: 400,
    ErrorCode.PICKUP_CODE_INVALID: 404,
    ErrorCode.PROMO_UNKNOWN: 400,
    ErrorCode.PROMO_EXPIRED: 400,
    ErrorCode.PROMO_EXHAUSTED: 409,
    ErrorCode.PROMO_ALREADY_USED: 409,
    ErrorCode.POINTS_INSUFFICIENT: 409,
    ErrorCode.POINTS_OVER_CAP: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_STAFF: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ITEM_NOT_FOUND: 404,
    ErrorCode.POINT_NOT_FOUND: 404,
    ErrorCode.ORDER_NOT_FOUND: 404,
    ErrorCode.CUSTOMER_NOT_FOUND: 404,
    ErrorCode.PAYMENT_FAILED: 402,
    ErrorCode.EMAIL_REQUIRED: 400,
    ErrorCode.LINK_TOO_MANY_ATTEMPTS: 429,
    ErrorCode.REVIEW_NOT_ALLOWED: 403,
    ErrorCode.NOT_OWNER: 403,
    ErrorCode.NOTHING_TO_UNDO: 409,
    # broadcasts
    ErrorCode.BROADCAST_TEXT_INVALID: 400,
    ErrorCode.BROADCAST_NOT_FOUND: 404,
    # shop, points, promotions, staff
    ErrorCode.SETTING_UNKNOWN: 400,
    ErrorCode.SETTING_INVALID: 400,
    ErrorCode.POINT_INVALID: 400,
    ErrorCode.PROMO_INVALID: 400,
    ErrorCode.ACCOUNT_INVALID: 400,
    # group orders
    ErrorCode.GROUP_NOT_FOUND: 404,
    ErrorCode.GROUP_NOT_ORGANISER: 403,
    # the birthday offer
    ErrorCode.BIRTHDAY_INVALID: 400,
    # gifts
    ErrorCode.GIFT_NOT_FOUND: 404,
    ErrorCode.GIFT_UNAVAILABLE: 409,
    ErrorCode.GIFT_OWN: 403,
    ErrorCode.GIFT_TAKEN: 409,
    # abuse limits
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.LINK_STAFF_ACCOUNT: 403,
    # personal data
    ErrorCode.CONSENT_REQUIRED: 403,
    ErrorCode.CONSENT_VERSION_STALE: 400,
}

_MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.BAD_INPUT: ("Неверные данные запроса.", "The request is malformed."),
    ErrorCode.UNAUTHORIZED: ("Не удалось подтвердить вход. Откройте приложение заново.",
                             "Could not verify the launch. Please reopen the app."),
    ErrorCode.FORBIDDEN: ("Недостаточно прав.", "You are not allowed to do this."),
    ErrorCode.NOT_STAFF: ("Это могут делать только сотрудники.", "Only staff can do this."),
    ErrorCode.NOT_FOUND: ("Не найдено.", "Not found."),
    ErrorCode.ITEM_NOT_FOUND: ("Такой позиции нет в меню.", "There is no such item on the menu."),
    ErrorCode.ITEM_UNAVAILABLE: ("Эта позиция сейчас недоступна.", "This item is not available now."),
    ErrorCode.POINT_NOT_FOUND: ("Такой точки выдачи нет.", "There is no such pickup point."),
    ErrorCode.ORDER_NOT_FOUND: ("Заказ не найден.", "Order not found."),
    ErrorCode.CUSTOMER_NOT_FOUND: ("Покупатель не найден.", "Customer not found."),
    ErrorCode.OUT_OF_STOCK: ("Не хватает в наличии.", "Not enough in stock."),
    ErrorCode.TOO_MANY_OPEN_ORDERS: ("У вас уже несколько незабранных заказов. Заберите или отмените один "
                                     "из них, чтобы оформить новый.",
                                     "You already have several orders not yet picked up. Pick up or cancel "
                                     "one of them to place a new one."),
    ErrorCode.EMPTY_CART: ("Корзина пуста.", "The cart is empty."),
    ErrorCode.BAD_OPTION: ("Неверный выбор опций.", "Invalid choice of options."),
    ErrorCode.BAD_QUANTITY: ("Неверное количество.", "Invalid quantity."),
    ErrorCode.BAD_PICKUP_TIME: ("К этому времени заказ не успеть приготовить.",
                                "The order cannot be ready by that time."),
    ErrorCode.POINT_CLOSED: ("Точка в это время закрыта.", "The pickup point is closed at that time."),
    ErrorCode.PROMO_UNKNOWN: ("Такого промокода нет.", "Unknown promo code."),
    ErrorCode.PROMO_EXPIRED: ("Срок действия промокода истёк.", "The promo code has expired."),
    ErrorCode.PROMO_EXHAUSTED: ("Промокод больше не действует.", "The promo code has been used up."),
    ErrorCode.PROMO_ALREADY_USED: ("Вы уже использовали этот промокод.", "You have already used this promo code."),
    ErrorCode.POINTS_INSUFFICIENT: ("Недостаточно баллов.", "Not enough points."),
    ErrorCode.POINTS_OVER_CAP: ("Баллами можно оплатить не больше установленной доли заказа.",
                                "Points can pay only up to the allowed share of the order."),
    ErrorCode.INVALID_TRANSITION: ("Это действие недоступно для заказа в текущем состоянии.",
                                   "This action is not possible in the order's current state."),
    ErrorCode.ALREADY_PICKED_UP: ("Заказ уже выдан.", "The order has already been picked up."),
    ErrorCode.NOT_READY: ("Заказ ещё не готов.", "The order is not ready yet."),
    ErrorCode.PICKUP_CODE_INVALID: ("Код выдачи не подходит ни к одному заказу.",
                                    "The pickup code matches no order."),
    ErrorCode.PAYMENT_FAILED: ("Оплата не прошла.", "The payment failed."),
    ErrorCode.PAYMENT_PROVIDER_UNKNOWN: ("Такой способ оплаты недоступен.", "This payment method is not available."),
    ErrorCode.EMAIL_REQUIRED: ("Укажите e-mail: на него придёт чек.", "Enter an e-mail for the receipt."),
    ErrorCode.LINK_CODE_INVALID: ("Код привязки неверный или устарел.", "The link code is wrong or has expired."),
    ErrorCode.LINK_SAME_CUSTOMER: ("Эти аккаунты уже связаны.", "These accounts are already linked."),
    ErrorCode.LINK_TOO_MANY_ATTEMPTS: ("Слишком много неверных кодов. Попробуйте через 10 минут.",
                                       "Too many wrong codes. Try again in 10 minutes."),
    ErrorCode.DEEP_LINK_INVALID: ("Неизвестная ссылка.", "Unknown link."),
    ErrorCode.MENU_INVALID: ("Файл меню содержит ошибки.", "The menu file has errors."),
    ErrorCode.REVIEW_NOT_ALLOWED: ("Отзыв можно оставить только о полученном заказе.",
                                   "You can review only what you have picked up."),
    ErrorCode.REVIEW_EXISTS: ("Вы уже оставили отзыв об этой позиции в этом заказе.",
                              "You have already reviewed this item in this order."),
    ErrorCode.CONFLICT: ("Конфликт: данные изменились, попробуйте ещё раз.",
                         "Conflict: the data changed, please try again."),
    ErrorCode.NOT_OWNER: ("Это может делать только владелец магазина.", "Only the shop's owner can do this."),
    ErrorCode.NOTHING_TO_UNDO: ("Отменять нечего.", "There is nothing to undo."),
    # broadcasts
    ErrorCode.BROADCAST_TEXT_INVALID: ("Текст рассылки пустой или слишком длинный: не больше 3500 символов.",
                                       "The broadcast text is empty or too long: 3500 characters at most."),
    ErrorCode.BROADCAST_NOT_FOUND: ("Такой рассылки нет.", "There is no such broadcast."),
    ErrorCode.BROADCAST_STATE: ("Эта рассылка уже отправлена, остановлена или отменена.",
                                "This broadcast has already been sent, stopped or cancelled."),
    ErrorCode.BROADCAST_BUSY: ("Уже идёт другая рассылка: дождитесь её окончания или остановите её — "
                               "/broadcast stop.",
                               "Another broadcast is being sent: wait until it ends or stop it with /broadcast stop."),
    ErrorCode.BROADCAST_NOT_SENDING: ("Сейчас рассылка не идёт, останавливать нечего.",
                                      "No broadcast is being sent: there is nothing to stop."),
    ErrorCode.BROADCAST_NO_RECIPIENTS: ("Некому отправить: нет покупателей, согласных получать новости, в "
                                        "подключённых каналах.",
                                        "There is nobody to send it to: no customer who agreed to news in the "
                                        "connected channels."),
    # shop, points, promotions, staff
    ErrorCode.SETTING_UNKNOWN: ("Такой настройки магазина нет.", "There is no such shop setting."),
    ErrorCode.SETTING_INVALID: ("Такое значение настройки не подходит.", "This value does not fit the setting."),
    ErrorCode.POINT_INVALID: ("Неверные данные точки выдачи.", "The pickup point's details are wrong."),
    ErrorCode.POINT_EXISTS: ("Точка выдачи с таким кодом уже есть.", "A pickup point with this id exists already."),
    ErrorCode.PROMO_INVALID: ("Неверные условия промокода.", "The promo code's terms are wrong."),
    ErrorCode.PROMO_EXISTS: ("Такой промокод уже есть.", "This promo code exists already."),
    ErrorCode.PROMO_ENDED: ("Этот промокод уже завершён.", "This promo code has been ended already."),
    ErrorCode.ACCOUNT_INVALID: ("Аккаунт не понятен: пишите канал:id, например telegram:123456.",
                                "Account not understood: write channel:id, e.g. telegram:123456."),
    # group orders
    ErrorCode.GROUP_NOT_FOUND: ("Групповой заказ не найден: проверьте ссылку.",
                                "Group order not found: check the link."),
    ErrorCode.GROUP_CLOSED: ("Групповой заказ уже закрыт: добавить или изменить в нём ничего нельзя.",
                             "This group order is closed: nothing can be added or changed in it."),
    ErrorCode.GROUP_NOT_ORGANISER: ("Это может сделать только тот, кто собрал групповой заказ.",
                                    "Only the one who opened the group order can do this."),
    ErrorCode.GROUP_EMPTY: ("В групповом заказе ещё ничего нет: заказывать нечего.",
                            "Nobody has added anything to the group order yet: there is nothing to order."),
    # the birthday offer
    ErrorCode.BIRTHDAY_INVALID: ("Такой даты нет: укажите день и месяц, например 29 февраля, но не 31 апреля.",
                                 "There is no such date: give a day and month, e.g. 29 February, but not 31 April."),
    # gifts
    ErrorCode.GIFT_NOT_FOUND: ("Подарок не найден: проверьте ссылку.", "No such gift: check the link."),
    ErrorCode.GIFT_UNAVAILABLE: ("Этот подарок уже нельзя взять: он не оплачен, использован или истёк.",
                                 "This gift cannot be taken: it is unpaid, used or expired."),
    ErrorCode.GIFT_OWN: ("Свой подарок взять нельзя: отправьте ссылку другу.",
                         "You cannot take your own gift: send the link to a friend."),
    ErrorCode.GIFT_TAKEN: ("Этот подарок уже взял другой человек.", "Someone else has already taken this gift."),
    # abuse limits
    ErrorCode.RATE_LIMITED: ("Слишком часто. Попробуйте чуть позже.", "Too often. Please try again a little later."),
    ErrorCode.LINK_STAFF_ACCOUNT: ("Аккаунт сотрудника нельзя связать с другим: права сотрудника остаются только у "
                                   "него. Для покупок используйте личный аккаунт.",
                                   "A staff account cannot be linked with another: staff rights stay with it alone. "
                                   "Use a personal account for your own orders."),
    # personal data
    ErrorCode.CONSENT_REQUIRED: ("Чтобы оформить заказ, дайте согласие на обработку персональных данных.",
                                 "To place an order, please consent to the processing of your personal data."),
    ErrorCode.CONSENT_VERSION_STALE: ("Политика обработки данных изменилась: прочитайте новую и согласитесь снова.",
                                      "The privacy policy has changed: read the new one and consent again."),
}


class DomainError(Exception):
    """A refusal by the engine: carries a code (for machines) and an optional detail (for people)."""

    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code.value}: {detail}" if detail else code.value)

    def message(self, language: str = "ru") -> str:
        return self.code.message(language)


class RateLimited(DomainError):
    """``RATE_LIMITED`` with the whole seconds to wait (at least 1), told in the message (journey/limits.py)."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(ErrorCode.RATE_LIMITED, detail)
        self.retry_after = max(1, math.ceil(retry_after))

    def message(self, language: str = "ru") -> str:
        return wait_message(self.retry_after, language)


def wait_message(seconds: int, language: str = "ru") -> str:
    """The refusal with the wait: under two minutes in seconds, else in whole minutes."""
    if language == "en":
        wait = f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} min"
        return f"Too often. Please try again in {wait}."
    wait = f"{seconds} с" if seconds < 120 else f"{math.ceil(seconds / 60)} мин"
    return f"Слишком часто. Попробуйте через {wait}."

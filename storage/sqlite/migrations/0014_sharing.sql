-- Sharing: one row per share a customer made (a story, an inline card, a wall post, a link), from an
-- order or not. The visits a share brought are the visits whose parameter is r<code>-<via>.
CREATE TABLE shares (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    kind        TEXT NOT NULL CHECK (kind IN ('telegram_story', 'telegram_inline', 'vk_story', 'vk_wall', 'link')),
    channel     TEXT NOT NULL,
    order_id    TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX shares_at ON shares(at);

-- Regulars: a customer who reached the shop's threshold of pickups and was invited to the closed chat.
-- One row per person, ever: the primary key makes a second invitation impossible.
CREATE TABLE regulars (
    customer_id TEXT PRIMARY KEY REFERENCES customers(id),
    order_id    TEXT NOT NULL,
    pickups     INTEGER NOT NULL,
    reached_at  TEXT NOT NULL
);

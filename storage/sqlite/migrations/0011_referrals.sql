-- Referrals that hold: one row per invitation. The invitee is the key: a person has at most one live
-- (not void) invitation, so a new person is rewarded once. status: pending -> rewarded | capped | void;
-- rewarded | capped -> void (journey/referrals.py). The inviter's points are 0 when the month's cap was
-- reached; rewarded_at counts invitations against that cap.
CREATE TABLE referrals (
    id              TEXT PRIMARY KEY,
    invitee_id      TEXT NOT NULL REFERENCES customers(id),
    referrer_id     TEXT NOT NULL REFERENCES customers(id),
    code            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'rewarded', 'capped', 'void')),
    order_id        TEXT,
    invitee_points  INTEGER NOT NULL DEFAULT 0 CHECK (invitee_points >= 0),
    referrer_points INTEGER NOT NULL DEFAULT 0 CHECK (referrer_points >= 0),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    rewarded_at     TEXT
);
CREATE UNIQUE INDEX referrals_live_invitee ON referrals(invitee_id) WHERE status <> 'void';
CREATE INDEX referrals_invitee ON referrals(invitee_id, created_at);
CREATE INDEX referrals_referrer ON referrals(referrer_id, created_at);

-- Invitations made before this table: customers.referred_by. One whose bonus reached the ledger (a
-- "referral" entry for the friend's own order) is rewarded; one whose friend picked up without it is
-- void (the first pickup is past); the rest wait for it.
INSERT INTO referrals (id, invitee_id, referrer_id, code, status, order_id, invitee_points, referrer_points,
                       created_at, updated_at, rewarded_at)
SELECT 'ref_' || c.id, c.id, c.referred_by, r.referral_code,
       CASE WHEN p.order_id IS NOT NULL THEN 'rewarded'
            WHEN EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'picked_up') THEN 'void'
            ELSE 'pending' END,
       p.order_id, COALESCE(p.delta, 0), COALESCE(p.delta, 0), c.created_at, c.created_at, p.at
FROM customers c
JOIN customers r ON r.id = c.referred_by
LEFT JOIN (SELECT l.customer_id, MIN(l.order_id) AS order_id, MIN(l.delta) AS delta, MIN(l.at) AS at
           FROM ledger l JOIN orders o ON o.id = l.order_id AND o.customer_id = l.customer_id
           WHERE l.reason = 'referral' GROUP BY l.customer_id) p ON p.customer_id = c.id
WHERE c.merged_into IS NULL AND c.referred_by <> c.id;

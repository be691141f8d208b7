-- Online payments: where the customer pays (a YooKassa page or a Telegram invoice link), what was
-- refunded after capture, Telegram's charge ids (a payment is fulfilled once per charge), money only the
-- owner can give back, and whether the provider may still change its mind (reconcile asks about those).
ALTER TABLE payments ADD COLUMN link TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0);
ALTER TABLE payments ADD COLUMN charge_id TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN provider_charge_id TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN manual_refund INTEGER NOT NULL DEFAULT 0 CHECK (manual_refund >= 0);
ALTER TABLE payments ADD COLUMN settled INTEGER NOT NULL DEFAULT 0;
-- every payment made before online payments was at the counter, settled by the staff
UPDATE payments SET settled = 1 WHERE status IN ('captured', 'voided', 'failed', 'refunded');
CREATE UNIQUE INDEX payments_charge ON payments(charge_id) WHERE charge_id != '';
CREATE INDEX payments_provider_ref ON payments(provider, provider_ref) WHERE provider_ref != '';
CREATE INDEX payments_unsettled ON payments(provider, created_at) WHERE settled = 0;

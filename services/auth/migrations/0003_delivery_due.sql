-- When each generated account must have been delivered, as capture computes it from the
-- election's calendar (the end of the third natural day after the approval, in the election's
-- zone). NULL for accounts generated from events of earlier versions: 72 hours after approval.
ALTER TABLE generated_accounts ADD COLUMN due_at TIMESTAMPTZ;

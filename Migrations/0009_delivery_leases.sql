-- Delivery leases: each claim of an outbox row gets a fresh random lease id, and a sender records its
-- result only while its lease id is still the row's (status 'sending' AND lease_id = ?). A sender whose
-- lease ran out and whose row another sender claimed can then no longer overwrite the newer result.
-- NULL when the row is not claimed (pending, sent, dead, or released at shutdown).
ALTER TABLE deliveries ADD COLUMN lease_id TEXT;


-- Which server gave the misses recorded against a person's handle host (issue 16): a 404 from
-- the handle's host, or from the actor's own server asked to confirm the handle. The handle's
-- host answering for the account again refutes only its own 404s; a miss the actor's server
-- gave stands until both servers confirm the handle again (or the misses persist and it goes).
ALTER TABLE person ADD COLUMN handle_host_missed_by_actor boolean NOT NULL DEFAULT false;

-- Who accepted a question's answer: an acceptance by the answer's own author (a moderator or
-- staff member answering someone else's question, then accepting it) pays nothing, and must
-- count for no rank or badge either. NULL for acceptances from before, and for remote ones.
ALTER TABLE post ADD COLUMN accepted_by BIGINT REFERENCES person (id) ON DELETE SET NULL;

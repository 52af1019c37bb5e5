-- Nothing to undo: the people put out were banned, and a ban puts them out now; what they
-- held is not recorded anywhere to put back.
SELECT 1;

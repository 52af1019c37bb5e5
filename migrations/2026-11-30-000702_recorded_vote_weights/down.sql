UPDATE reputation r SET likes_received_milli = (
    SELECT count(*) FROM reputation_event e WHERE e.person_id = r.person_id
      AND e.reverses IS NULL AND NOT e.reversed
      AND e.cause IN ('answer_liked', 'question_liked', 'idea_liked', 'other_liked'));
ALTER TABLE reputation RENAME COLUMN likes_received_milli TO likes_received;
ALTER TABLE reputation_event DROP COLUMN likes_milli;
ALTER TABLE vote DROP COLUMN weight;

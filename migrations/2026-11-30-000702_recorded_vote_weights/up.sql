-- A vote counts the weight it was cast with, everywhere: recorded on the vote (the bounty's
-- best-answer score reads it, not the instance's weight of the day) and, for likes, on the
-- reputation event (likes received, for the rank score and the hundred_likes badge, add up
-- weighted likes: a like from an instance weighted 0.5 is half a like).
ALTER TABLE vote ADD COLUMN weight DOUBLE PRECISION NOT NULL DEFAULT 1.0
    CONSTRAINT vote_weight_not_negative CHECK (weight >= 0);
-- Existing votes: nothing when they were not counted; a remote vote the current weight of
-- its instance (the best we know of the weight it was cast with).
UPDATE vote SET weight = 0 WHERE NOT counted;
UPDATE vote v SET weight = i.reputation_weight
FROM person p JOIN instance i ON i.host = p.instance_host
WHERE p.id = v.person_id AND NOT p.local AND v.counted AND i.reputation_weight <> 1.0;

-- Likes in thousandths of a like (integers, so that a like and its withdrawal cancel exactly
-- and the audit compares sums): +weight on a like's event, the opposite on its reversal.
ALTER TABLE reputation_event ADD COLUMN likes_milli BIGINT NOT NULL DEFAULT 0;
UPDATE reputation_event SET likes_milli = CASE WHEN reverses IS NULL THEN 1000 ELSE -1000 END
WHERE cause IN ('answer_liked', 'question_liked', 'idea_liked', 'other_liked');
ALTER TABLE reputation RENAME COLUMN likes_received TO likes_received_milli;
UPDATE reputation SET likes_received_milli = likes_received_milli * 1000;

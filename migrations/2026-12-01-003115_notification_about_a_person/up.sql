-- A notification may be about a person, as others are about a post, a comment, a group or a
-- badge (issue 13): the outcome of a report about someone, told to its reporter, names the
-- person reported. A person who goes takes the notices about them along, as a post does.
ALTER TABLE notification ADD COLUMN person_id bigint REFERENCES person (id) ON DELETE CASCADE;

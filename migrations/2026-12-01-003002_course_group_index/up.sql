-- A post page asks whether its group is a course's discussion group (trainers' answers are
-- marked there): without an index every post page would scan the courses.
CREATE INDEX course_discussion_group_idx ON course (discussion_group_id);

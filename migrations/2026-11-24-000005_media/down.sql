DROP TABLE post_attachment;
DROP TABLE media;

-- Uploaded images and videos, stored on disk under <data_dir>/media, and their place in posts.
CREATE TABLE media (
    id           BIGSERIAL PRIMARY KEY,
    -- Random, unguessable file name (the URL is the only key to a file).
    file_name    TEXT NOT NULL CONSTRAINT media_file_name_key UNIQUE,
    uploader_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE post_attachment (
    post_id   BIGINT NOT NULL REFERENCES post (id) ON DELETE CASCADE,
    position  INT NOT NULL,
    -- A local upload, or the URL of a remote post's attachment.
    media_id  BIGINT REFERENCES media (id) ON DELETE CASCADE,
    url       TEXT,
    media_type TEXT,
    PRIMARY KEY (post_id, position),
    CONSTRAINT post_attachment_source CHECK ((media_id IS NULL) <> (url IS NULL))
);

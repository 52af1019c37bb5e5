//! Uploaded media and post attachments.

use crate::{
    schema::{media, media_embed, post, post_attachment},
    DbError,
};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct Media {
    pub id: i64,
    pub file_name: String,
    pub uploader_id: i64,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
    /// Alt text, as its uploader wrote it.
    pub description: Option<String>,
}

pub async fn insert_media(
    conn: &mut AsyncPgConnection,
    file_name: &str,
    uploader_id: i64,
    content_type: &str,
    size_bytes: i64,
    description: Option<&str>,
) -> Result<Media, DbError> {
    Ok(diesel::insert_into(media::table)
        .values((
            media::file_name.eq(file_name),
            media::uploader_id.eq(uploader_id),
            media::content_type.eq(content_type),
            media::size_bytes.eq(size_bytes),
            media::description.eq(description),
        ))
        .returning(Media::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn media_by_file_name(
    conn: &mut AsyncPgConnection,
    file_name: &str,
) -> Result<Option<Media>, DbError> {
    Ok(media::table
        .filter(media::file_name.eq(file_name))
        .select(Media::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn media_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<Media>, DbError> {
    Ok(media::table
        .filter(media::id.eq_any(ids))
        .select(Media::as_select())
        .load(conn)
        .await?)
}

/// The groups whose posts (live or deleted) carry this upload, attached or written into their
/// text (`media_embed`, kept by triggers): who may read any of them decides who may fetch
/// the file.
pub async fn groups_of_media(
    conn: &mut AsyncPgConnection,
    media_id: i64,
) -> Result<Vec<i64>, DbError> {
    // One statement: UNION also removes the duplicates.
    Ok(post::table
        .filter(
            post::id.eq_any(
                post_attachment::table
                    .filter(post_attachment::media_id.eq(media_id))
                    .select(post_attachment::post_id),
            ),
        )
        .select(post::group_id)
        .union(
            media_embed::table
                .filter(media_embed::media_id.eq(media_id))
                .select(media_embed::group_id),
        )
        .load(conn)
        .await?)
}

/// An attachment as shown: a local file (name and type) or a remote one.
#[derive(Debug, Clone)]
pub enum Attachment {
    Local(Media),
    Remote(RemoteAttachment),
}

/// An attachment of a remote post, by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAttachment {
    pub url: String,
    pub media_type: Option<String>,
    /// Alt text, as its author's server sent it.
    pub description: Option<String>,
}

/// Attaches uploads to a post, in order, in the caller's transaction.
pub async fn attach(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    media_ids: &[i64],
) -> Result<(), DbError> {
    for (position, media_id) in media_ids.iter().enumerate() {
        diesel::insert_into(post_attachment::table)
            .values((
                post_attachment::post_id.eq(post_id),
                post_attachment::position.eq(position as i32),
                post_attachment::media_id.eq(media_id),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Records the attachments of a remote post by URL.
pub async fn attach_remote(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    items: &[RemoteAttachment],
) -> Result<(), DbError> {
    for (position, item) in items.iter().enumerate() {
        diesel::insert_into(post_attachment::table)
            .values((
                post_attachment::post_id.eq(post_id),
                post_attachment::position.eq(position as i32),
                post_attachment::url.eq(&item.url),
                post_attachment::media_type.eq(&item.media_type),
                post_attachment::description.eq(&item.description),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// A remote post's attachments as its author's server now says them: an edit may add, drop or
/// describe them (Mastodon lets an author fix an image's alt text).
pub async fn replace_remote_attachments(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    items: &[RemoteAttachment],
) -> Result<(), DbError> {
    diesel::delete(
        post_attachment::table
            .filter(post_attachment::post_id.eq(post_id))
            .filter(post_attachment::media_id.is_null()),
    )
    .execute(conn)
    .await?;
    attach_remote(conn, post_id, items).await
}

pub async fn attachments(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> Result<Vec<Attachment>, DbError> {
    type Row = (Option<i64>, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = post_attachment::table
        .filter(post_attachment::post_id.eq(post_id))
        .order(post_attachment::position.asc())
        .select((
            post_attachment::media_id,
            post_attachment::url,
            post_attachment::media_type,
            post_attachment::description,
        ))
        .load(conn)
        .await?;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.0).collect();
    let local = media_by_ids(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(media_id, url, media_type, description)| match (media_id, url) {
                (Some(id), _) => local
                    .iter()
                    .find(|m| m.id == id)
                    .cloned()
                    .map(Attachment::Local),
                (None, Some(url)) => Some(Attachment::Remote(RemoteAttachment {
                    url,
                    media_type,
                    description,
                })),
                _ => None,
            },
        )
        .collect())
}

/// An upload named in a text (a lesson, the welcome message, the charter, an avatar's URL):
/// its `/media/<file>` URL, the file name captured. One pattern for the sweep that reads those
/// texts and for the writers that hold what they name ([`hold_uploads_named_in`]).
const NAMED_UPLOAD: &str = "/media/([A-Za-z0-9_.-]+)";

/// Holds, until the transaction ends, the uploads that `texts` name by URL: a text that no
/// trigger records (see [`delete_orphan_media`]) is seen by the sweep only once committed, so
/// while it is being written the sweep could forget an upload it names; share-locked, the
/// upload is skipped by a sweep running meanwhile (`SKIP LOCKED`) and checked again by the
/// next one, which reads the committed text. As a foreign key's check holds an attachment's.
/// A text naming no upload costs no query.
///
/// Returns the names of the uploads that existed when the statement began but were deleted
/// while it waited for their lock: a sweep that had already locked one (before this hold)
/// deletes it without seeing the uncommitted text, and under READ COMMITTED the lock then
/// skips the deleted row silently. Such an upload is gone for good: the caller must not save
/// a text naming it. A name no upload had when the statement began (a remote URL, a typo, an
/// upload deleted long ago) is not returned: nothing was taken from under the writer.
pub async fn hold_uploads_named_in(
    conn: &mut AsyncPgConnection,
    texts: &[&str],
) -> Result<Vec<String>, DbError> {
    #[derive(QueryableByName)]
    struct Gone {
        #[diesel(sql_type = Text)]
        file_name: String,
    }
    let texts: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|t| t.contains("/media/"))
        .collect();
    if texts.is_empty() {
        return Ok(vec![]);
    }
    // One statement, one snapshot: the outer scan sees the uploads as they were when it
    // began, whatever the lock waited for; `held` is what the lock actually took. ARRAY()
    // reads `held` to its end, so every named upload is locked (a NOT IN could stop at the
    // first match); when nothing is seen there is nothing to lock either.
    let gone: Vec<Gone> = diesel::sql_query(format!(
        "WITH named AS ( \
           SELECT (regexp_matches(t, '{NAMED_UPLOAD}', 'g'))[1] AS file_name \
           FROM unnest($1::text[]) AS t), \
         held AS ( \
           SELECT m.file_name FROM media m WHERE m.file_name IN (SELECT file_name FROM named) \
           FOR KEY SHARE OF m) \
         SELECT m.file_name FROM media m \
         WHERE m.file_name IN (SELECT file_name FROM named) \
           AND m.file_name <> ALL (ARRAY(SELECT file_name FROM held))"
    ))
    .bind::<diesel::sql_types::Array<Text>, _>(&texts)
    .load(conn)
    .await?;
    Ok(gone.into_iter().map(|g| g.file_name).collect())
}

/// How far back the sweep looks: an upload abandoned in a draft is found in its first days,
/// and only texts written since the oldest upload it looks at can name one (each checked
/// once an hour, so this bounds the texts it reads). Older uploads are never swept: what
/// was once attached and replaced may still be shown by servers that link rather than copy.
pub const SWEEP_WINDOW_DAYS: i32 = 30;

/// Deletes up to `limit` uploads made before `uploaded_before` (and in the
/// [`SWEEP_WINDOW_DAYS`] before it) that nothing refers to, and returns their file names (the
/// caller removes the files once this transaction commits).
///
/// What refers to an upload: a post's attachment, a post's or comment's text (`media_embed`),
/// a reward's image, a course's cover, and its `/media/<file>` URL written where no trigger
/// records it — a lesson's text, the welcome message, the champions' charter, a person's or
/// a group's avatar or banner, and a post, comment or earlier version written in the window
/// (`media_embed` records only the writer's own uploads). The names in those texts are
/// pulled out once per batch and compared as a set.
///
/// Two statements: the first locks the candidates `FOR UPDATE SKIP LOCKED` (two servers
/// sweeping one database take different rows, and one a transaction is attaching right now
/// is skipped); the second deletes those that are still unreferenced, checked again on a
/// snapshot taken after the locks, so that an attachment committed in between keeps its
/// upload (and any attaching later waits on the lock, then fails cleanly as not found). A
/// text no trigger records is written holding the uploads it names
/// ([`hold_uploads_named_in`]), so those are skipped too until it commits. A text saved after
/// this sweep locked an upload it names (any time until this transaction commits: the
/// second statement reads every recent text) waits for the lock, and finds the upload gone:
/// the hold reports it, and the save is refused rather than left naming a missing file.
pub async fn delete_orphan_media(
    conn: &mut AsyncPgConnection,
    uploaded_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, DbError> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    #[derive(QueryableByName)]
    struct Deleted {
        #[diesel(sql_type = Text)]
        file_name: String,
    }
    let unreferenced = format!(
        "m.created_at < $1 AND m.created_at >= $1 - interval '{SWEEP_WINDOW_DAYS} days' \
         AND NOT EXISTS (SELECT 1 FROM post_attachment a WHERE a.media_id = m.id) \
         AND NOT EXISTS (SELECT 1 FROM media_embed e WHERE e.media_id = m.id) \
         AND NOT EXISTS (SELECT 1 FROM reward r WHERE r.image_media_id = m.id) \
         AND NOT EXISTS (SELECT 1 FROM course c WHERE c.cover_media_id = m.id) \
         AND m.file_name NOT IN ( \
           SELECT (regexp_matches(body, '{NAMED_UPLOAD}', 'g'))[1] FROM ( \
             SELECT body_fr AS body FROM lesson UNION ALL SELECT body_en FROM lesson \
             UNION ALL SELECT welcome_fr FROM onboarding_settings \
             UNION ALL SELECT welcome_en FROM onboarding_settings \
             UNION ALL SELECT text_fr FROM champion_charter \
             UNION ALL SELECT text_en FROM champion_charter \
             UNION ALL SELECT avatar_url FROM person WHERE local \
             UNION ALL SELECT avatar_url FROM community_group WHERE local \
             UNION ALL SELECT banner_url FROM community_group WHERE local \
             UNION ALL SELECT body FROM post \
               WHERE updated_at >= $1 - interval '{SWEEP_WINDOW_DAYS} days' AND local \
             UNION ALL SELECT body FROM comment \
               WHERE updated_at >= $1 - interval '{SWEEP_WINDOW_DAYS} days' AND local \
             UNION ALL SELECT body FROM post_edit \
               WHERE edited_at >= $1 - interval '{SWEEP_WINDOW_DAYS} days') texts \
           WHERE position('/media/' IN body) > 0)"
    );
    let locked: Vec<Locked> = diesel::sql_query(format!(
        "SELECT m.id FROM media m WHERE {unreferenced} ORDER BY m.id LIMIT $2 \
         FOR UPDATE OF m SKIP LOCKED"
    ))
    .bind::<Timestamptz, _>(uploaded_before)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    if locked.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = locked.into_iter().map(|l| l.id).collect();
    let deleted: Vec<Deleted> = diesel::sql_query(format!(
        "DELETE FROM media m WHERE m.id = ANY($2) AND {unreferenced} RETURNING m.file_name"
    ))
    .bind::<Timestamptz, _>(uploaded_before)
    .bind::<diesel::sql_types::Array<BigInt>, _>(&ids)
    .load(conn)
    .await?;
    Ok(deleted.into_iter().map(|d| d.file_name).collect())
}

/// Of `file_names`, those an upload row names.
pub async fn recorded_file_names(
    conn: &mut AsyncPgConnection,
    file_names: &[String],
) -> Result<Vec<String>, DbError> {
    Ok(media::table
        .filter(media::file_name.eq_any(file_names))
        .select(media::file_name)
        .load(conn)
        .await?)
}

/// The file names of up to `limit` uploads made before `uploaded_before`, the latest first.
pub async fn old_upload_file_names(
    conn: &mut AsyncPgConnection,
    uploaded_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, DbError> {
    Ok(media::table
        .filter(media::created_at.lt(uploaded_before))
        // The primary key's order, walked from the newest: no index on the date needed.
        .order(media::id.desc())
        .select(media::file_name)
        .limit(limit)
        .load(conn)
        .await?)
}

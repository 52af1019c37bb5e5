//! Image and video uploads, stored on local disk under `<data_dir>/media`.

use crate::{
    access::{require_readable, visibility, Reader},
    Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    actors,
    media::{self as store, Media},
};
use cenacle_domain::{content::Visibility, ValidationError};
use std::path::PathBuf;

/// What we accept, recognised by the file's first bytes (the declared type must agree: a
/// browser must never be served a script labelled as an image).
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str, bool)> {
    // (content type, extension, is video)
    if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        Some(("image/png", "png", false))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg", false))
    } else if bytes.starts_with(b"GIF8") {
        Some(("image/gif", "gif", false))
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp", false))
    } else if bytes.len() > 8 && &bytes[4..8] == b"ftyp" {
        Some(("video/mp4", "mp4", true))
    } else if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(("video/webm", "webm", true))
    } else {
        None
    }
}

pub fn media_dir(ctx: &Context) -> PathBuf {
    ctx.settings.server.data_dir.join("media")
}

/// An upload checked and written to disk, not yet recorded.
pub struct StoredFile {
    file_name: String,
    content_type: &'static str,
    size: i64,
}

/// Checks an upload's type against its bytes and its size against the limits, and writes it
/// under a random name (atomically: a temporary file renamed). Slow work, done before the
/// caller's transaction; [`record_upload`] then records it. Whatever else could refuse the
/// upload (its description: [`checked_description`]) is checked before this: a file written
/// for an upload then refused stays until the sweep, a day later.
pub async fn store_file(
    ctx: &Context,
    declared_type: &str,
    bytes: Vec<u8>,
) -> Result<StoredFile, CoreError> {
    let invalid = |code| {
        CoreError::Validation(ValidationError {
            field: "file",
            code,
        })
    };
    let (content_type, extension, video) = sniff(&bytes).ok_or(invalid("unsupported_type"))?;
    let declared = declared_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if declared != content_type {
        return Err(invalid("type_mismatch"));
    }
    let limit = if video {
        ctx.settings.media.max_video_bytes
    } else {
        ctx.settings.media.max_image_bytes
    };
    if bytes.len() > limit {
        return Err(CoreError::TooLarge(limit));
    }
    // The shape `is_stored_file_name` knows.
    let file_name = format!("{}.{extension}", crate::identity::random_id());
    let dir = media_dir(ctx);
    let size = bytes.len() as i64;
    let (tmp, path) = (dir.join(format!(".{file_name}.part")), dir.join(&file_name));
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path)
    })
    .await
    .map_err(|e| CoreError::Internal(e.to_string()))?
    .map_err(|e| CoreError::Internal(format!("storing an upload: {e}")))?;
    Ok(StoredFile {
        file_name,
        content_type,
        size,
    })
}

/// Whether `name` is one [`store_file`] writes: a random id (32 hexadecimal digits) and an
/// extension, or its temporary (`.` before, `.part` after). The sweep of files without a row
/// touches nothing else.
pub fn is_stored_file_name(name: &str) -> bool {
    let stored = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".part"))
        .unwrap_or(name);
    let Some((id, extension)) = stored.split_once('.') else {
        return false;
    };
    id.len() == 32
        && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && (1..=5).contains(&extension.len())
        && extension
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The longest description (alt text) an upload may carry: Mastodon's limit, so a description
/// written here is never cut where it is read.
pub const MAX_DESCRIPTION_CHARS: usize = 1500;

/// An upload's description (alt text) as it is kept: trimmed, none when blank, refused
/// (`description`, `too_long`) beyond [`MAX_DESCRIPTION_CHARS`]. Checked before the file is
/// stored (see [`store_file`]), so that a refused upload leaves no file behind.
pub fn checked_description(description: Option<&str>) -> Result<Option<&str>, CoreError> {
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(CoreError::Validation(ValidationError {
            field: "description",
            code: "too_long",
        }));
    }
    Ok(description)
}

/// In the caller's transaction, before it writes `texts` where no trigger records what they
/// name (a lesson, the welcome message, the charter, an avatar or banner URL): holds the
/// uploads they name until it commits, so that the orphan sweep cannot forget one of them
/// meanwhile (see [`cenacle_db::media::hold_uploads_named_in`]).
///
/// Refused (`media`, `media_gone`: 422 `validation_failed`) when a sweep that had locked
/// one of those uploads first deleted it while this waited: it was unused until now and is
/// gone for good, so the text would show a broken image; the writer must upload it again.
/// A name that was never an upload here (a remote URL, a typo) is not refused.
pub async fn hold_uploads_named_in(conn: &mut Conn, texts: &[&str]) -> Result<(), CoreError> {
    let gone = store::hold_uploads_named_in(conn, texts).await?;
    if !gone.is_empty() {
        // The error names no file (a field and a code are all it carries): the log does.
        tracing::info!(files = ?gone, "a text being saved named uploads the sweep removed");
        return Err(CoreError::Validation(ValidationError {
            field: "media",
            code: "media_gone",
        }));
    }
    Ok(())
}

/// Records a stored upload as the caller's, with its description (alt text) if one was
/// written (see [`checked_description`]).
pub async fn record_upload(
    conn: &mut Conn,
    caller: &Caller,
    file: &StoredFile,
    description: Option<&str>,
) -> Result<Media, CoreError> {
    let description = checked_description(description)?;
    Ok(store::insert_media(
        conn,
        &file.file_name,
        caller.person_id,
        file.content_type,
        file.size,
        description,
    )
    .await?)
}

/// The uploads among `ids` that are `caller`'s own, in the order asked (a form's attachments
/// shown back to their uploader; anyone else's ids are dropped).
pub async fn own_uploads(
    conn: &mut Conn,
    caller: Option<&Caller>,
    ids: &[i64],
) -> Result<Vec<Media>, CoreError> {
    let Some(caller) = caller else {
        return Ok(vec![]);
    };
    let found = store::media_by_ids(conn, ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            found
                .iter()
                .find(|m| m.id == *id && m.uploader_id == caller.person_id)
                .cloned()
        })
        .collect())
}

/// A stored file `reader` may fetch.
pub struct ServedMedia {
    pub media: Media,
    /// Never to be kept by shared caches: attached to a private group's post (served to its
    /// readers only), or attached to nothing yet (it may become a private post's file once a
    /// cache holds it for a year).
    pub sealed: bool,
}

/// A stored file by its name, if `reader` may read every group whose posts carry it (404
/// otherwise, as for a missing file). A file attached to no post yet is its uploader's, found
/// only by its unguessable name.
pub async fn readable(
    conn: &mut Conn,
    file_name: &str,
    reader: Reader<'_>,
) -> Result<ServedMedia, CoreError> {
    let media = store::media_by_file_name(conn, file_name)
        .await?
        .ok_or(CoreError::NotFound("media"))?;
    let groups = store::groups_of_media(conn, media.id).await?;
    let mut sealed = groups.is_empty();
    for group_id in groups {
        let Some(group) = actors::group_by_id(conn, group_id).await? else {
            continue;
        };
        sealed |= visibility(&group) == Visibility::Private;
        require_readable(conn, &group, reader, "media").await?;
    }
    Ok(ServedMedia { media, sealed })
}

/// What of a stored file is served.
pub enum FilePart {
    Whole(Vec<u8>),
    /// Bytes `start..=end` of a file of `total`.
    Part {
        bytes: Vec<u8>,
        start: u64,
        end: u64,
        total: u64,
    },
    /// The range asked is beyond the file's `total` bytes.
    Unsatisfiable {
        total: u64,
    },
}

/// The part of a stored file a `Range` header asks for (all of it without one; see
/// `cenacle_domain::byte_range`), read after the connection is given back.
pub async fn read_file_part(
    ctx: &Context,
    media: &Media,
    range: Option<&str>,
) -> Result<FilePart, CoreError> {
    use cenacle_domain::byte_range::{asked, Asked};
    use std::io::{Read, Seek, SeekFrom};
    let path = media_dir(ctx).join(&media.file_name);
    let range = range.map(str::to_owned);
    tokio::task::spawn_blocking(move || -> std::io::Result<FilePart> {
        let Some(range) = range else {
            return Ok(FilePart::Whole(std::fs::read(&path)?));
        };
        let mut file = std::fs::File::open(&path)?;
        let total = file.metadata()?.len();
        match asked(&range, total) {
            Asked::Whole => {
                let mut bytes = Vec::with_capacity(total as usize);
                file.read_to_end(&mut bytes)?;
                Ok(FilePart::Whole(bytes))
            }
            Asked::Unsatisfiable => Ok(FilePart::Unsatisfiable { total }),
            Asked::Part { start, end } => {
                file.seek(SeekFrom::Start(start))?;
                let mut bytes = vec![0; (end - start + 1) as usize];
                file.read_exact(&mut bytes)?;
                Ok(FilePart::Part {
                    bytes,
                    start,
                    end,
                    total,
                })
            }
        }
    })
    .await
    .map_err(|e| CoreError::Internal(e.to_string()))?
    .map_err(|_| CoreError::NotFound("media"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_file_names_are_told_from_others() {
        let id = "0123456789abcdef0123456789abcdef";
        assert!(is_stored_file_name(&format!("{id}.png")));
        assert!(is_stored_file_name(&format!("{id}.webm")));
        assert!(is_stored_file_name(&format!(".{id}.mp4.part")));
        for other in [
            "stray.png".to_owned(),
            id.to_owned(),
            format!("{id}.PNG"),
            format!("{id}.png.part"),
            format!(".{id}.png"),
            format!("{}.png", &id[1..]),
            format!("{}.png", id.to_uppercase()),
            "../x.png".to_owned(),
        ] {
            assert!(!is_stored_file_name(&other), "{other}");
        }
    }

    #[test]
    fn descriptions_are_trimmed_and_bounded() {
        assert_eq!(checked_description(None).unwrap(), None);
        assert_eq!(checked_description(Some("  ")).unwrap(), None);
        assert_eq!(checked_description(Some(" a cat ")).unwrap(), Some("a cat"));
        let longest = "é".repeat(MAX_DESCRIPTION_CHARS);
        assert_eq!(
            checked_description(Some(&longest)).unwrap(),
            Some(longest.as_str())
        );
        let too_long = "é".repeat(MAX_DESCRIPTION_CHARS + 1);
        assert!(matches!(
            checked_description(Some(&too_long)),
            Err(CoreError::Validation(ValidationError {
                field: "description",
                code: "too_long"
            }))
        ));
    }

    #[test]
    fn types_are_recognised_by_their_bytes() {
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D]).unwrap().0,
            "image/png"
        );
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest").unwrap().0, "image/jpeg");
        assert_eq!(
            sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ").unwrap().0,
            "image/webp"
        );
        assert!(sniff(b"\x00\x00\x00\x18ftypmp42").unwrap().2);
        assert!(sniff(b"<script>alert(1)</script>").is_none());
    }
}

//! Cursor pagination: `?limit=N&cursor=…` in, `{"items": [...], "next_cursor": …}` out.
//! A cursor is an opaque token for "after this row"; clients must not build their own.

use crate::error::ApiError;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid_query(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            ))),
        }
    }

    /// The id after which the page starts (0 for the first page).
    pub fn after_id(&self) -> Result<i64, ApiError> {
        match &self.cursor {
            None => Ok(0),
            Some(cursor) => decode_cursor(cursor).ok_or_else(|| {
                ApiError::new(axum::http::StatusCode::BAD_REQUEST, "invalid_cursor")
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra row only tells
    /// that another page exists.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        id_of: impl Fn(&R) -> i64,
        view: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id_of(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

impl PageQuery {
    /// For lists sorted by something other than id (top, active): the cursor is a position.
    pub fn offset(&self) -> Result<i64, ApiError> {
        match &self.cursor {
            None => Ok(0),
            Some(cursor) => decode_prefixed(cursor, "offset:")
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::new(axum::http::StatusCode::BAD_REQUEST, "invalid_cursor")
                }),
        }
    }
}

impl<T> Page<T> {
    /// A page of a position-sorted list fetched with `limit + 1` rows from `offset`.
    pub fn from_offset<R>(
        mut rows: Vec<R>,
        limit: i64,
        offset: i64,
        view: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Page {
            next_cursor: more.then(|| URL_SAFE_NO_PAD.encode(format!("offset:{}", offset + limit))),
            items: rows.into_iter().map(view).collect(),
        }
    }
}

fn decode_prefixed(cursor: &str, prefix: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix(prefix)?
        .parse()
        .ok()
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{id}"))
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("after:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("not a cursor"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("before:3")), None);
    }

    #[test]
    fn a_page_knows_whether_more_follow() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |r| *r as i64, |r| r * 10);
        assert_eq!(page.items, vec![10, 20]);
        assert_eq!(page.next_cursor.as_deref().and_then(decode_cursor), Some(2));
        let last = Page::from_rows(vec![1, 2], 2, |r| *r as i64, |r| r);
        assert!(last.next_cursor.is_none());
    }
}

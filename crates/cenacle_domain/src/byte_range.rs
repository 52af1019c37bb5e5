//! The one byte range a reader asks of a stored file (`Range: bytes=…`, RFC 9110 §14): video
//! players ask for parts to seek, and Safari plays no video from a server that answers none.

/// The most one answer carries: a player asks again from where it got to, so a reader of a
/// long video never has the server hold the whole file in memory for them.
pub const MAX_PART_BYTES: u64 = 8 * 1024 * 1024;

/// What a `Range` header asks of a file of `total` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked {
    /// Not a single byte range we serve (another unit, several ranges, malformed): the whole
    /// file, as if no range was asked (RFC 9110 lets a server ignore `Range`).
    Whole,
    /// The bytes `start..=end`, at most [`MAX_PART_BYTES`] of them.
    Part { start: u64, end: u64 },
    /// A range the file does not reach: 416.
    Unsatisfiable,
}

pub fn asked(header: &str, total: u64) -> Asked {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Asked::Whole;
    };
    if spec.contains(',') {
        return Asked::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Asked::Whole;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = match (first.trim().is_empty(), last.trim().is_empty()) {
        // `bytes=-n`: the last n bytes.
        (true, false) => match number(last) {
            Some(0) => return Asked::Unsatisfiable,
            Some(n) => (total.saturating_sub(n), total.saturating_sub(1)),
            None => return Asked::Whole,
        },
        // `bytes=a-`: from a to the end.
        (false, true) => match number(first) {
            Some(a) => (a, total.saturating_sub(1)),
            None => return Asked::Whole,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a <= b => (a, b.min(total.saturating_sub(1))),
            _ => return Asked::Whole,
        },
        (true, true) => return Asked::Whole,
    };
    if total == 0 || start >= total {
        return Asked::Unsatisfiable;
    }
    Asked::Part {
        start,
        end: end.min(start + MAX_PART_BYTES - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_are_served_within_the_file_and_the_part_limit() {
        let part = |start, end| Asked::Part { start, end };
        assert_eq!(asked("bytes=0-99", 1000), part(0, 99));
        assert_eq!(asked("bytes=900-", 1000), part(900, 999));
        assert_eq!(asked("bytes=-100", 1000), part(900, 999));
        assert_eq!(asked("bytes=-5000", 1000), part(0, 999));
        assert_eq!(asked("bytes=990-5000", 1000), part(990, 999));
        assert_eq!(
            asked("bytes=0-", 100 * 1024 * 1024),
            part(0, MAX_PART_BYTES - 1)
        );
        assert_eq!(asked("bytes=1000-", 1000), Asked::Unsatisfiable);
        assert_eq!(asked("bytes=-0", 1000), Asked::Unsatisfiable);
        assert_eq!(asked("bytes=0-", 0), Asked::Unsatisfiable);
        for ignored in [
            "items=0-5",
            "bytes=0-5,10-20",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=-",
        ] {
            assert_eq!(asked(ignored, 1000), Asked::Whole, "{ignored}");
        }
    }
}

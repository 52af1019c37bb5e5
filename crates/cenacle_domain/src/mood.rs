//! A member's mood over time, and the "negative leader" alert: an influential member whose
//! contributions turn sour is the community's loudest critic in the making (issue 12); the
//! community manager hears of it with the contributions that caused it.

use serde::Serialize;

/// One scored contribution: who wrote it is the caller's; its day (days since 1970) and its
/// [`crate::sentiment::sentiment`].
#[derive(Debug, Clone, PartialEq)]
pub struct Scored<Id> {
    pub contribution: Id,
    pub day: i64,
    pub score: f64,
}

/// The mean mood before and since `since`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MoodShift {
    pub before: f64,
    pub recent: f64,
    /// Contributions in the recent window.
    pub recent_count: usize,
}

/// A member's mood before `since` and since then; `None` when either window is empty (no
/// trend without two points of comparison).
pub fn mood_shift<Id>(scored: &[Scored<Id>], since: i64) -> Option<MoodShift> {
    let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
    let before: Vec<f64> = scored
        .iter()
        .filter(|s| s.day < since)
        .map(|s| s.score)
        .collect();
    let recent: Vec<f64> = scored
        .iter()
        .filter(|s| s.day >= since)
        .map(|s| s.score)
        .collect();
    let recent_count = recent.len();
    Some(MoodShift {
        before: mean(before)?,
        recent: mean(recent)?,
        recent_count,
    })
}

/// Influence from which a member's mood is watched (see `influence`).
pub const WATCHED_INFLUENCE: f64 = 0.3;
/// How far the mean must fall, and below what, for an alert.
pub const ALERT_DROP: f64 = 0.2;
pub const ALERT_BELOW: f64 = -0.05;
/// Fewer recent contributions than this say too little to alert on.
pub const ALERT_MIN_RECENT: usize = 3;

/// Whether a member of `influence` whose mood moved as `shift` is a negative leader: watched,
/// with enough recent contributions, now negative and clearly lower than before.
pub fn is_negative_leader(influence: f64, shift: &MoodShift) -> bool {
    influence >= WATCHED_INFLUENCE
        && shift.recent_count >= ALERT_MIN_RECENT
        && shift.recent < ALERT_BELOW
        && shift.recent <= shift.before - ALERT_DROP
}

/// The recent contributions that turned the mood, most negative first (at most `n`).
pub fn causes<Id: Clone>(scored: &[Scored<Id>], since: i64, n: usize) -> Vec<Id> {
    let mut negative: Vec<&Scored<Id>> = scored
        .iter()
        .filter(|s| s.day >= since && s.score < 0.0)
        .collect();
    negative.sort_by(|a, b| a.score.total_cmp(&b.score));
    negative
        .into_iter()
        .take(n)
        .map(|s| s.contribution.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(list: &[(u32, i64, f64)]) -> Vec<Scored<u32>> {
        list.iter()
            .map(|&(contribution, day, score)| Scored {
                contribution,
                day,
                score,
            })
            .collect()
    }

    #[test]
    fn a_helpful_member_turning_sour_is_a_negative_leader_with_the_causes() {
        let history = scored(&[
            (1, 10, 0.6),
            (2, 20, 0.5),
            (3, 40, 0.7),
            (4, 70, -0.4),
            (5, 75, -0.7),
            (6, 80, 0.1),
            (7, 85, -0.5),
        ]);
        let shift = mood_shift(&history, 60).unwrap();
        assert!((shift.before - 0.6).abs() < 1e-9);
        assert!((shift.recent - (-0.375)).abs() < 1e-9);
        assert!(is_negative_leader(0.5, &shift));
        assert_eq!(causes(&history, 60, 2), [5, 7]);
        // The same mood in a member nobody listens to is not an alert.
        assert!(!is_negative_leader(0.1, &shift));
    }

    #[test]
    fn a_member_always_critical_or_with_few_posts_raises_no_alert() {
        let steady = scored(&[
            (1, 10, -0.3),
            (2, 20, -0.4),
            (3, 70, -0.3),
            (4, 75, -0.35),
            (5, 80, -0.3),
        ]);
        assert!(!is_negative_leader(0.9, &mood_shift(&steady, 60).unwrap()));
        let once = scored(&[(1, 10, 0.5), (2, 70, -0.9)]);
        assert!(!is_negative_leader(0.9, &mood_shift(&once, 60).unwrap()));
        assert_eq!(mood_shift(&scored(&[(1, 70, -0.9)]), 60), None);
    }
}

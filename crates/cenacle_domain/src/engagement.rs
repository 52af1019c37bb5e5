//! Engagement rules: reputation (trust earned from peers), reward points (spendable), ranks and
//! privileges. Pure functions; their effects are ledger rows written by the storage layer in the
//! same transaction as the action that earned them.

use serde::{Deserialize, Serialize};

/// What changed someone's reputation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReputationCause {
    AnswerLiked,
    QuestionLiked,
    IdeaLiked,
    /// Likes on notes and comments other than answers.
    OtherLiked,
    AnswerAccepted,
    /// Given to whoever accepts an answer (not to its author).
    AcceptedAnAnswer,
    PostDisliked,
    /// Costs the voter a little, so that dislikes are not free.
    DislikedAnAnswer,
}

impl ReputationCause {
    pub const ALL: [ReputationCause; 8] = [
        ReputationCause::AnswerLiked,
        ReputationCause::QuestionLiked,
        ReputationCause::IdeaLiked,
        ReputationCause::OtherLiked,
        ReputationCause::AnswerAccepted,
        ReputationCause::AcceptedAnAnswer,
        ReputationCause::PostDisliked,
        ReputationCause::DislikedAnAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReputationCause::AnswerLiked => "answer_liked",
            ReputationCause::QuestionLiked => "question_liked",
            ReputationCause::IdeaLiked => "idea_liked",
            ReputationCause::OtherLiked => "other_liked",
            ReputationCause::AnswerAccepted => "answer_accepted",
            ReputationCause::AcceptedAnAnswer => "accepted_an_answer",
            ReputationCause::PostDisliked => "post_disliked",
            ReputationCause::DislikedAnAnswer => "disliked_an_answer",
        }
    }

    /// A like received (of any kind of contribution).
    pub fn is_like(self) -> bool {
        self.is_capped()
    }

    /// Likes (and their reversal) count toward the daily cap; acceptances never do.
    pub fn is_capped(self) -> bool {
        matches!(
            self,
            ReputationCause::AnswerLiked
                | ReputationCause::QuestionLiked
                | ReputationCause::IdeaLiked
                | ReputationCause::OtherLiked
        )
    }
}

/// Reputation weights (configurable; the defaults follow what large Q&A communities settled
/// on: an answer's like is worth more than a question's, acceptance is worth more than a like).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReputationWeights {
    pub answer_liked: i64,
    pub question_liked: i64,
    pub idea_liked: i64,
    pub other_liked: i64,
    pub answer_accepted: i64,
    pub accepted_an_answer: i64,
    pub post_disliked: i64,
    pub disliked_an_answer: i64,
    /// At most this much reputation per day from likes.
    pub daily_like_cap: i64,
}

impl Default for ReputationWeights {
    fn default() -> Self {
        Self {
            answer_liked: 10,
            question_liked: 5,
            idea_liked: 5,
            other_liked: 2,
            answer_accepted: 15,
            accepted_an_answer: 2,
            post_disliked: -2,
            disliked_an_answer: -1,
            daily_like_cap: 200,
        }
    }
}

impl ReputationWeights {
    pub fn weight(&self, cause: ReputationCause) -> i64 {
        match cause {
            ReputationCause::AnswerLiked => self.answer_liked,
            ReputationCause::QuestionLiked => self.question_liked,
            ReputationCause::IdeaLiked => self.idea_liked,
            ReputationCause::OtherLiked => self.other_liked,
            ReputationCause::AnswerAccepted => self.answer_accepted,
            ReputationCause::AcceptedAnAnswer => self.accepted_an_answer,
            ReputationCause::PostDisliked => self.post_disliked,
            ReputationCause::DislikedAnAnswer => self.disliked_an_answer,
        }
    }
}

/// Reputation is never shown (nor gated on) below this.
pub const REPUTATION_FLOOR: i64 = 1;

/// The change applied for an event:
/// - the cause's weight, scaled by the voter's instance weight (remote votes; 1.0 for local,
///   0 for an instance an admin silenced),
/// - positive capped gains limited to what is left of today's cap.
///
/// Never clipped by the floor: the stored score is the exact sum of its events (from 1), so
/// that a cause and its undoing always cancel — had a dislike at the floor recorded less than
/// it cost, its withdrawal, or a like's withdrawal after it, would leave the member above or
/// below where they started. The floor is applied when the score is read ([`shown_reputation`]).
pub fn reputation_delta(
    weights: &ReputationWeights,
    cause: ReputationCause,
    instance_weight: f64,
    earned_today_from_likes: i64,
) -> i64 {
    let mut delta = (weights.weight(cause) as f64 * instance_weight.max(0.0)).round() as i64;
    if cause.is_capped() && delta > 0 {
        delta = delta.min((weights.daily_like_cap - earned_today_from_likes).max(0));
    }
    delta
}

/// The reputation shown and gated on for a stored score (the exact sum of the ledger, from 1):
/// never below [`REPUTATION_FLOOR`].
pub fn shown_reputation(score: i64) -> i64 {
    score.max(REPUTATION_FLOOR)
}

/// The change that undoes a recorded event (a like undone, an answer unaccepted): exactly
/// what the event applied, taken back — not today's weight, which an admin may have changed
/// since, and not clipped by the floor (see [`reputation_delta`]).
pub fn reversal(recorded_delta: i64) -> i64 {
    -recorded_delta
}

/// What earns reward points (configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointRules {
    pub reply: i64,
    pub accepted_answer: i64,
    pub new_post: i64,
    pub like_given: i64,
    pub like_received: i64,
    pub daily_visit: i64,
    /// At most this many points a day from contributions and votes (posts, replies, likes
    /// given and received), as reputation from likes is capped.
    pub daily_content_cap: i64,
}

impl Default for PointRules {
    fn default() -> Self {
        Self {
            reply: 20,
            accepted_answer: 30,
            new_post: 15,
            like_given: 1,
            like_received: 2,
            daily_visit: 1,
            daily_content_cap: 300,
        }
    }
}

/// What earned (or lost) someone points automatically. Grants, bounties and prizes are
/// written by their own use cases with their own reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointCause {
    NewPost,
    Reply,
    LikeGiven,
    LikeReceived,
    AcceptedAnswer,
    DailyVisit,
}

impl PointCause {
    pub fn as_str(self) -> &'static str {
        match self {
            PointCause::NewPost => "new_post",
            PointCause::Reply => "reply",
            PointCause::LikeGiven => "like_given",
            PointCause::LikeReceived => "like_received",
            PointCause::AcceptedAnswer => "accepted_answer",
            PointCause::DailyVisit => "daily_visit",
        }
    }

    /// Counts toward the daily cap: what a member can repeat at will (write, like). An
    /// acceptance (decided by someone else) and the visit (once a day) are not capped.
    pub fn is_capped(self) -> bool {
        matches!(
            self,
            PointCause::NewPost
                | PointCause::Reply
                | PointCause::LikeGiven
                | PointCause::LikeReceived
        )
    }

    /// Paid once per piece of content, ever: deleting it takes the points back, and writing
    /// the same content again (see [`same_content`]) pays nothing more.
    pub fn once_per_content(self) -> bool {
        matches!(self, PointCause::NewPost | PointCause::Reply)
    }
}

impl PointRules {
    pub fn amount(&self, cause: PointCause) -> i64 {
        match cause {
            PointCause::NewPost => self.new_post,
            PointCause::Reply => self.reply,
            PointCause::LikeGiven => self.like_given,
            PointCause::LikeReceived => self.like_received,
            PointCause::AcceptedAnswer => self.accepted_answer,
            PointCause::DailyVisit => self.daily_visit,
        }
    }
}

/// The points actually paid for a cause: its amount scaled by the weight of the vote behind
/// it (1.0 when no vote is), capped gains limited to what is left of today's cap.
pub fn points_earned(rules: &PointRules, cause: PointCause, weight: f64, earned_today: i64) -> i64 {
    let amount = (rules.amount(cause) as f64 * weight.max(0.0)).round() as i64;
    if cause.is_capped() && amount > 0 {
        amount.min((rules.daily_content_cap - earned_today).max(0))
    } else {
        amount
    }
}

/// The change that takes back a recorded payment whose cause disappeared: exactly what it
/// paid, whatever the balance holds now. Points already spent (a bounty offered, a purchase)
/// before their cause went are owed: the balance goes below zero — by a reversal only, never
/// by spending, which needs a balance that covers the price — and later earnings pay the debt
/// first. Were the reversal capped at the balance, farming then spending would keep the points.
pub fn points_reversal(recorded: i64) -> i64 {
    -recorded
}

/// The text that decides whether two contributions of one author are the same content: the
/// words, case-folded, with runs of whitespace made one and the ends trimmed. (Re-posting a
/// deleted question with different capitals or spacing is the same question.)
pub fn same_content(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() {
            out.push('\u{1f}');
        }
        let words: Vec<String> = part.split_whitespace().map(|w| w.to_lowercase()).collect();
        out.push_str(&words.join(" "));
    }
    out
}

/// How much a vote counts, everywhere it counts (reputation, points, likes received for the
/// rank and badges, contest and bounty scores): nothing for one's own content or from a
/// blocked instance, else the voter's weight (1.0 for our members, the instance's weight for
/// others — 0 silences an instance), never negative.
pub fn vote_weight(own_content: bool, blocked: bool, voter_weight: f64) -> f64 {
    if own_content || blocked || voter_weight.is_nan() {
        0.0
    } else {
        voter_weight.max(0.0)
    }
}

/// Whether a vote of this weight counts at all: a vote that counts is one like (or dislike)
/// in counts (likes received, scores), whatever its weight; amounts (reputation, points)
/// scale by the weight.
pub fn vote_counts(weight: f64) -> bool {
    weight > 0.0
}

/// Accepting an answer rewards its author and the acceptor, unless they are the same
/// person: accepting one's own answer pays nothing to anyone.
pub fn acceptance_rewards(acceptor: i64, answer_author: i64) -> bool {
    acceptor != answer_author
}

/// Privileges gated by reputation (configurable thresholds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivilegeThresholds {
    pub dislike: i64,
    pub propose_group: i64,
    pub edit_others_posts: i64,
    pub offer_bounty: i64,
}

impl Default for PrivilegeThresholds {
    fn default() -> Self {
        Self {
            dislike: 125,
            propose_group: 50,
            edit_others_posts: 2000,
            offer_bounty: 75,
        }
    }
}

/// A contributor's counts, from which the rank's score comes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributions {
    pub threads: i64,
    pub replies: i64,
    pub ideas: i64,
    pub accepted_answers: i64,
    pub likes_received: i64,
}

/// threads + 2·replies + 5·ideas + 15·accepted answers + 4·likes received.
pub fn rank_score(c: &Contributions) -> i64 {
    c.threads + 2 * c.replies + 5 * c.ideas + 15 * c.accepted_answers + 4 * c.likes_received
}

/// A named tier, reached at `min_score`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankTier {
    pub min_score: i64,
    pub name_en: String,
    pub name_fr: String,
}

pub fn default_ranks() -> Vec<RankTier> {
    [
        (0, "Newcomer", "Nouveau venu"),
        (25, "Contributor", "Contributeur"),
        (100, "Regular", "Habitué"),
        (400, "Expert", "Expert"),
        (1500, "Champion", "Champion"),
    ]
    .into_iter()
    .map(|(min_score, en, fr)| RankTier {
        min_score,
        name_en: en.into(),
        name_fr: fr.into(),
    })
    .collect()
}

/// A rank reached, as a notification's detail: both its names, so that the notice reads in
/// whichever language its reader chooses, and still does after the ranks are renamed.
pub fn rank_reached_detail(tier: &RankTier) -> String {
    format!("{}\n{}", tier.name_en, tier.name_fr)
}

/// The rank's name in `language` from a [`rank_reached_detail`].
pub fn rank_reached_name(detail: &str, language: crate::Language) -> &str {
    let (en, fr) = detail.split_once('\n').unwrap_or((detail, detail));
    match language {
        crate::Language::Fr => fr,
        crate::Language::En => en,
    }
}

/// The highest tier whose threshold the score reaches.
pub fn rank_for(score: i64, tiers: &[RankTier]) -> Option<&RankTier> {
    tiers
        .iter()
        .filter(|t| score >= t.min_score)
        .max_by_key(|t| t.min_score)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> ReputationWeights {
        ReputationWeights::default()
    }

    #[test]
    fn likes_pay_by_kind_and_acceptance_pays_both_sides() {
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AnswerLiked, 1.0, 0),
            10
        );
        assert_eq!(
            reputation_delta(&w(), ReputationCause::QuestionLiked, 1.0, 0),
            5
        );
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AnswerAccepted, 1.0, 0),
            15
        );
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AcceptedAnAnswer, 1.0, 0),
            2
        );
    }

    #[test]
    fn the_daily_cap_limits_likes_but_not_acceptances() {
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AnswerLiked, 1.0, 195),
            5
        );
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AnswerLiked, 1.0, 200),
            0
        );
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AnswerAccepted, 1.0, 200),
            15
        );
    }

    #[test]
    fn reputation_is_recorded_exactly_and_shown_never_below_one() {
        // A dislike costs its full weight even at the floor: the floor is the reader's.
        assert_eq!(
            reputation_delta(&w(), ReputationCause::PostDisliked, 1.0, 0),
            -2
        );
        assert_eq!(shown_reputation(-3), 1);
        assert_eq!(shown_reputation(1), 1);
        assert_eq!(shown_reputation(42), 42);
    }

    #[test]
    fn undoing_takes_back_exactly_what_was_recorded() {
        // A like undone takes its +10 back, an undone dislike gives back what it cost.
        assert_eq!(reversal(10), -10);
        assert_eq!(reversal(-2), 2);
        // Reversing an event that paid nothing (cap reached, weight 0) changes nothing.
        assert_eq!(reversal(0), 0);
        // Like (+5), three dislikes (-6), the like withdrawn, the dislikes withdrawn: the
        // exact sum comes back to where it started, whatever the floor showed meanwhile.
        let events = [5, -2, -2, -2];
        let mut score = 1;
        for e in events {
            score += e;
        }
        for e in events {
            score += reversal(e);
        }
        assert_eq!(score, 1);
    }

    #[test]
    fn remote_votes_are_weighted_per_instance() {
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AnswerLiked, 0.5, 0),
            5
        );
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AnswerLiked, 0.0, 0),
            0
        );
        assert_eq!(
            reputation_delta(&w(), ReputationCause::AnswerLiked, -3.0, 0),
            0,
            "negative weights count as zero"
        );
    }

    #[test]
    fn points_are_weighted_and_capped_per_day_for_content() {
        let r = PointRules::default();
        assert_eq!(points_earned(&r, PointCause::NewPost, 1.0, 0), 15);
        assert_eq!(points_earned(&r, PointCause::LikeReceived, 0.5, 0), 1);
        assert_eq!(points_earned(&r, PointCause::LikeReceived, 0.0, 0), 0);
        assert_eq!(points_earned(&r, PointCause::Reply, 1.0, 290), 10);
        assert_eq!(points_earned(&r, PointCause::Reply, 1.0, 300), 0);
        assert_eq!(points_earned(&r, PointCause::LikeGiven, 1.0, 400), 0);
        // Acceptances and visits are not capped.
        assert_eq!(points_earned(&r, PointCause::AcceptedAnswer, 1.0, 300), 30);
        assert_eq!(points_earned(&r, PointCause::DailyVisit, 1.0, 300), 1);
        assert!(PointCause::NewPost.once_per_content() && PointCause::Reply.once_per_content());
        assert!(!PointCause::LikeReceived.once_per_content());
    }

    #[test]
    fn reversing_points_takes_back_exactly_what_was_paid() {
        assert_eq!(points_reversal(15), -15);
        // A debit reversed is given back in full.
        assert_eq!(points_reversal(-20), 20);
    }

    #[test]
    fn the_same_content_ignores_case_and_spacing_but_not_words() {
        assert_eq!(
            same_content(&["Un thème sombre", ""]),
            same_content(&["  un THÈME   sombre ", ""])
        );
        assert_ne!(
            same_content(&["Un thème sombre", ""]),
            same_content(&["Un thème clair", ""])
        );
        // Title and body are apart: moving a word across does not make it the same.
        assert_ne!(same_content(&["a b", "c"]), same_content(&["a", "b c"]));
    }

    #[test]
    fn votes_count_by_weight_and_never_on_ones_own_content_or_from_a_blocked_instance() {
        assert_eq!(vote_weight(false, false, 1.0), 1.0);
        assert_eq!(vote_weight(false, false, 0.5), 0.5);
        assert_eq!(vote_weight(true, false, 1.0), 0.0, "self-votes");
        assert_eq!(vote_weight(false, true, 1.0), 0.0, "blocked instances");
        assert_eq!(vote_weight(false, false, -1.0), 0.0);
        assert_eq!(vote_weight(false, false, f64::NAN), 0.0);
        assert!(vote_counts(0.1) && !vote_counts(0.0));
    }

    #[test]
    fn accepting_ones_own_answer_rewards_nobody() {
        assert!(acceptance_rewards(1, 2));
        assert!(!acceptance_rewards(7, 7));
    }

    #[test]
    fn a_rank_reached_reads_in_either_language() {
        let tiers = default_ranks();
        let detail = rank_reached_detail(&tiers[2]);
        assert_eq!(rank_reached_name(&detail, crate::Language::En), "Regular");
        assert_eq!(rank_reached_name(&detail, crate::Language::Fr), "Habitué");
    }

    #[test]
    fn ranks_follow_the_score() {
        let c = Contributions {
            threads: 2,
            replies: 3,
            ideas: 1,
            accepted_answers: 1,
            likes_received: 2,
        };
        assert_eq!(rank_score(&c), 2 + 6 + 5 + 15 + 8);
        let tiers = default_ranks();
        assert_eq!(rank_for(0, &tiers).unwrap().name_en, "Newcomer");
        assert_eq!(rank_for(36, &tiers).unwrap().name_fr, "Contributeur");
        assert_eq!(rank_for(10_000, &tiers).unwrap().name_en, "Champion");
    }
}

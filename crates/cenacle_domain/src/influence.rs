//! Influence, after Michael Wu's model of community influencers: a member influences a topic
//! only with both **credibility** (people trust what they say there) and **bandwidth** (what
//! they say reaches people). The two are not correlated — a prolific member can be ignored, an
//! expert can post twice a month — so neither is enough alone, and influence is their
//! geometric mean: zero when either is zero, and a member strong on one side only ranks
//! below one who is good on both. docs/influence.md gives the formula with a worked example
//! (the unit tests below compute it).
//!
//! Every figure is read per topic (a group or a tag) over a period, from rollups kept in the
//! action's transaction; this module only combines them.

use serde::Serialize;

/// What a member did in one topic over the period, as the rollups count it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TopicActivity {
    /// Answers (top-level comments on questions) and replies they wrote.
    pub replies: u32,
    /// Of their answers, how many were accepted.
    pub accepted: u32,
    /// Likes on their replies, each weighted by the liker's own standing
    /// ([`liker_weight`]) and their instance's weight (issue 11's weighting).
    pub weighted_likes: f64,
    /// Endorsements by members recognised as experts of the topic (champions, staff).
    pub endorsements: u32,
    /// Threads, replies and ideas they posted, per week of the period.
    pub contributions_per_week: f64,
    /// Distinct people whose questions they answered.
    pub people_answered: u32,
    /// Views of their contributions (one per viewer per post per day).
    pub views: u64,
}

/// The topic's own level, so that a member is compared with their topic, not the instance:
/// the share of answers accepted there (a prior for members with few answers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TopicNorms {
    pub acceptance_rate: f64,
}

/// Half-saturation points: the figure at which a component reaches 0.5. Above them a member
/// gains less and less, so that no single figure can be pushed up to buy influence.
pub const LIKES_PER_REPLY_HALF: f64 = 1.0;
pub const ENDORSEMENTS_HALF: f64 = 2.0;
pub const CONTRIBUTIONS_PER_WEEK_HALF: f64 = 3.0;
pub const PEOPLE_ANSWERED_HALF: f64 = 10.0;
pub const VIEWS_HALF: f64 = 500.0;
/// Weight of the topic's acceptance rate in a member's smoothed rate, in answers: with few
/// answers, a member is assumed to be as good as their topic.
pub const ACCEPTANCE_PRIOR_ANSWERS: f64 = 5.0;

/// `x / (x + half)`: 0 at 0, 0.5 at `half`, towards 1 beyond.
fn saturate(x: f64, half: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        x / (x + half)
    }
}

/// How much one like counts, by the liker's reputation: a like from a trusted member says
/// more than one from an account made yesterday, but no liker counts for more than 3.
pub fn liker_weight(liker_reputation: i64) -> f64 {
    (1.0 + (1.0 + liker_reputation.max(0) as f64).log10() / 2.0).min(3.0)
}

/// The two sides of influence and what made them, for the shortlist's explanations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Influence {
    /// 0–1: acceptance (smoothed), likes per reply, endorsements.
    pub credibility: f64,
    /// 0–1: contributions per week, people answered, views.
    pub bandwidth: f64,
    /// √(credibility × bandwidth).
    pub influence: f64,
    pub acceptance: f64,
    pub likes_per_reply: f64,
}

/// Credibility = 0.5·acceptance + 0.3·likes per reply + 0.2·endorsements (each 0–1);
/// bandwidth = 0.4·contributions per week + 0.4·people answered + 0.2·views (each 0–1);
/// influence = √(credibility × bandwidth).
pub fn influence(activity: &TopicActivity, norms: &TopicNorms) -> Influence {
    let acceptance = (activity.accepted as f64
        + ACCEPTANCE_PRIOR_ANSWERS * norms.acceptance_rate.clamp(0.0, 1.0))
        / (activity.replies as f64 + ACCEPTANCE_PRIOR_ANSWERS);
    let likes_per_reply = if activity.replies == 0 {
        0.0
    } else {
        activity.weighted_likes.max(0.0) / activity.replies as f64
    };
    let credibility = 0.5 * acceptance
        + 0.3 * saturate(likes_per_reply, LIKES_PER_REPLY_HALF)
        + 0.2 * saturate(activity.endorsements as f64, ENDORSEMENTS_HALF);
    let bandwidth = 0.4 * saturate(activity.contributions_per_week, CONTRIBUTIONS_PER_WEEK_HALF)
        + 0.4 * saturate(activity.people_answered as f64, PEOPLE_ANSWERED_HALF)
        + 0.2 * saturate(activity.views as f64, VIEWS_HALF);
    // A member who never replied in the topic has no track record there, whatever the prior.
    let credibility = if activity.replies == 0 && activity.endorsements == 0 {
        0.0
    } else {
        credibility
    };
    Influence {
        credibility,
        bandwidth,
        influence: (credibility * bandwidth).sqrt(),
        acceptance,
        likes_per_reply,
    }
}

/// Why a member stands where they do on the shortlist: the side that holds them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limiting {
    /// Both sides are strong.
    Balanced,
    /// Much activity and reach, little of it trusted: few answers accepted or liked.
    Credibility,
    /// Trusted, but reaches few people: posts rarely, answers few.
    Bandwidth,
}

/// Which side limits `figures`: the weaker one, when it is less than half the other.
pub fn limiting(figures: &Influence) -> Limiting {
    if figures.credibility < figures.bandwidth / 2.0 {
        Limiting::Credibility
    } else if figures.bandwidth < figures.credibility / 2.0 {
        Limiting::Bandwidth
    } else {
        Limiting::Balanced
    }
}

/// One member's place on a topic's shortlist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate<Id> {
    pub member: Id,
    pub figures: Influence,
    pub limiting: Limiting,
}

/// The `top` members of a topic by influence, highest first (ties by member, for a stable
/// list), each with the figures that put them there.
pub fn shortlist<Id: Ord + Clone>(
    members: &[(Id, TopicActivity)],
    norms: &TopicNorms,
    top: usize,
) -> Vec<Candidate<Id>> {
    let mut ranked: Vec<Candidate<Id>> = members
        .iter()
        .map(|(member, activity)| {
            let figures = influence(activity, norms);
            Candidate {
                member: member.clone(),
                limiting: limiting(&figures),
                figures,
            }
        })
        .filter(|c| c.figures.influence > 0.0)
        .collect();
    ranked.sort_by(|a, b| {
        b.figures
            .influence
            .total_cmp(&a.figures.influence)
            .then_with(|| a.member.cmp(&b.member))
    });
    ranked.truncate(top);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.0005
    }

    const NORMS: TopicNorms = TopicNorms {
        acceptance_rate: 0.2,
    };

    /// docs/influence.md's worked example, figure by figure.
    fn expert() -> TopicActivity {
        TopicActivity {
            replies: 12,
            accepted: 9,
            weighted_likes: 30.0,
            endorsements: 2,
            contributions_per_week: 1.5,
            people_answered: 11,
            views: 800,
        }
    }

    fn busy() -> TopicActivity {
        TopicActivity {
            replies: 120,
            accepted: 3,
            weighted_likes: 24.0,
            endorsements: 0,
            contributions_per_week: 14.0,
            people_answered: 60,
            views: 5000,
        }
    }

    #[test]
    fn the_worked_example_of_the_docs() {
        let e = influence(&expert(), &NORMS);
        // acceptance (9 + 5·0.2) / (12 + 5) = 10/17
        assert!(close(e.acceptance, 0.5882));
        assert!(close(e.likes_per_reply, 2.5));
        // 0.5·0.5882 + 0.3·(2.5/3.5) + 0.2·(2/4)
        assert!(close(e.credibility, 0.2941 + 0.2143 + 0.1));
        // 0.4·(1.5/4.5) + 0.4·(11/21) + 0.2·(800/1300)
        assert!(close(e.bandwidth, 0.1333 + 0.2095 + 0.1231));
        assert!(close(e.influence, (e.credibility * e.bandwidth).sqrt()));
        assert!(close(e.influence, 0.5323));

        let b = influence(&busy(), &NORMS);
        // (3 + 1) / 125; 24/120 likes per reply
        assert!(close(b.acceptance, 0.032));
        assert!(close(b.credibility, 0.016 + 0.3 * (0.2 / 1.2)));
        assert!(close(
            b.bandwidth,
            0.4 * (14.0 / 17.0) + 0.4 * (60.0 / 70.0) + 0.2 * (5000.0 / 5500.0)
        ));
        assert!(close(b.influence, 0.2374));
        assert_eq!(limiting(&b), Limiting::Credibility);
        assert_eq!(limiting(&e), Limiting::Balanced);
    }

    #[test]
    fn the_expert_ranks_above_the_merely_active_member() {
        let list = shortlist(&[("busy", busy()), ("expert", expert())], &NORMS, 10);
        let order: Vec<&str> = list.iter().map(|c| c.member).collect();
        assert_eq!(order, ["expert", "busy"]);
    }

    #[test]
    fn either_side_alone_is_no_influence() {
        let silent_expert = TopicActivity {
            endorsements: 5,
            ..TopicActivity::default()
        };
        assert_eq!(influence(&silent_expert, &NORMS).influence, 0.0);
        let lurker = TopicActivity {
            views: 10_000,
            ..TopicActivity::default()
        };
        assert_eq!(influence(&lurker, &NORMS).influence, 0.0);
        assert!(shortlist(&[(1, lurker), (2, silent_expert)], &NORMS, 5).is_empty());
    }

    #[test]
    fn pushing_one_figure_saturates() {
        let mut spammer = busy();
        let before = influence(&spammer, &NORMS).bandwidth;
        spammer.contributions_per_week = 1_000.0;
        let after = influence(&spammer, &NORMS).bandwidth;
        assert!(after - before < 0.4 * (1.0 - 14.0 / 17.0) + 1e-9);
        assert!(after <= 1.0);
    }

    #[test]
    fn a_newcomer_with_few_answers_is_judged_near_the_topic() {
        let one_accepted = TopicActivity {
            replies: 1,
            accepted: 1,
            ..TopicActivity::default()
        };
        // Not 100 %: (1 + 1) / 6.
        assert!(close(
            influence(&one_accepted, &NORMS).acceptance,
            2.0 / 6.0
        ));
    }

    #[test]
    fn likes_from_trusted_members_weigh_more_up_to_a_bound() {
        assert!(close(liker_weight(0), 1.0));
        assert!(liker_weight(1_000) > liker_weight(10));
        assert!(liker_weight(i64::MAX) <= 3.0);
        assert!(close(liker_weight(-50), 1.0));
    }
}

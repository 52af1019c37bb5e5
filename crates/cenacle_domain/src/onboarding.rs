//! The onboarding journey and triggered e-mails: the kinds of steps, the rules' triggers and
//! stop conditions, and the `{{variable}}` templates community managers write (checked when
//! saved, so a typo is refused naming it instead of reaching members as raw braces).

use std::fmt;

/// The variables a rule's template may use, filled in for each recipient.
pub const TEMPLATE_VARIABLES: [&str; 4] = ["name", "instance", "days", "link"];

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{something}}` that is not in [`TEMPLATE_VARIABLES`].
    UnknownVariable(String),
    /// A `{{` never closed.
    Unclosed,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::UnknownVariable(name) => write!(f, "unknown variable {{{{{name}}}}}"),
            TemplateError::Unclosed => write!(f, "a {{{{ is not closed"),
        }
    }
}

/// The pieces of a template: literal text and variable names (trimmed).
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
        out.push(Piece::Variable(after[..end].trim()));
        rest = &after[end + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

enum Piece<'a> {
    Text(&'a str),
    Variable(&'a str),
}

/// Checks that every `{{variable}}` of `template` is one of [`TEMPLATE_VARIABLES`]; the first
/// unknown one is named.
pub fn validate_template(template: &str) -> Result<(), TemplateError> {
    for piece in pieces(template)? {
        if let Piece::Variable(name) = piece {
            if !TEMPLATE_VARIABLES.contains(&name) {
                return Err(TemplateError::UnknownVariable(name.to_owned()));
            }
        }
    }
    Ok(())
}

/// Fills a template (validated when saved) with `values` (`(variable, value)`); a variable
/// without a value renders empty.
pub fn render_template(template: &str, values: &[(&str, &str)]) -> String {
    let Ok(pieces) = pieces(template) else {
        return template.to_owned();
    };
    let mut out = String::with_capacity(template.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Variable(name) => {
                if let Some((_, value)) = values.iter().find(|(n, _)| *n == name) {
                    out.push_str(value);
                }
            }
        }
    }
    out
}

/// What starts the clock of a triggered e-mail rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleTrigger {
    /// `delay_days` after sign-up.
    NoContributionAfterSignup,
    /// `delay_days` after the member's first answer was accepted.
    FirstAnswerAccepted,
    /// No post, comment or vote for `delay_days` (counted from sign-up if none ever).
    InactiveFor,
}

impl RuleTrigger {
    pub const ALL: [RuleTrigger; 3] = [
        RuleTrigger::NoContributionAfterSignup,
        RuleTrigger::FirstAnswerAccepted,
        RuleTrigger::InactiveFor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleTrigger::NoContributionAfterSignup => "no_contribution_after_signup",
            RuleTrigger::FirstAnswerAccepted => "first_answer_accepted",
            RuleTrigger::InactiveFor => "inactive_for",
        }
    }

    pub fn parse(text: &str) -> Option<RuleTrigger> {
        RuleTrigger::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// What makes a rule skip a member whose trigger fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCondition {
    None,
    /// Any post or comment of theirs (not deleted).
    HasContributed,
}

impl StopCondition {
    pub const ALL: [StopCondition; 2] = [StopCondition::None, StopCondition::HasContributed];

    pub fn as_str(self) -> &'static str {
        match self {
            StopCondition::None => "none",
            StopCondition::HasContributed => "has_contributed",
        }
    }

    pub fn parse(text: &str) -> Option<StopCondition> {
        StopCondition::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A step of the onboarding journey, checked against facts (the member's profile, posts,
/// comments, memberships, likes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A display name, a bio and an avatar.
    CompleteProfile,
    JoinGroup,
    /// A comment on a question.
    AnswerQuestion,
    PostIdea,
    AskQuestion,
    /// Likes given to posts or comments.
    LikeContributions,
    /// The built-in getting-started course's certificate received.
    FinishGettingStarted,
}

impl StepKind {
    pub const ALL: [StepKind; 7] = [
        StepKind::CompleteProfile,
        StepKind::JoinGroup,
        StepKind::AnswerQuestion,
        StepKind::PostIdea,
        StepKind::AskQuestion,
        StepKind::LikeContributions,
        StepKind::FinishGettingStarted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::CompleteProfile => "complete_profile",
            StepKind::JoinGroup => "join_group",
            StepKind::AnswerQuestion => "answer_question",
            StepKind::PostIdea => "post_idea",
            StepKind::AskQuestion => "ask_question",
            StepKind::LikeContributions => "like_contributions",
            StepKind::FinishGettingStarted => "finish_getting_started",
        }
    }

    pub fn parse(text: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The largest delay a rule may have (ten years: beyond, a typo).
pub const MAX_DELAY_DAYS: i32 = 3650;
/// The largest target and reward of a step.
pub const MAX_STEP_TARGET: i32 = 1000;
pub const MAX_STEP_POINTS: i64 = 10_000;

/// How far a member got in a step: `done` once `count` reaches `target`.
pub fn step_done(count: i64, target: i32) -> bool {
    count >= i64::from(target.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_variables_pass_and_render() {
        let t = "Bonjour {{name}}, {{ days }} jours sur {{instance}} : {{link}}";
        assert_eq!(validate_template(t), Ok(()));
        assert_eq!(
            render_template(
                t,
                &[
                    ("name", "Ada"),
                    ("days", "3"),
                    ("instance", "Cénacle"),
                    ("link", "https://x/")
                ]
            ),
            "Bonjour Ada, 3 jours sur Cénacle : https://x/"
        );
    }

    #[test]
    fn an_unknown_variable_is_named() {
        assert_eq!(
            validate_template("Hello {{name}}, your {{karma}} and {{foo}}"),
            Err(TemplateError::UnknownVariable("karma".into()))
        );
        assert_eq!(
            validate_template("{{}}"),
            Err(TemplateError::UnknownVariable(String::new()))
        );
    }

    #[test]
    fn an_unclosed_variable_is_refused() {
        assert_eq!(
            validate_template("Hello {{name"),
            Err(TemplateError::Unclosed)
        );
    }

    #[test]
    fn text_without_variables_is_kept() {
        assert_eq!(validate_template("plain } { text"), Ok(()));
        assert_eq!(render_template("plain } { text", &[]), "plain } { text");
    }

    #[test]
    fn kinds_round_trip() {
        for t in RuleTrigger::ALL {
            assert_eq!(RuleTrigger::parse(t.as_str()), Some(t));
        }
        for s in StopCondition::ALL {
            assert_eq!(StopCondition::parse(s.as_str()), Some(s));
        }
        for k in StepKind::ALL {
            assert_eq!(StepKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(RuleTrigger::parse("never"), None);
    }

    #[test]
    fn a_step_is_done_at_its_target() {
        assert!(!step_done(2, 3));
        assert!(step_done(3, 3));
        assert!(step_done(1, 0));
    }
}

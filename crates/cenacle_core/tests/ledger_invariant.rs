//! The ledgers' invariant under random sequences of actions (proptest): members ask, answer,
//! accept (their own answers too), like, dislike, withdraw votes and delete, and a moderator
//! removes, in any order, through the real use cases on a real database. After every step:
//! - every balance and reputation equals its ledger (`points::audit` finds nothing), and
//! - each member's reputation and points are exactly what the rules give for what is live now:
//!   content that went, likes withdrawn, acceptances changed or made on one's own answer and
//!   votes on one's own content count for nothing; the reputation shown is that sum, never
//!   below the floor of 1, while the ledger keeps every exact delta (so a cause and its undoing
//!   cancel even when the floor hid part of what lay between).
//!
//! A step the rules refuse (accepting on someone else's question, liking something deleted…)
//! changes nothing; a step that fails for any other reason fails the test.

mod common;

use cenacle_config::Settings;
use cenacle_core::{
    accounts::Session,
    answers, comments,
    model::{Group, VoteTarget},
    points, posts, votes, Caller, Context, CoreError, ScopedFutureExt,
};
use cenacle_db::testing::fresh_database;
use cenacle_domain::{
    content::{PostKind, Vote},
    Role,
};
use common::World;
use proptest::{prelude::*, test_runner::TestRunner};
use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicUsize, Ordering},
};

const PEOPLE: usize = 3;

/// Something liked: a question or an answer, by its index in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Question(usize),
    Answer(usize),
}

/// One action by one member. Indices pick among what the sequence created so far (modulo).
#[derive(Debug, Clone)]
enum Step {
    Ask {
        who: usize,
    },
    Answer {
        who: usize,
        question: usize,
    },
    /// By `who`, or (None) by the question's author; `answer` among the question's answers.
    Accept {
        who: Option<usize>,
        question: usize,
        answer: Option<usize>,
    },
    Like {
        who: usize,
        target: Target,
    },
    Dislike {
        who: usize,
        target: Target,
    },
    Withdraw {
        who: usize,
        target: Target,
    },
    DeleteQuestion {
        who: usize,
        question: usize,
    },
    DeleteAnswer {
        who: usize,
        answer: usize,
    },
    /// By the group's moderator, whoever wrote it.
    RemoveQuestion {
        question: usize,
    },
    RemoveAnswer {
        answer: usize,
    },
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        (0..8usize).prop_map(Target::Question),
        (0..8usize).prop_map(Target::Answer),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..PEOPLE;
    prop_oneof![
        2 => who.clone().prop_map(|who| Step::Ask { who }),
        3 => (who.clone(), 0..8usize).prop_map(|(who, question)| Step::Answer { who, question }),
        3 => (
            proptest::option::weighted(0.25, who.clone()),
            0..8usize,
            proptest::option::weighted(0.8, 0..8usize),
        )
            .prop_map(|(who, question, answer)| Step::Accept { who, question, answer }),
        4 => (who.clone(), target()).prop_map(|(who, target)| Step::Like { who, target }),
        3 => (who.clone(), target()).prop_map(|(who, target)| Step::Dislike { who, target }),
        3 => (who.clone(), target()).prop_map(|(who, target)| Step::Withdraw { who, target }),
        1 => (who.clone(), 0..8usize)
            .prop_map(|(who, question)| Step::DeleteQuestion { who, question }),
        2 => (who, 0..8usize).prop_map(|(who, answer)| Step::DeleteAnswer { who, answer }),
        1 => (0..8usize).prop_map(|question| Step::RemoveQuestion { question }),
        1 => (0..8usize).prop_map(|answer| Step::RemoveAnswer { answer }),
    ]
}

struct Question {
    id: i64,
    author: usize,
    live: bool,
    /// The accepted answer and who accepted it.
    accepted: Option<(usize, usize)>,
}

struct Answer {
    id: i64,
    author: usize,
    question: usize,
    live: bool,
}

/// What the sequence created, as the rules see it.
#[derive(Default)]
struct Model {
    questions: Vec<Question>,
    answers: Vec<Answer>,
    /// Live votes: 1 a like, -1 a dislike.
    votes: BTreeMap<(usize, Target), i16>,
}

impl Model {
    fn pick<T>(items: &[T], i: usize) -> Option<usize> {
        (!items.is_empty()).then(|| i % items.len())
    }

    fn resolve(&self, target: Target) -> Option<Target> {
        match target {
            Target::Question(i) => Self::pick(&self.questions, i).map(Target::Question),
            Target::Answer(i) => Self::pick(&self.answers, i).map(Target::Answer),
        }
    }

    fn answer_live(&self, a: usize) -> bool {
        self.answers[a].live && self.questions[self.answers[a].question].live
    }

    /// The author of a live target, or None when it is gone.
    fn live_author(&self, target: Target) -> Option<usize> {
        match target {
            Target::Question(q) => self.questions[q].live.then_some(self.questions[q].author),
            Target::Answer(a) => self.answer_live(a).then_some(self.answers[a].author),
        }
    }

    /// (reputation, points) that person `p` holds from this sequence, by the default rules
    /// (caps lifted): what is live now, and nothing from oneself. Exact sums: the floor is the
    /// reader's.
    fn expected(&self, p: usize) -> (i64, i64) {
        let (mut rep, mut pts) = (0, 0);
        for q in &self.questions {
            if q.live && q.author == p {
                pts += 15;
            }
            if let Some((a, acceptor)) = q.accepted.filter(|_| q.live) {
                let author = self.answers[a].author;
                if acceptor != author {
                    if author == p {
                        rep += 15;
                        pts += 30;
                    }
                    if acceptor == p {
                        rep += 2;
                    }
                }
            }
        }
        for (a, answer) in self.answers.iter().enumerate() {
            if self.answer_live(a) && answer.author == p {
                pts += 20;
            }
        }
        for (&(voter, target), &value) in &self.votes {
            let Some(author) = self.live_author(target) else {
                continue;
            };
            if voter == author {
                continue;
            }
            if value < 0 {
                if author == p {
                    rep -= 2;
                }
                if voter == p && matches!(target, Target::Answer(_)) {
                    rep -= 1;
                }
                continue;
            }
            if voter == p {
                pts += 1;
            }
            if author == p {
                pts += 2;
                rep += match target {
                    Target::Question(_) => 5,
                    Target::Answer(_) => 10,
                };
            }
        }
        (rep, pts)
    }
}

/// The world the sequences run in: one database for all of them (each sequence creates its
/// own content, and compares with what its people held when it began).
struct Stage {
    world: World,
    people: Vec<Caller>,
    /// The group's owner, who moderates it.
    moderator: Caller,
    group: Group,
    /// Numbers every text written, across sequences: the same words by the same author are
    /// paid once, ever, and each sequence's model expects its content paid.
    serial: AtomicUsize,
    /// Answers accepted by someone else than their author, and content deleted: the runs must
    /// have exercised them.
    accepted: AtomicUsize,
    deleted: AtomicUsize,
}

impl Stage {
    async fn new() -> Stage {
        let db = fresh_database().await;
        let mut settings = Settings::defaults();
        // The caps are tested elsewhere; here every reward counts in full.
        settings.engagement.reputation.daily_like_cap = i64::MAX / 4;
        settings.engagement.points.daily_content_cap = i64::MAX / 4;
        // Members at the floor dislike too: the floor is what this test is about.
        settings.engagement.privileges.dislike = 0;
        let world = World {
            ctx: Context::new(db.pool.clone(), settings),
            db,
        };
        // The model below knows the reward rules, not the onboarding journey's one-off pay.
        world.journey_pays_nothing().await;
        // The group's owner (who may create groups) moderates it: kept out of the sequences,
        // whose members are plain.
        let owner: Session = world.member("owner", Role::CommunityManager).await;
        let group = world.group(&owner, "agora").await;
        let mut people = Vec::new();
        for i in 0..PEOPLE {
            people.push(Caller::from(
                &world.member(&format!("member{i}"), Role::Member).await,
            ));
        }
        Stage {
            world,
            people,
            moderator: Caller::from(&owner),
            group,
            serial: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
            deleted: AtomicUsize::new(0),
        }
    }

    /// (reputation shown, exact reputation: 1 plus its events, points).
    async fn standing(&self, person: i64) -> (i64, i64, i64) {
        let mut conn = self.world.ctx.conn().await.unwrap();
        let points = points::points_history(&mut conn, person, i64::MAX, 1)
            .await
            .unwrap()
            .0;
        let (shown, events) = points::reputation_history(&mut conn, person, i64::MAX, i64::MAX)
            .await
            .unwrap();
        let exact = 1 + events.iter().map(|e| e.delta).sum::<i64>();
        (shown, exact, points)
    }

    /// Runs one step in its own transaction; updates the model when the rules allowed it.
    async fn apply(&self, model: &mut Model, step: &Step) {
        let ctx = &self.world.ctx;
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let caller = |who: usize| &self.people[who];
        let outcome: Result<(), CoreError> = match *step {
            Step::Ask { who } => {
                let (caller, group) = (caller(who), &self.group);
                let input = posts::PostInput {
                    kind: PostKind::Question,
                    title: format!("Question {n} ?"),
                    body: format!("Corps {n}"),
                    tags: vec![],
                    language: None,
                    attachments: vec![],
                    remote_attachments: vec![],
                };
                let post = ctx
                    .transaction(|conn| {
                        async move { posts::create_post(conn, ctx, caller, group, input, None).await }
                            .scope_boxed()
                    })
                    .await;
                post.map(|post| {
                    model.questions.push(Question {
                        id: post.id,
                        author: who,
                        live: true,
                        accepted: None,
                    })
                })
            }
            Step::Answer { who, question } => {
                let Some(q) = Model::pick(&model.questions, question) else {
                    return;
                };
                let (caller, post_id, body) = (caller(who), model.questions[q].id, format!("R{n}"));
                let body = &body;
                let answer = ctx
                    .transaction(|conn| {
                        async move {
                            comments::add_comment(conn, ctx, caller, post_id, None, body, None)
                                .await
                        }
                        .scope_boxed()
                    })
                    .await;
                answer.map(|c| {
                    model.answers.push(Answer {
                        id: c.id,
                        author: who,
                        question: q,
                        live: true,
                    })
                })
            }
            Step::Accept {
                who,
                question,
                answer,
            } => {
                let Some(q) = Model::pick(&model.questions, question) else {
                    return;
                };
                let theirs: Vec<usize> = (0..model.answers.len())
                    .filter(|&a| model.answers[a].question == q)
                    .collect();
                let a = match answer {
                    Some(i) => match Model::pick(&theirs, i) {
                        Some(k) => Some(theirs[k]),
                        None => return,
                    },
                    None => None,
                };
                let who = who.unwrap_or(model.questions[q].author);
                let (caller, post_id) = (caller(who), model.questions[q].id);
                let comment_id = a.map(|a| model.answers[a].id);
                let accepted = ctx
                    .transaction(|conn| {
                        async move {
                            answers::accept_answer(conn, ctx, caller, post_id, comment_id).await
                        }
                        .scope_boxed()
                    })
                    .await;
                accepted.map(|_| {
                    if a.is_some_and(|a| model.answers[a].author != who) {
                        self.accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    let question = &mut model.questions[q];
                    // Accepting the answer already accepted changes nothing.
                    if question.accepted.map(|(a, _)| a) != a {
                        question.accepted = a.map(|a| (a, who));
                    }
                })
            }
            Step::Like { who, target }
            | Step::Dislike { who, target }
            | Step::Withdraw { who, target } => {
                let Some(target) = model.resolve(target) else {
                    return;
                };
                let choice = match step {
                    Step::Like { .. } => Some(Vote::Like),
                    Step::Dislike { .. } => Some(Vote::Dislike),
                    _ => None,
                };
                let on = match target {
                    Target::Question(q) => VoteTarget::Post(model.questions[q].id),
                    Target::Answer(a) => VoteTarget::Comment(model.answers[a].id),
                };
                let caller = caller(who);
                let voted = ctx
                    .transaction(|conn| {
                        async move { votes::vote(conn, ctx, caller, on, choice, None).await }
                            .scope_boxed()
                    })
                    .await;
                voted.map(|_| match choice {
                    Some(vote) => {
                        model.votes.insert((who, target), vote.value());
                    }
                    None => {
                        model.votes.remove(&(who, target));
                    }
                })
            }
            Step::DeleteQuestion { .. } | Step::RemoveQuestion { .. } => {
                let (caller, question) = match *step {
                    Step::DeleteQuestion { who, question } => (caller(who), question),
                    Step::RemoveQuestion { question } => (&self.moderator, question),
                    _ => unreachable!(),
                };
                let Some(q) = Model::pick(&model.questions, question) else {
                    return;
                };
                let post_id = model.questions[q].id;
                let deleted = ctx
                    .transaction(|conn| {
                        async move { posts::delete_post(conn, caller, post_id).await }.scope_boxed()
                    })
                    .await;
                deleted.map(|_| {
                    self.deleted.fetch_add(1, Ordering::Relaxed);
                    model.questions[q].live = false
                })
            }
            Step::DeleteAnswer { .. } | Step::RemoveAnswer { .. } => {
                let (caller, answer) = match *step {
                    Step::DeleteAnswer { who, answer } => (caller(who), answer),
                    Step::RemoveAnswer { answer } => (&self.moderator, answer),
                    _ => unreachable!(),
                };
                let Some(a) = Model::pick(&model.answers, answer) else {
                    return;
                };
                let comment_id = model.answers[a].id;
                let deleted = ctx
                    .transaction(|conn| {
                        async move { comments::delete_comment(conn, ctx, caller, comment_id).await }
                            .scope_boxed()
                    })
                    .await;
                deleted.map(|_| {
                    self.deleted.fetch_add(1, Ordering::Relaxed);
                    model.answers[a].live = false;
                    let question = &mut model.questions[model.answers[a].question];
                    if question.accepted.map(|(x, _)| x) == Some(a) {
                        question.accepted = None;
                    }
                })
            }
        };
        if let Err(err) = outcome {
            assert!(
                !matches!(err, CoreError::Database(_) | CoreError::Internal(_)),
                "{step:?} failed: {err}"
            );
        }
    }
}

#[test]
fn every_sequence_of_actions_leaves_the_ledgers_true_to_the_rules() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stage = runtime.block_on(Stage::new());
    let config = ProptestConfig {
        cases: 40,
        // Each case is a real database's worth of work: shrinking stays short.
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(step(), 1..30), |steps| {
        runtime.block_on(async {
            let mut start = Vec::new();
            for person in &stage.people {
                start.push(stage.standing(person.person_id).await);
            }
            let mut model = Model::default();
            for (n, step) in steps.iter().enumerate() {
                stage.apply(&mut model, step).await;
                let mut conn = stage.world.ctx.conn().await.unwrap();
                let differences = points::audit(&mut conn).await.unwrap();
                prop_assert!(differences.is_empty(), "after {step:?}: {differences:?}");
                for (i, person) in stage.people.iter().enumerate() {
                    let (rep, pts) = model.expected(i);
                    let now = stage.standing(person.person_id).await;
                    let exact = start[i].1 + rep;
                    prop_assert_eq!(
                        now,
                        (exact.max(1), exact, start[i].2 + pts),
                        "member{} after step {} {:?}",
                        i,
                        n,
                        step
                    );
                }
            }
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(
        stage.accepted.load(Ordering::Relaxed) > 0 && stage.deleted.load(Ordering::Relaxed) > 0,
        "the sequences never accepted someone else's answer or deleted anything"
    );
}

//! The rows use cases return, for the API and federation layers (which reach the database
//! only through this crate).

pub use cenacle_db::{
    accounts::Account,
    actors::{Group, LocalIdentity, PersonActor, RemoteGroup, RemotePerson},
    auctions::{Auction, Bid},
    badges::Badge,
    content::{
        Author, Comment, FeedScope, FeedSort, Post, PostEdit, PostFilter, SearchQuery,
        StatusChange, VoteTarget,
    },
    engagement::{Bounty, Contest, LeaderboardRow, LedgerDifference, PointsEntry, ReputationEvent},
    federation::{ClaimedDelivery, FollowRow, InstanceState, OutboxEvent, QueueStats, QueuedEvent},
    groups::Proposal,
    media::{Attachment, Media, RemoteAttachment},
    shop::{MonthPoints, Order, PendingCount, PointsStanding, Reward, StockAdjustment},
    training::{AttemptRow, ChoiceRow, CourseRow, LessonRow, QuestionRow, QuizRow},
    ConstraintViolation, DbError, PoolStats, PoolStatus,
};

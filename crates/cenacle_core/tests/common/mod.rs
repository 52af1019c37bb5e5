//! A fresh database and the people, groups and posts the use-case tests act on.

#![allow(dead_code)]

use cenacle_config::Settings;
use cenacle_core::{
    accounts::{self, PreparedAccount, Session},
    actors, comments,
    groups::{self, prepare_group},
    inbound::IncomingObject,
    model::{Comment, Group, PersonActor, Post, RemoteGroup, RemotePerson},
    posts::{self, PostInput},
    Caller, Context, CoreError, ScopedFutureExt,
};
use cenacle_db::testing::{fresh_database, TestDatabase};
use cenacle_domain::{
    content::{PostKind, Visibility},
    Role,
};

pub struct World {
    pub ctx: Context,
    pub db: TestDatabase,
}

/// A server of ours would be `localhost:8700` (the default public URL); others are named.
pub const OTHER: &str = "https://other.example";
pub const THIRD: &str = "https://third.example";

impl World {
    pub async fn new() -> World {
        let db = fresh_database().await;
        let ctx = Context::new(db.pool.clone(), Settings::defaults());
        World { ctx, db }
    }

    /// Runs one action in one transaction, as the API and the inbox do.
    pub async fn act<'a, R, F>(&'a self, action: F) -> Result<R, CoreError>
    where
        F: for<'r> FnOnce(
                &'r mut cenacle_core::Conn,
                &'a Context,
            )
                -> cenacle_core::ScopedBoxFuture<'a, 'r, Result<R, CoreError>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        let ctx = &self.ctx;
        ctx.transaction(move |conn| action(conn, ctx)).await
    }

    /// A local member with `role`, as a session.
    pub async fn member(&self, name: &str, role: Role) -> Session {
        let prepared = PreparedAccount::prepare(
            &self.ctx.settings,
            name,
            "correct horse battery",
            None,
            role,
        )
        .await
        .unwrap();
        let account = self
            .ctx
            .transaction(|conn| {
                async move { accounts::create_account(conn, &prepared).await }.scope_boxed()
            })
            .await
            .unwrap();
        Session {
            account,
            token_id: 0,
        }
    }

    /// A person of another server, as their server serves them.
    pub async fn remote_person(&self, base: &str, name: &str) -> PersonActor {
        let remote = RemotePerson {
            ap_id: format!("{base}/u/{name}"),
            username: name.into(),
            display_name: None,
            bio: None,
            avatar_url: None,
            inbox_url: format!("{base}/u/{name}/inbox"),
            shared_inbox_url: Some(format!("{base}/inbox")),
            public_key_pem: "unused here".into(),
            instance_host: base.trim_start_matches("https://").into(),
        };
        self.ctx
            .transaction(|conn| {
                async move { actors::store_remote_person(conn, &remote, None, None).await }
                    .scope_boxed()
            })
            .await
            .unwrap()
    }

    /// A group of another server, as its server serves it.
    pub async fn remote_group(&self, base: &str, name: &str) -> Group {
        let remote = RemoteGroup {
            ap_id: format!("{base}/c/{name}"),
            name: name.into(),
            title: name.into(),
            description: String::new(),
            inbox_url: format!("{base}/c/{name}/inbox"),
            shared_inbox_url: Some(format!("{base}/inbox")),
            followers_url: Some(format!("{base}/c/{name}/followers")),
            public_key_pem: "unused here".into(),
            instance_host: base.trim_start_matches("https://").into(),
            visibility: "public".into(),
        };
        self.ctx
            .transaction(|conn| {
                async move { actors::store_remote_group(conn, &remote).await }.scope_boxed()
            })
            .await
            .unwrap()
    }

    /// A public group of ours, owned by `owner`.
    pub async fn group(&self, owner: &Session, name: &str) -> Group {
        let prepared = prepare_group(&self.ctx, name, name, "", Visibility::Public)
            .await
            .unwrap();
        self.ctx
            .transaction(|conn| {
                async move { groups::create_group(conn, owner, &prepared).await }.scope_boxed()
            })
            .await
            .unwrap()
    }

    pub async fn post(&self, author: &Caller, group: &Group, kind: PostKind, title: &str) -> Post {
        self.post_tagged(author, group, kind, title, &[]).await
    }

    /// [`Self::post`] carrying `tags`.
    pub async fn post_tagged(
        &self,
        author: &Caller,
        group: &Group,
        kind: PostKind,
        title: &str,
        tags: &[&str],
    ) -> Post {
        let input = PostInput {
            kind,
            title: title.into(),
            body: "Le corps".into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            language: None,
            attachments: vec![],
            remote_attachments: vec![],
        };
        self.act(|conn, ctx| {
            async move { posts::create_post(conn, ctx, author, group, input, None).await }
                .scope_boxed()
        })
        .await
        .unwrap()
    }

    pub async fn answer(&self, author: &Caller, post: &Post, body: &str) -> Comment {
        self.act(|conn, ctx| {
            async move { comments::add_comment(conn, ctx, author, post.id, None, body, None).await }
                .scope_boxed()
        })
        .await
        .unwrap()
    }

    /// The post as stored now, whatever its state.
    pub async fn post_now(&self, id: i64) -> Post {
        let mut conn = self.ctx.conn().await.unwrap();
        cenacle_core::published::post_by_id(&mut conn, id)
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn comment_now(&self, id: i64) -> Comment {
        let mut conn = self.ctx.conn().await.unwrap();
        cenacle_core::published::comment_by_id(&mut conn, id)
            .await
            .unwrap()
            .unwrap()
    }

    /// Bans `person` (a user name here, or an actor id) from the instance with removal of
    /// their content, as `admin`, in a transaction of its own.
    pub async fn ban_from_instance(
        &self,
        admin: &Session,
        person: &str,
    ) -> cenacle_core::instance_moderation::Ban {
        let request = cenacle_core::instance_moderation::BanRequest {
            person: person.into(),
            reason: "Spam".into(),
            expires_at: None,
            remove_content: true,
        };
        let request = &request;
        self.act(|conn, _| {
            async move { cenacle_core::instance_moderation::ban(conn, admin, request).await }
                .scope_boxed()
        })
        .await
        .unwrap()
    }

    pub async fn reputation(&self, person_id: i64) -> i64 {
        let mut conn = self.ctx.conn().await.unwrap();
        cenacle_core::points::reputation_history(&mut conn, person_id, i64::MAX, 1)
            .await
            .unwrap()
            .0
    }

    /// Rows in a table, for "nothing was written" checks.
    pub async fn count(&self, table: &str) -> i64 {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.ctx.conn().await.unwrap();
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<N>(&mut conn)
            .await
            .unwrap()
            .n
    }

    /// Sets every onboarding step's points to nothing, as a community manager may: the
    /// seeded journey pays a member's first answer, idea, join and likes on top of the reward
    /// rules, and the tests calling this count those rules' points exactly.
    #[allow(dead_code)] // Not every test binary counts points.
    pub async fn journey_pays_nothing(&self) {
        use diesel_async::RunQueryDsl;
        let mut conn = self.ctx.conn().await.unwrap();
        diesel::sql_query("UPDATE onboarding_step SET points = 0")
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// How another server describes a reply to `parent` (an id) by `author`.
pub fn reply(
    author: &PersonActor,
    id: &str,
    parent: &str,
    group: &str,
    body: &str,
) -> IncomingObject {
    IncomingObject {
        ap_id: id.into(),
        attributed_to: author.ap_id.clone().unwrap(),
        in_reply_to: Some(parent.into()),
        addressing: vec![group.into()],
        kind: PostKind::Question,
        title: String::new(),
        body: body.into(),
        tags: vec![],
        attachments: vec![],
        state: None,
    }
}

/// How another server describes a post by `author` in `group`.
pub fn page(
    author: &PersonActor,
    id: &str,
    group: &str,
    kind: PostKind,
    title: &str,
) -> IncomingObject {
    IncomingObject {
        ap_id: id.into(),
        attributed_to: author.ap_id.clone().unwrap(),
        in_reply_to: None,
        addressing: vec![group.into()],
        kind,
        title: title.into(),
        body: "Le corps".into(),
        tags: vec![],
        attachments: vec![],
        state: None,
    }
}

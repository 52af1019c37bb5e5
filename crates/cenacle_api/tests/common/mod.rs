//! A test instance: the real router over a real, fresh PostgreSQL database.

#![allow(dead_code)]

pub mod engagement;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, HeaderMap, Method, Request, StatusCode},
    Router,
};
use cenacle_api::{router, with_layers, AppState};
use cenacle_config::Settings;
use cenacle_core::{accounts::PreparedAccount, Context, ScopedFutureExt};
use cenacle_db::testing::{fresh_database, TestDatabase};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub app: Router,
    /// What the metrics listener (`metrics.bind`) serves.
    pub metrics: Router,
    pub db: TestDatabase,
    pub ctx: Context,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// An instance whose settings `tweak` adjusts (registration mode, limits, ...).
    pub async fn with(tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::defaults();
        tweak(&mut settings);
        let db = fresh_database().await;
        let ctx = Context::new(db.pool.clone(), settings);
        let federation = cenacle_apub::Federation::start(ctx.clone()).await.unwrap();
        // Composed as the server composes it: the API router, the federation router merged
        // into it, the common layers over both.
        let state = AppState::new(ctx.clone(), federation.clone());
        let metrics = cenacle_api::metrics_router(state.clone());
        let app = with_layers(
            router(state.clone()).merge(cenacle_apub::routes::router(federation)),
            &state,
        )
        // Every request comes from 192.0.2.1 unless it names its own peer (see `login_from`).
        .layer(axum::middleware::map_request(
            |mut req: Request<Body>| async move {
                if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
                    req.extensions_mut()
                        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40000))));
                }
                req
            },
        ));
        Self {
            app,
            metrics,
            db,
            ctx,
        }
    }

    /// A login attempt over a connection from `peer`, with an `X-Forwarded-For` header if given.
    pub async fn login_from(
        &self,
        peer: &str,
        forwarded_for: Option<&str>,
        username: &str,
        password: &str,
    ) -> Reply {
        let mut builder =
            Request::post("/api/v1/account/login").header(header::CONTENT_TYPE, "application/json");
        if let Some(value) = forwarded_for {
            builder = builder.header("x-forwarded-for", value);
        }
        let mut request = builder
            .body(Body::from(
                json!({"username": username, "password": password}).to_string(),
            ))
            .unwrap();
        let peer = SocketAddr::new(peer.parse().unwrap(), 40000);
        request.extensions_mut().insert(ConnectInfo(peer));
        self.send(request).await
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(value) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
        }
    }

    /// A number the API does not show, read by SQL (the query names it `n`), with `texts`
    /// bound as $1, $2, ...: what a test checks in tables (ledgers, queues) behind the API.
    pub async fn count_with(&self, query: &str, texts: &[&str]) -> i64 {
        use diesel::{pg::Pg, sql_types::BigInt, sql_types::Text, QueryableByName};
        use diesel_async::RunQueryDsl;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.db.pool.get().await.unwrap();
        let mut statement = diesel::sql_query(query).into_boxed::<Pg>();
        for text in texts {
            statement = statement.bind::<Text, _>(text.to_string());
        }
        statement
            .get_result::<Count>(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}: {query}"))
            .n
    }

    /// The member's notifications of one kind, newest first.
    pub async fn notifications_of_kind(&self, token: &str, kind: &str) -> Vec<Value> {
        let r = self.get("/api/v1/notifications", Some(token)).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.json);
        let mut items = r.json["items"].as_array().unwrap().clone();
        items.retain(|n| n["kind"] == kind);
        items
    }

    /// [`Self::count_with`] without parameters.
    pub async fn count(&self, query: &str) -> i64 {
        self.count_with(query, &[]).await
    }

    /// Runs `statement` as is: a test's setup the API has no call for (back-dating, ...).
    pub async fn sql(&self, statement: &str) {
        use diesel_async::RunQueryDsl;
        let mut conn = self.db.pool.get().await.unwrap();
        diesel::sql_query(statement)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}: {statement}"));
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn register(&self, username: &str) -> Reply {
        self.post(
            "/api/v1/account/register",
            None,
            json!({"username": username, "password": PASSWORD}),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/account/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Registers `username` and returns a fresh token.
    ///
    /// A 503 is retried ([`patiently`]): a test that needs a hundred members is about what it
    /// tests, not about the machine's load. Tests of registration's own answers call
    /// [`Self::register`].
    pub async fn member(&self, username: &str) -> String {
        let reply = patiently(|| self.register(username)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        self.token(username).await
    }

    /// Stores a person of another instance (`https://{host}/u/{name}`, inbox and shared inbox
    /// there) with a fresh key pair, as a fetch of their actor would: their id and private key
    /// (PEM), to sign as them.
    pub async fn remote_person(&self, host: &str, name: &str) -> (String, String) {
        let (public, private) = cenacle_core::identity::generate_keypair().await.unwrap();
        let actor_id = format!("https://{host}/u/{name}");
        let person = cenacle_db::actors::RemotePerson {
            ap_id: actor_id.clone(),
            username: name.into(),
            display_name: None,
            bio: None,
            avatar_url: None,
            inbox_url: format!("{actor_id}/inbox"),
            shared_inbox_url: Some(format!("https://{host}/inbox")),
            public_key_pem: public,
            instance_host: host.into(),
        };
        self.ctx
            .transaction(|conn| {
                async move {
                    cenacle_core::actors::store_remote_person(conn, &person, None, None).await?;
                    Ok::<_, cenacle_core::CoreError>(())
                }
                .scope_boxed()
            })
            .await
            .unwrap();
        (actor_id, private)
    }

    /// Creates an account with `role` through the core (as `cenacle admin create-user` does)
    /// and returns a token.
    pub async fn with_role(&self, username: &str, role: cenacle_domain::Role) -> String {
        let prepared = PreparedAccount::prepare(&self.ctx.settings, username, PASSWORD, None, role)
            .await
            .unwrap();
        self.ctx
            .transaction(|conn| {
                cenacle_core::accounts::create_account(conn, &prepared).scope_boxed()
            })
            .await
            .unwrap();
        self.token(username).await
    }

    pub async fn token(&self, username: &str) -> String {
        let reply = patiently(|| self.login(username, PASSWORD)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        reply.json["token"].as_str().unwrap().to_owned()
    }
}

/// Sends a request again while the instance answers 503 (no database connection free in time,
/// as on a machine loaded by parallel test binaries), after a short back-off, until a deadline:
/// what a client does with a `Retry-After`.
async fn patiently<F, Fut>(send: F) -> Reply
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let reply = send().await;
        if reply.status != StatusCode::SERVICE_UNAVAILABLE || std::time::Instant::now() > deadline {
            return reply;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

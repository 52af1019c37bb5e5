//! A real headless Chromium (Debian's `chromium`), driven over WebDriver by its own
//! `chromedriver`, for the web pages' tests. Test host names (`alpha.test`…) resolve to
//! loopback inside the browser too. Screenshots go to `docs/screenshots/` (not tracked).

use crate::{free_port, Instance, PASSWORD};
use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use serde_json::json;
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to show what a test waits for: generous, for a loaded 2-core CI
/// (it is a deadline for correctness, not a performance check).
const WAIT: Duration = Duration::from_secs(60);

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Signs up on `instance`'s page (with the tests' password) and checks she is signed in.
    pub async fn sign_up(&self, instance: &Instance, username: &str) {
        self.goto(&instance.url("/signup")).await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.click("form.stack button[type=submit]").await;
        assert_eq!(
            self.text(".me").await,
            username,
            "signed in after signing up"
        );
    }

    /// Signs in on `instance`'s page (with the tests' password).
    pub async fn sign_in(&self, instance: &Instance, username: &str) {
        self.goto(&instance.url("/signin")).await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.click("form.stack button[type=submit]").await;
        self.wait_text(".me", username).await;
    }

    /// A fresh browser (empty profile, no cookies) whose `Accept-Language` is `language`.
    pub async fn start(language: &str) -> Browser {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists(),
            "{CHROMEDRIVER} is missing: `scripts/test` installs Debian's chromium and \
             chromium-driver (apt-get install chromium chromium-driver)"
        );
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1024,900",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--host-resolver-rules=MAP *.test 127.0.0.1",
                    format!("--lang={language}"),
                ],
                "prefs": { "intl.accept_languages": language },
            }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            match ClientBuilder::native()
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "chromedriver did not answer: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Chooses the file at `path` in the file input `css`, as a member picking it would.
    pub async fn attach(&self, css: &str, path: &std::path::Path) {
        let input = self.find(css).await;
        input.send_keys(&path.display().to_string()).await.unwrap();
    }

    /// The natural width of the image `css` once the browser has loaded it (0 when it could
    /// not): waits on the image's own load or error event, not on time.
    pub async fn image_width(&self, css: &str) -> u64 {
        self.find(css).await;
        let script = format!(
            "const done = arguments[arguments.length - 1];\n\
             const i = document.querySelector({css:?});\n\
             if (i.complete) {{ done(i.naturalWidth); }}\n\
             else {{ i.onload = () => done(i.naturalWidth); i.onerror = () => done(0); }}"
        );
        let width = self.client.execute_async(&script, vec![]).await.unwrap();
        width.as_u64().unwrap_or(0)
    }

    /// Runs `script` in the current frame, which calls `done(value)` (its last argument) when
    /// its promises settle, and gives back that value.
    pub async fn js_async(&self, script: &str) -> serde_json::Value {
        let script = format!("const done = arguments[arguments.length - 1];\n{script}");
        self.client.execute_async(&script, vec![]).await.unwrap()
    }

    /// Runs `script` in the current frame and gives back what it returns.
    pub async fn js_value(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Clicks `css`. A page still being replaced (after a form sent just before) can drop
    /// the element between finding and clicking it: it is then found again on the new page,
    /// until the deadline.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("clicking `{css}`: {e}"),
            }
        }
    }

    /// Waits until `css` matches exactly `n` elements (a list after an addition).
    pub async fn wait_count(&self, css: &str, n: usize) {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self.client.find_all(Locator::Css(css)).await.unwrap().len();
            if found == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}`: {found} elements, not {n}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the text of `css` is `expected` (a page that changed after a form).
    pub async fn wait_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` reads {text:?}, not {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the browser is on a page whose path (and query) satisfies `ok`.
    pub async fn wait_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let path = self.path().await;
            if ok(&path) {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "still on {path}, waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// A key page: its screenshot, and no serious or critical accessibility violation on it.
    pub async fn key_page(&self, name: &str) {
        self.screenshot(name).await;
        let violations = self.serious_accessibility_violations().await;
        assert!(violations.is_empty(), "{name}: {violations:#?}");
    }

    /// Clicks `css` (a form's button whose answer is a new page) and waits until that page
    /// replaced this one: reading the old page's fields would race the navigation.
    pub async fn click_and_wait_reload(&self, css: &str) {
        self.js_value("document.body.dataset.before = 'click'; return null")
            .await;
        self.click(css).await;
        self.wait_count("body[data-before]", 0).await;
    }

    /// Saves what the browser shows as `docs/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// axe-core's violations of impact "serious" or "critical" on the current page, as
    /// `rule: element…` lines (axe-core from `scripts/browser/node_modules`, which
    /// `scripts/test` installs).
    pub async fn serious_accessibility_violations(&self) -> Vec<String> {
        let axe = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts/browser/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&axe).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `cd scripts/browser && npm ci`, as scripts/test does)",
                axe.display()
            )
        });
        let script = format!(
            "{axe}\n;const done = arguments[arguments.length - 1];\n\
             axe.run(document, {{ resultTypes: ['violations'] }})\n\
               .then(r => done(r.violations\n\
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')\n\
                 .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\n\
               .catch(e => done(['axe failed: ' + e]));"
        );
        let found = self.client.execute_async(&script, vec![]).await.unwrap();
        serde_json::from_value(found).unwrap()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// A real 1×1 PNG image, for uploads a browser must be able to show.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0xf8, 0xcf, 0x50,
    0x0f, 0x00, 0x03, 0x86, 0x01, 0x80, 0x5a, 0x34, 0x7d, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

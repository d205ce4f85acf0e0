//! A real headless Chromium (Debian's `chromium`), driven over WebDriver by
//! Debian's `chromedriver` with `fantoccini`.
//!
//! Nothing here skips: when Chromium or ChromeDriver is missing or does not
//! start, the test fails and says why and what to do (`scripts/test`
//! installs both when it runs as root).
//!
//! One [`Browser`] is one fresh profile (its own `--user-data-dir`) with one
//! preferred language, sent as `Accept-Language`, as a person's browser
//! would. Screenshots go to `target/screenshots/<name>-<lang>.png`.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The languages every page is tested in.
pub const LANGS: [&str; 3] = ["kk", "ru", "en"];

/// A desktop window; [`Browser::phone`] switches to a phone's width.
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

/// At most two browsers at once: the machine has two cores and a compiler.
static SLOTS: Semaphore = Semaphore::const_new(2);

fn program(env: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.exists(),
        "{} not found at {} (set {env} to another path). scripts/test installs Debian's chromium and chromium-driver \
         when it runs as root; otherwise run `apt-get install -y chromium chromium-driver` as root",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        path.display(),
    );
    path
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("local address").port()
}

/// Where screenshots go: `<target>/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// ChromeDriver in its own process group, so that Chromium (its child) is
/// stopped with it even when a test panics.
struct Driver {
    child: Child,
    log: PathBuf,
}

impl Driver {
    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        let mut start = text.len().saturating_sub(3000);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_owned()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group is ChromeDriver's own (process_group(0) below): it holds
        // only the processes this test started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Browser {
    client: Option<Client>,
    pub lang: String,
    driver: Driver,
    _profile: tempfile::TempDir,
    _slot: SemaphorePermit<'static>,
}

impl Browser {
    /// Starts ChromeDriver on a free port and a headless Chromium with a
    /// fresh profile whose preferred language is `lang`.
    pub async fn start(lang: &str) -> Browser {
        let slot = SLOTS.acquire().await.expect("browser slots");
        let chromium = program("CASETRAIL_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = program("CASETRAIL_CHROMEDRIVER", "/usr/bin/chromedriver");
        let profile = tempfile::Builder::new().prefix("casetrail-chromium").tempdir().expect("profile directory");
        let port = free_port();
        let log = profile.path().join("chromedriver.log");
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()))
        };
        let mut driver = Driver { child, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited with {status} before listening; its log:\n{}", driver.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 20 s; its log:\n{}",
                driver.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let user_data = profile.path().join("user-data");
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--lang={lang}"),
            format!("--accept-lang={lang}"),
            format!("--user-data-dir={}", user_data.display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": args,
                "prefs": { "intl": { "accept_languages": lang } },
            },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("a JSON object") };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => client,
            Err(error) => {
                panic!(
                    "Chromium did not start through chromedriver: {error}\nchromedriver's log:\n{}",
                    driver.log_tail()
                )
            }
        };
        let languages = client.execute("return navigator.languages", vec![]).await.expect("navigator.languages");
        assert_eq!(
            languages.get(0).and_then(Value::as_str),
            Some(lang),
            "Chromium does not prefer {lang}: navigator.languages = {languages}"
        );
        Browser { client: Some(client), lang: lang.to_owned(), driver, _profile: profile, _slot: slot }
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the browser is open")
    }

    /// Opens a URL and waits for the page to load.
    pub async fn open(&self, url: &str) {
        self.client().goto(url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The visible text of the first element matching a CSS selector.
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        element.text().await.unwrap_or_else(|e| panic!("cannot read the text of {css}: {e}"))
    }

    /// The whole page's visible text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let url = self.client().current_url().await.map(|u| u.to_string()).unwrap_or_default();
        self.client().find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css} on {url}: {e}"))
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client().find_all(Locator::Css(css)).await.map(|all| all.len()).unwrap_or(0)
    }

    /// Types into the field a person finds by its label's text (or, failing
    /// that, a CSS selector).
    pub async fn fill(&self, label_or_css: &str, value: &str) {
        let field = self.field(label_or_css).await;
        field.clear().await.unwrap_or_else(|e| panic!("cannot clear {label_or_css}: {e}"));
        field.send_keys(value).await.unwrap_or_else(|e| panic!("cannot type into {label_or_css}: {e}"));
    }

    async fn field(&self, label_or_css: &str) -> fantoccini::elements::Element {
        let xpath = format!(
            "//label[normalize-space(.)={text} or normalize-space(text())={text}]",
            text = xpath_literal(label_or_css)
        );
        if let Ok(label) = self.client().find(Locator::XPath(&xpath)).await {
            if let Ok(Some(id)) = label.attr("for").await {
                return self.find(&format!("#{id}")).await;
            }
            if let Ok(input) = label.find(Locator::Css("input, select, textarea")).await {
                return input;
            }
        }
        self.find(label_or_css).await
    }

    /// Clicks the button or link whose visible text is `text`, and waits for
    /// the page that follows.
    pub async fn click(&self, text: &str) {
        let xpath = format!(
            "//button[normalize-space(.)={t}] | //a[normalize-space(.)={t}] | //input[@type='submit' and @value={t}]",
            t = xpath_literal(text)
        );
        let url = self.client().current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let element = self
            .client()
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button or link {text:?} on {url}: {e}"));
        self.click_and_wait(&element).await;
    }

    pub async fn wait_loaded(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let state = self.client().execute("return document.readyState", vec![]).await;
            if matches!(state.as_ref().ok().and_then(Value::as_str), Some("complete")) {
                return;
            }
            assert!(Instant::now() < deadline, "the page did not finish loading within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs in on the login form at `url`, as a person does: types the
    /// account into the form's first visible text field and the password
    /// into its password field, then submits. Fails when the page that
    /// follows still asks for the password.
    pub async fn login(&self, url: &str, account: &str, password: &str) {
        self.open(url).await;
        let form = "form:has(input[type=password])";
        let name = self
            .find(&format!(
                "{form} input:not([type=hidden]):not([type=password]):not([type=submit]):not([type=checkbox])"
            ))
            .await;
        name.send_keys(account).await.unwrap_or_else(|e| panic!("cannot type the account: {e}"));
        let secret = self.find(&format!("{form} input[type=password]")).await;
        secret.send_keys(password).await.unwrap_or_else(|e| panic!("cannot type the password: {e}"));
        let submit = self.find(&format!("{form} [type=submit]")).await;
        self.click_and_wait(&submit).await;
        // The sign-in form again (an administrator's page has a password
        // field of its own: the new account's).
        if self.count("form[action='/login'] input[type=password]").await > 0 {
            panic!("{account} is still asked for a password after login:\n{}", self.page_text().await);
        }
    }

    /// The table row whose header cell reads `text`, if there is one.
    pub async fn row(&self, text: &str) -> Option<fantoccini::elements::Element> {
        let xpath = format!("//tr[th[normalize-space(.)={}]]", xpath_literal(text));
        self.client().find(Locator::XPath(&xpath)).await.ok()
    }

    /// Clicks an element that leads to a new page (a submit button, a
    /// link) and waits for that page: the old document is marked first, so
    /// that a slow answer is not mistaken for the page that was already
    /// there.
    pub async fn click_and_wait(&self, element: &fantoccini::elements::Element) {
        self.client().execute("window.__casetrail_old_page = true", vec![]).await.expect("mark the page");
        element.click().await.unwrap_or_else(|e| panic!("cannot click: {e}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = self
                .client()
                .execute("return [window.__casetrail_old_page === true, document.readyState]", vec![])
                .await;
            if let Ok(state) = state {
                if state[0] == Value::Bool(false) && state[1] == "complete" {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "no new page within 30 s after the click");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Switches to a phone-sized window (390 × 844 CSS pixels).
    pub async fn phone(&self) {
        self.client().set_window_size(PHONE.0, PHONE.1).await.expect("set the window size");
    }

    pub async fn desktop(&self) {
        self.client().set_window_size(DESKTOP.0, DESKTOP.1).await.expect("set the window size");
    }

    /// Fails when the page is wider than the window: a person on a phone
    /// would have to scroll sideways.
    pub async fn assert_fits_width(&self) {
        let widths = self
            .client()
            .execute("return [document.documentElement.scrollWidth, window.innerWidth]", vec![])
            .await
            .expect("page widths");
        let (scroll, inner) = (widths[0].as_f64().unwrap_or(0.0), widths[1].as_f64().unwrap_or(0.0));
        let url = self.client().current_url().await.map(|u| u.to_string()).unwrap_or_default();
        assert!(scroll <= inner + 1.0, "{url} is {scroll} px wide in a {inner} px window: it scrolls sideways");
    }

    /// The `lang` attribute of the page.
    pub async fn page_lang(&self) -> String {
        let lang = self.client().execute("return document.documentElement.lang", vec![]).await.expect("lang");
        lang.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a screenshot of the whole page (the window is stretched to the
    /// page's height, then restored) as `target/screenshots/<name>-<lang>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let client = self.client();
        let (width, height) = client.get_window_size().await.expect("window size");
        // The window's height includes what is not page (the frame): ask
        // for the page's height plus that.
        let heights = client
            .execute(
                "return [Math.ceil(document.documentElement.scrollHeight), window.outerHeight - window.innerHeight]",
                vec![],
            )
            .await
            .expect("page height");
        let page = heights[0].as_u64().unwrap_or(height).clamp(200, 8000);
        let frame = heights[1].as_u64().unwrap_or(0).min(400);
        client.set_window_size(width as u32, (page + frame) as u32).await.expect("stretch the window");
        let png = client.screenshot().await.expect("screenshot");
        client.set_window_size(width as u32, height as u32).await.expect("restore the window");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let path = screenshot_dir().join(format!("{name}-{}.png", self.lang));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Ends the WebDriver session (Chromium quits), then ChromeDriver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

/// An XPath string literal for any text (quotes included).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

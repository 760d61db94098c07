//! The officials' dashboard: login, state/district overview, facility page, CSV downloads and
//! the summary JSON API (issue 12), plus the router of the patient's slip page.
//!
//! Server-rendered HTML (minijinja templates compiled into the binary), charts as inline SVG
//! ([`charts`]), English/Hindi ([`i18n`]); no CDN, no JavaScript needed. Every route checks the
//! session first ([`auth`]): without one HTML pages redirect to `/login` and the API answers
//! `401`; then the official's scope ([`crate::users::Scope`]) — a district or facility
//! outside it is `403` everywhere (pages, CSV, API). Figures come from the typed projections
//! ([`data`]), never from JSON payloads.

pub mod auth;
pub mod charts;
pub mod data;
pub mod i18n;

use crate::store::{Sql, Store, StoreError};
use crate::users::{Scope, User};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use data::{day, parse_day, Filter};
use i18n::Lang;
use minijinja::{context, Environment};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tracing::{info, warn};

/// Set when the server serves https itself (the session cookie is then `Secure`).
pub static HTTPS: AtomicBool = AtomicBool::new(false);

/// Name of the language cookie.
const LANG_COOKIE: &str = "swagat_lang";
/// Longest date range a page or the API accepts.
const MAX_DAYS: i64 = 400;

/// Fixed-window request counter per client address (slip page, login).
pub struct RateLimiter {
    per_minute: u32,
    map: Mutex<HashMap<String, (u32, Instant)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per address per minute.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            map: Mutex::new(HashMap::new()),
        }
    }
    /// Counts one request of `addr`; false when over the limit.
    pub fn allow(&self, addr: &str) -> bool {
        let Ok(mut m) = self.map.lock() else {
            return false;
        };
        if m.len() > 100_000 {
            m.retain(|_, (_, at)| at.elapsed().as_secs() < 60);
        }
        let e = m.entry(addr.to_string()).or_insert((0, Instant::now()));
        if e.1.elapsed().as_secs() >= 60 {
            *e = (0, Instant::now());
        }
        e.0 += 1;
        e.0 <= self.per_minute
    }
}

/// State of the web routes.
pub struct Web<S> {
    /// The store.
    pub store: Arc<S>,
    /// Wrong-password throttle.
    pub throttle: Arc<auth::Throttle>,
    /// Per-address limit of the slip page.
    pub slip_limit: Arc<RateLimiter>,
    /// Templates.
    pub env: Arc<Environment<'static>>,
}

impl<S> Clone for Web<S> {
    fn clone(&self) -> Self {
        Web {
            store: self.store.clone(),
            throttle: self.throttle.clone(),
            slip_limit: self.slip_limit.clone(),
            env: self.env.clone(),
        }
    }
}

/// Slip-page requests allowed per client address per minute.
pub const SLIP_PER_MINUTE: u32 = 60;

fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_filter("urlencode", |s: String| urlencode(&s));
    for (name, src) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("message.html", include_str!("templates/message.html")),
        ("overview.html", include_str!("templates/overview.html")),
        ("facility.html", include_str!("templates/facility.html")),
        ("slip.html", include_str!("templates/slip.html")),
    ] {
        if let Err(e) = env.add_template(name, src) {
            warn!(template = name, error = %e, "template does not compile");
        }
    }
    env
}

/// The web routes (dashboard, its API, the slip page), with their own state.
pub fn routes<S: Store>(store: Arc<S>) -> Router {
    let web = Web {
        store,
        throttle: Arc::new(auth::Throttle::default()),
        slip_limit: Arc::new(RateLimiter::new(SLIP_PER_MINUTE)),
        env: Arc::new(templates()),
    };
    Router::new()
        .route("/login", get(login_page::<S>).post(login::<S>))
        .route("/logout", post(logout::<S>))
        .route("/dashboard", get(overview::<S>))
        .route("/dashboard/overview.csv", get(overview_csv::<S>))
        .route("/dashboard/facility/{code}", get(facility::<S>))
        .route("/dashboard/facility/{code}/{table}", get(facility_csv::<S>))
        .route("/api/v1/dashboard/summary", get(summary::<S>))
        .route("/api/v1/dashboard/facility/{code}", get(facility_json::<S>))
        .route("/s/{visit}", get(crate::slip_page::page::<S>))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(web)
}

/// The client address (peer of the TCP connection), or `unknown`.
pub fn client_addr(ci: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    ci.map_or_else(
        || "unknown".into(),
        |Extension(ConnectInfo(a))| a.ip().to_string(),
    )
}

/// Query of the pages and the API.
#[derive(Debug, Default, Deserialize)]
pub struct Q {
    pub from: Option<String>,
    pub to: Option<String>,
    pub district: Option<String>,
    pub facility: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub lang: Option<String>,
    pub next: Option<String>,
}

fn lang_of(headers: &HeaderMap, q: &Q) -> Lang {
    q.lang
        .as_deref()
        .and_then(Lang::parse)
        .or_else(|| {
            auth::cookie(headers, LANG_COOKIE)
                .as_deref()
                .and_then(Lang::parse)
        })
        .unwrap_or(Lang::En)
}

/// Whether an answer is a page (redirect to login) or API (401 JSON).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Page,
    Api,
}

/// A refusal, rendered as a page or JSON.
struct Fail {
    status: StatusCode,
    kind: Kind,
    lang: Lang,
}

impl Fail {
    fn new(status: StatusCode, kind: Kind, lang: Lang) -> Fail {
        Fail { status, kind, lang }
    }
}

fn store_fail(e: StoreError, kind: Kind, lang: Lang) -> Fail {
    warn!(error = %e, "dashboard storage error");
    Fail::new(StatusCode::SERVICE_UNAVAILABLE, kind, lang)
}

fn render(env: &Environment<'static>, name: &str, ctx: minijinja::Value) -> Response {
    match env.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => html_response(StatusCode::OK, html),
        Err(e) => {
            warn!(template = name, error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page failed / पृष्ठ विफल").into_response()
        }
    }
}

/// The dashboard pages' content security policy: inline styles, images from here or inline
/// charts, forms posting only here, never framed.
const DASHBOARD_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'";

fn html_response(status: StatusCode, html: String) -> Response {
    // `same-origin`: the login form's post must carry this host's `Origin` (the CSRF check).
    html_page(status, html, DASHBOARD_CSP, "same-origin")
}

/// An HTML answer with the headers every page of this server carries (the dashboard's and
/// the patient's slip page): never cached, never framed, no type sniffing, and the page's
/// content security policy `csp` and referrer policy `referrer`.
pub(crate) fn html_page(
    status: StatusCode,
    html: String,
    csp: &'static str,
    referrer: &'static str,
) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static(referrer));
    h.insert("content-security-policy", HeaderValue::from_static(csp));
    r
}

fn fail_response<S>(web: &Web<S>, f: Fail) -> Response {
    if f.kind == Kind::Api {
        let msg = match f.status {
            StatusCode::UNAUTHORIZED => "log in first",
            StatusCode::FORBIDDEN => "outside your scope",
            StatusCode::NOT_FOUND => "not found",
            StatusCode::BAD_REQUEST => "bad dates or filters",
            _ => "storage unavailable, retry later",
        };
        return (f.status, Json(serde_json::json!({"error": msg}))).into_response();
    }
    let key = match f.status {
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::BAD_REQUEST => "bad_request",
        _ => "slip_later",
    };
    let html = web
        .env
        .get_template("message.html")
        .and_then(|t| {
            t.render(context! {
                t => i18n::strings(f.lang), lang => f.lang.code(),
                message => i18n::t(f.lang, key),
            })
        })
        .unwrap_or_else(|_| i18n::t(f.lang, key).to_string());
    html_response(f.status, html)
}

/// Who is asking, in which language, and whether they get a page or JSON: every dashboard
/// handler starts with [`Session::check`], then asks it for the request's [`Filter`] or a
/// facility within the official's scope. Each refusal is already the response to send, so a
/// handler is its `?`s and then its figures.
struct Session {
    /// The official.
    user: User,
    /// Their language (`?lang=`, else the cookie, else English).
    lang: Lang,
    /// A page (refusals as pages, no session: redirect to `/login`) or the API (JSON, `401`).
    kind: Kind,
}

impl Session {
    /// The official of this request, or the refusal: a redirect to `/login` (pages) or `401`
    /// (API) without a session, `503` when the store fails.
    async fn check<S: Store>(
        web: &Web<S>,
        headers: &HeaderMap,
        q: &Q,
        kind: Kind,
    ) -> Result<Session, Response> {
        let lang = lang_of(headers, q);
        match auth::current(web, headers).await {
            Ok(Some(user)) => Ok(Session { user, lang, kind }),
            Ok(None) if kind == Kind::Page => Err(Redirect::to("/login").into_response()),
            Ok(None) => Err(fail_response(
                web,
                Fail::new(StatusCode::UNAUTHORIZED, kind, lang),
            )),
            Err(e) => Err(fail_response(web, store_fail(e, kind, lang))),
        }
    }

    /// The request's dates, district and facility within the official's scope ([`filter`]).
    async fn filter<S: Store>(&self, web: &Web<S>, q: &Q) -> Result<Filter, Response> {
        filter(web, &self.user, q, self.kind, self.lang)
            .await
            .map_err(|f| fail_response(web, f))
    }

    /// The facility `code` if the official may see it ([`facility_in_scope`]).
    async fn facility_in_scope<S: Store>(
        &self,
        web: &Web<S>,
        code: &str,
    ) -> Result<data::FacilityInfo, Response> {
        facility_in_scope(web, &self.user, code, self.kind, self.lang)
            .await
            .map_err(|f| fail_response(web, f))
    }

    /// A storage error as this request's refusal (`503`, logged).
    fn store_failed<S>(&self, web: &Web<S>, e: StoreError) -> Response {
        fail_response(web, store_fail(e, self.kind, self.lang))
    }

    /// A refusal with `status` in this request's language and form.
    fn refuse<S>(&self, web: &Web<S>, status: StatusCode) -> Response {
        fail_response(web, Fail::new(status, self.kind, self.lang))
    }
}

/// The facility with `code` as the scope may see it; `403` when outside the scope (and for
/// an unknown code, except to a state official, who gets `404`).
async fn facility_in_scope<S: Store>(
    web: &Web<S>,
    user: &User,
    code: &str,
    kind: Kind,
    lang: Lang,
) -> Result<data::FacilityInfo, Fail> {
    let rows = web
        .store
        .sql_query(
            "SELECT id, code, name, district_lgd FROM facilities WHERE code = ?1".into(),
            vec![Sql::Text(code.to_string())],
        )
        .await
        .map_err(|e| store_fail(e, kind, lang))?;
    let Some(r) = rows.first() else {
        let status = if user.scope == Scope::State {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::FORBIDDEN
        };
        return Err(Fail::new(status, kind, lang));
    };
    let f = data::FacilityInfo {
        id: r[0].str(),
        code: r[1].str(),
        name: r[2].str(),
        district_lgd: r[3].opt_int(),
    };
    if !user.scope.allows(&f.code, f.district_lgd) {
        return Err(Fail::new(StatusCode::FORBIDDEN, kind, lang));
    }
    Ok(f)
}

/// The filter of a request within the official's scope; `400` for bad dates, `403` for a
/// district or facility outside the scope.
async fn filter<S: Store>(
    web: &Web<S>,
    user: &User,
    q: &Q,
    kind: Kind,
    lang: Lang,
) -> Result<Filter, Fail> {
    let bad = || Fail::new(StatusCode::BAD_REQUEST, kind, lang);
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let to = match nonempty(&q.to) {
        Some(s) => parse_day(&s).ok_or_else(bad)?,
        None => data::today(),
    };
    let from = match nonempty(&q.from) {
        Some(s) => parse_day(&s).ok_or_else(bad)?,
        None => to - time::Duration::days(29),
    };
    if from > to || (to - from).whole_days() > MAX_DAYS {
        return Err(bad());
    }
    let district = match nonempty(&q.district) {
        Some(s) => Some(s.parse::<i64>().map_err(|_| bad())?),
        None => None,
    };
    let mut f = Filter {
        district,
        facility: None,
        from,
        to,
    };
    match &user.scope {
        Scope::State => {}
        Scope::District(d) => {
            if district.is_some_and(|r| r != *d) {
                return Err(Fail::new(StatusCode::FORBIDDEN, kind, lang));
            }
            f.district = Some(*d);
        }
        Scope::Facility(c) => {
            let own = facility_in_scope(web, user, c, kind, lang).await?;
            if district.is_some_and(|r| Some(r) != own.district_lgd) {
                return Err(Fail::new(StatusCode::FORBIDDEN, kind, lang));
            }
            f.facility = Some(c.clone());
        }
    }
    if let Some(code) = nonempty(&q.facility) {
        let fac = facility_in_scope(web, user, &code, kind, lang).await?;
        if f.district.is_some_and(|d| Some(d) != fac.district_lgd) {
            return Err(Fail::new(StatusCode::FORBIDDEN, kind, lang));
        }
        f.facility = Some(code);
    }
    Ok(f)
}

fn with_lang_cookie(mut r: Response, headers: &HeaderMap, q: &Q) -> Response {
    if let Some(l) = q.lang.as_deref().and_then(Lang::parse) {
        let c = auth::set_cookie(headers, LANG_COOKIE, l.code(), Some(365 * 24 * 3600));
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

fn user_ctx(u: &User) -> minijinja::Value {
    context! { name => u.name.clone(), role => u.scope.role() }
}

async fn login_page<S: Store>(
    State(web): State<Web<S>>,
    headers: HeaderMap,
    Query(q): Query<Q>,
) -> Response {
    let lang = lang_of(&headers, &q);
    let r = render(
        &web.env,
        "login.html",
        context! { t => i18n::strings(lang), lang => lang.code(), error => None::<String> },
    );
    with_lang_cookie(r, &headers, &q)
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
}

async fn login<S: Store>(
    State(web): State<Web<S>>,
    ci: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Query(q): Query<Q>,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers, &q);
    if !auth::same_origin(&headers) {
        return fail_response(&web, Fail::new(StatusCode::FORBIDDEN, Kind::Page, lang));
    }
    let client = client_addr(ci);
    let again = |status: StatusCode, key: &str| {
        let mut r = render(
            &web.env,
            "login.html",
            context! { t => i18n::strings(lang), lang => lang.code(), error => i18n::t(lang, key) },
        );
        *r.status_mut() = status;
        r
    };
    match auth::check(&web, form.name.trim(), &form.password, &client).await {
        Ok(auth::Login::Ok(user)) => match auth::start(&web, &user).await {
            Ok(token) => {
                info!(user = %user.id, "official logged in");
                let mut r = Redirect::to("/dashboard").into_response();
                if let Ok(v) =
                    HeaderValue::from_str(&auth::set_cookie(&headers, auth::COOKIE, &token, None))
                {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
                r
            }
            Err(e) => fail_response(&web, store_fail(e, Kind::Page, lang)),
        },
        Ok(auth::Login::Wrong) => again(StatusCode::UNAUTHORIZED, "bad_login"),
        Ok(auth::Login::Throttled) => again(StatusCode::TOO_MANY_REQUESTS, "throttled"),
        Err(e) => fail_response(&web, store_fail(e, Kind::Page, lang)),
    }
}

async fn logout<S: Store>(State(web): State<Web<S>>, headers: HeaderMap) -> Response {
    if !auth::same_origin(&headers) {
        return fail_response(&web, Fail::new(StatusCode::FORBIDDEN, Kind::Page, Lang::En));
    }
    if let Err(e) = auth::end(&web, &headers).await {
        return fail_response(&web, store_fail(e, Kind::Page, Lang::En));
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(&headers, auth::COOKIE, "", Some(0))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Query string keeping the range and district (for links).
fn keep(f: &Filter, q: &Q) -> String {
    let mut s = format!("from={}&to={}", day(f.from), day(f.to));
    if let Some(d) = q.district.as_deref().filter(|d| !d.trim().is_empty()) {
        s.push_str(&format!("&district={}", d.trim()));
    }
    s
}

async fn overview<S: Store>(
    State(web): State<Web<S>>,
    headers: HeaderMap,
    Query(q): Query<Q>,
) -> Result<Response, Response> {
    let session = Session::check(&web, &headers, &q, Kind::Page).await?;
    let f = session.filter(&web, &q).await?;
    let (user, lang) = (&session.user, session.lang);
    // A facility user's overview is their facility.
    if let Scope::Facility(code) = &user.scope {
        let target = format!("/dashboard/facility/{}", urlencode(code));
        return Ok(with_lang_cookie(
            Redirect::to(&target).into_response(),
            &headers,
            &q,
        ));
    }
    let rows = data::overview(&*web.store, &f).await;
    let districts = data::districts(
        &*web.store,
        &Filter {
            district: match user.scope {
                Scope::District(d) => Some(d),
                _ => None,
            },
            facility: None,
            ..f.clone()
        },
    )
    .await;
    let (mut rows, districts) = match (rows, districts) {
        (Ok(r), Ok(d)) => (r, d),
        (Err(e), _) | (_, Err(e)) => return Err(session.store_failed(&web, e)),
    };
    let sort = q.sort.clone().unwrap_or_else(|| "code".into());
    let desc = q.dir.as_deref() == Some("desc");
    data::sort_rows(&mut rows, &sort, desc);
    let totals = data::totals(&rows);
    let keep = keep(&f, &q);
    let r = render(
        &web.env,
        "overview.html",
        context! {
            t => i18n::strings(lang), lang => lang.code(), user => user_ctx(user),
            rows => rows, totals => totals, from => day(f.from), to => day(f.to),
            district => f.district, districts => districts,
            can_pick_district => user.scope == Scope::State,
            sort => sort, desc => desc, keep => keep,
        },
    );
    Ok(with_lang_cookie(r, &headers, &q))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// CSV text of `rows` (RFC 4180 quoting; cells that a spreadsheet would run as a formula are
/// prefixed with `'`).
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |c: &str| {
        let c = if c.starts_with(['=', '+', '-', '@', '\t', '\r']) && c.parse::<f64>().is_err() {
            format!("'{c}")
        } else {
            c.to_string()
        };
        if c.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", c.replace('"', "\"\""))
        } else {
            c
        }
    };
    let mut out = String::new();
    out.push_str(&header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_response(name: &str, body: String) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The overview's rows for the official who asked (the CSV and the summary API).
async fn overview_rows<S: Store>(
    web: &Web<S>,
    headers: &HeaderMap,
    q: &Q,
    kind: Kind,
) -> Result<(Session, Filter, Vec<data::OverviewRow>), Response> {
    let session = Session::check(web, headers, q, kind).await?;
    let f = session.filter(web, q).await?;
    let rows = data::overview(&*web.store, &f)
        .await
        .map_err(|e| session.store_failed(web, e))?;
    Ok((session, f, rows))
}

async fn overview_csv<S: Store>(
    State(web): State<Web<S>>,
    headers: HeaderMap,
    Query(q): Query<Q>,
) -> Result<Response, Response> {
    let (session, f, rows) = overview_rows(&web, &headers, &q, Kind::Page).await?;
    info!(user = %session.user.id, table = "overview", rows = rows.len(), "dashboard export");
    let body = csv(
        &[
            "code",
            "name",
            "district_lgd",
            "last_day",
            "d7",
            "d30",
            "registrations",
            "new",
            "follow_up",
            "cancelled",
            "abha_linked",
            "abha_linked_pct",
            "scan_share",
            "dialysis_completed",
            "dialysis_no_shows",
            "stale_kiosks",
        ],
        &rows
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.name.clone(),
                    r.district_lgd.map(|d| d.to_string()).unwrap_or_default(),
                    r.today.to_string(),
                    r.d7.to_string(),
                    r.d30.to_string(),
                    r.registrations.to_string(),
                    r.new.to_string(),
                    r.follow_up.to_string(),
                    r.cancelled.to_string(),
                    r.abha_linked.to_string(),
                    r.abha_pct.to_string(),
                    r.scan_share.to_string(),
                    r.dialysis_completed.to_string(),
                    r.dialysis_no_shows.to_string(),
                    r.stale_kiosks.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    Ok(csv_response(
        &format!("overview_{}_{}.csv", day(f.from), day(f.to)),
        body,
    ))
}

/// A facility page's figures for the official who asked: the session, then the facility
/// within their scope, then the dates (only `from` and `to` apply on a facility page).
async fn facility_data<S: Store>(
    web: &Web<S>,
    headers: &HeaderMap,
    code: &str,
    q: &Q,
    kind: Kind,
) -> Result<(Session, data::FacilityPage), Response> {
    let session = Session::check(web, headers, q, kind).await?;
    let fac = session.facility_in_scope(web, code).await?;
    let dates = Q {
        from: q.from.clone(),
        to: q.to.clone(),
        ..Q::default()
    };
    let f = session.filter(web, &dates).await?;
    let page = data::facility_page(&*web.store, &fac, &f)
        .await
        .map_err(|e| session.store_failed(web, e))?;
    Ok((session, page))
}

async fn facility<S: Store>(
    State(web): State<Web<S>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<Q>,
) -> Result<Response, Response> {
    let (session, page) = facility_data(&web, &headers, &code, &q, Kind::Page).await?;
    let (user, lang) = (&session.user, session.lang);
    let labels: Vec<String> = page.daily.iter().map(|d| d.date.clone()).collect();
    let per_day = charts::bars(
        &labels,
        &page
            .daily
            .iter()
            .map(|d| d.registrations)
            .collect::<Vec<_>>(),
    );
    let abha = charts::percent_line(
        &labels,
        &page.daily.iter().map(|d| d.abha_pct).collect::<Vec<_>>(),
    );
    let csv_q = format!("from={}&to={}", page.from, page.to);
    let r = render(
        &web.env,
        "facility.html",
        context! {
            t => i18n::strings(lang), lang => lang.code(), user => user_ctx(user),
            p => page.clone(), chart_per_day => minijinja::Value::from_safe_string(per_day),
            chart_abha => minijinja::Value::from_safe_string(abha), csv_q => csv_q,
            code_url => urlencode(&page.code),
            back => user.scope != Scope::Facility(page.code.clone()),
            age_bands => crate::projections::AGE_BANDS,
        },
    );
    Ok(with_lang_cookie(r, &headers, &q))
}

async fn facility_json<S: Store>(
    State(web): State<Web<S>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<Q>,
) -> Result<Response, Response> {
    let (_, page) = facility_data(&web, &headers, &code, &q, Kind::Api).await?;
    Ok(Json(page).into_response())
}

/// The tables of a facility page that can be downloaded, by file name.
pub const FACILITY_TABLES: &[&str] = &[
    "daily.csv",
    "departments.csv",
    "demographics.csv",
    "fees.csv",
    "kiosks.csv",
    "dialysis_pools.csv",
    "dialysis_shifts.csv",
    "requests.csv",
];

async fn facility_csv<S: Store>(
    State(web): State<Web<S>>,
    headers: HeaderMap,
    Path((code, table)): Path<(String, String)>,
    Query(q): Query<Q>,
) -> Result<Response, Response> {
    let (session, p) = facility_data(&web, &headers, &code, &q, Kind::Page).await?;
    let s = |v: i64| v.to_string();
    let (head, rows): (Vec<&str>, Vec<Vec<String>>) = match table.as_str() {
        "daily.csv" => (
            vec![
                "date",
                "registrations",
                "new",
                "follow_up",
                "cancelled",
                "abha_linked",
                "abha_linked_pct",
                "scan_share",
                "fees",
                "waived",
            ],
            p.daily
                .iter()
                .map(|d| {
                    vec![
                        d.date.clone(),
                        s(d.registrations),
                        s(d.new),
                        s(d.follow_up),
                        s(d.cancelled),
                        s(d.abha_linked),
                        d.abha_pct.to_string(),
                        s(d.scan_share),
                        s(d.fees),
                        s(d.waived),
                    ]
                })
                .collect(),
        ),
        "departments.csv" => (
            vec!["department", "visits", "fees"],
            p.departments
                .iter()
                .map(|r| vec![r.label.clone(), s(r.count), s(r.amount)])
                .collect(),
        ),
        "demographics.csv" => (
            vec!["gender", "age_band", "visits"],
            p.demographics
                .iter()
                .map(|r| vec![r.a.clone(), r.b.clone(), s(r.count)])
                .collect(),
        ),
        "fees.csv" => (
            vec!["waiver", "visits", "fees"],
            p.waivers
                .iter()
                .map(|r| vec![r.label.clone(), s(r.count), s(r.amount)])
                .collect(),
        ),
        "kiosks.csv" => (
            vec![
                "device_id",
                "name",
                "last_seen",
                "pending",
                "oldest_unsent_age_s",
                "dead_letters",
                "app_version",
                "last_error_kind",
                "free_disk_bytes",
                "stale",
            ],
            p.kiosks
                .iter()
                .map(|k| {
                    vec![
                        k.device_id.clone(),
                        k.name.clone(),
                        k.last_seen.clone().unwrap_or_default(),
                        s(k.pending),
                        k.oldest_unsent_age_s.map(s).unwrap_or_default(),
                        s(k.dead_letters),
                        k.app_version.clone().unwrap_or_default(),
                        k.last_error_kind.clone().unwrap_or_default(),
                        k.free_disk_bytes.map(s).unwrap_or_default(),
                        k.stale.to_string(),
                    ]
                })
                .collect(),
        ),
        "dialysis_pools.csv" => (
            vec!["pool", "machines"],
            p.machines_by_pool
                .iter()
                .map(|r| vec![r.label.clone(), s(r.count)])
                .collect(),
        ),
        "dialysis_shifts.csv" => (
            vec!["shift", "status", "sessions"],
            p.sessions_per_shift
                .iter()
                .map(|r| vec![r.a.clone(), r.b.clone(), s(r.count)])
                .collect(),
        ),
        "requests.csv" => (
            vec!["status", "requests"],
            p.requests
                .iter()
                .map(|(k, v)| vec![k.clone(), s(*v)])
                .collect(),
        ),
        _ => return Err(session.refuse(&web, StatusCode::NOT_FOUND)),
    };
    info!(user = %session.user.id, table = %table, rows = rows.len(), "dashboard export");
    Ok(csv_response(
        &format!(
            "{}_{}",
            p.code.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            table
        ),
        csv(&head, &rows),
    ))
}

async fn summary<S: Store>(
    State(web): State<Web<S>>,
    headers: HeaderMap,
    Query(q): Query<Q>,
) -> Result<Response, Response> {
    let (_, f, rows) = overview_rows(&web, &headers, &q, Kind::Api).await?;
    Ok(Json(summary_json(&f, &rows)).into_response())
}

/// The summary API's body (the contract of issue 12).
pub fn summary_json(f: &Filter, rows: &[data::OverviewRow]) -> serde_json::Value {
    let t = data::totals(rows);
    serde_json::json!({
        "from": day(f.from),
        "to": day(f.to),
        "facilities": rows.iter().map(|r| serde_json::json!({
            "code": r.code,
            "name": r.name,
            "district_lgd": r.district_lgd,
            "registrations": r.registrations,
            "new": r.new,
            "follow_up": r.follow_up,
            "cancelled": r.cancelled,
            "abha_linked": r.abha_linked,
            "scan_share": r.scan_share,
            "dialysis_completed": r.dialysis_completed,
            "dialysis_no_shows": r.dialysis_no_shows,
            "kiosks": r.kiosks.iter().map(|k| serde_json::json!({
                "device_id": k.device_id,
                "name": k.name,
                "last_seen": k.last_seen,
                "pending": k.pending,
                "stale": k.stale,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "totals": {
            "registrations": t.registrations,
            "abha_linked": t.abha_linked,
            "abha_linked_pct": t.abha_linked_pct,
            "scan_share": t.scan_share,
            "dialysis_completed": t.dialysis_completed,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let s = csv(
            &["a", "b"],
            &[
                vec!["=1+1".into(), "x,\"y\"".into()],
                vec!["-5".into(), "ok".into()],
            ],
        );
        assert_eq!(s, "a,b\r\n'=1+1,\"x,\"\"y\"\"\"\r\n-5,ok\r\n");
    }

    #[test]
    fn templates_compile() {
        let env = templates();
        for t in [
            "base.html",
            "login.html",
            "message.html",
            "overview.html",
            "facility.html",
            "slip.html",
        ] {
            assert!(env.get_template(t).is_ok(), "{t}");
        }
    }

    #[test]
    fn rate_limiter_counts_per_address() {
        let l = RateLimiter::new(2);
        assert!(l.allow("a") && l.allow("a"));
        assert!(!l.allow("a"));
        assert!(l.allow("b"));
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;

    #[test]
    fn overview_and_facility_render() {
        let env = templates();
        let row = data::OverviewRow {
            code: "A".into(),
            name: "A PHC".into(),
            district_lgd: Some(5),
            ..Default::default()
        };
        let out = env.get_template("overview.html").unwrap().render(context! {
            t => i18n::strings(Lang::Hi), lang => "hi", user => context!{ name => "u", role => "state" },
            rows => vec![row], totals => data::totals(&[]), from => "2026-01-01", to => "2026-01-30",
            district => Some(5), districts => vec![5, 6], can_pick_district => true,
            sort => "code", desc => false, keep => "from=2026-01-01&to=2026-01-30",
        });
        let html = out.unwrap();
        assert!(html.contains("data-code=\"A\""));
        let fac = data::FacilityInfo {
            id: "x".into(),
            code: "A B".into(),
            name: "A".into(),
            district_lgd: None,
        };
        let _ = fac;
        let out = env.get_template("facility.html").unwrap().render(context! {
            t => i18n::strings(Lang::En), lang => "en", user => context!{ name => "u", role => "state" },
            p => serde_json::json!({"code": "A", "name": "A PHC", "district_lgd": 5, "from": "2026-01-01", "to": "2026-01-30",
                "registrations": 1, "new": 1, "follow_up": 0, "cancelled": 0, "abha_linked": 0, "abha_pct": 0.0, "scan_share": 0,
                "fees": 0, "waived": 0, "daily": [{"date": "2026-01-01", "registrations": 1, "new": 1, "follow_up": 0, "cancelled": 0, "abha_linked": 0, "abha_pct": 0.0, "scan_share": 0, "fees": 0, "waived": 0}],
                "departments": [{"label": "eye", "count": 1, "amount": 5}], "demographics": [], "waivers": [{"label": "", "count": 1, "amount": 0}],
                "kiosks": [{"device_id": "d", "name": "k", "last_seen": null, "pending": 0, "dead_letters": 0, "oldest_unsent_age_s": null, "app_version": null, "last_error_kind": null, "stale": true}],
                "machines_by_pool": [], "sessions_per_shift": [], "dialysis_completed": 0, "dialysis_no_shows": 0, "waitlist": 0,
                "requests": {"pending": 1, "confirmed": 0}}),
            chart_per_day => minijinja::Value::from_safe_string("<svg></svg>".into()), chart_abha => "",
            csv_q => "from=1", code_url => "A", back => true, age_bands => crate::projections::AGE_BANDS,
        });
        let html = out.unwrap();
        assert!(
            html.contains("<svg></svg>") && html.contains("data-k=\"pending\""),
            "{html}"
        );
    }
}

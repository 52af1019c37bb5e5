//! The gift shop for members: the rewards their points buy, redeeming one (with a delivery
//! address for a physical reward), and their orders with their fulfilment and codes. Community
//! managers keep the catalogue from the same page: a reward's terms, its restocks, and its
//! stock adjusted by hand with a reason (write-offs, units received, corrections), with the
//! recent changes listed under each limited reward.

use super::{acting, acting_session, signed_in};
use crate::{
    render::{
        after_action, field_refusal, fixable_refusal, page, see_other, Chrome, FieldRefusal,
        PageError,
    },
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_core::{
    accounts::Session,
    model::StockAdjustment,
    orders, points,
    shop::{self, RewardTermsInput},
    stock::{self, AdjustmentInput},
    Caller, Conn, CoreError, ScopedBoxFuture, ScopedFutureExt,
};
use cenacle_domain::{shop::AdjustmentReason, Permission, ValidationError};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;

pub struct RewardCard {
    id: i64,
    name: String,
    description: String,
    price: String,
    /// "3 left", "unlimited", or out of stock.
    stock: String,
    available: bool,
    physical: bool,
    /// This reward's redemption was just refused: why, and the address typed.
    refused: Option<(String, String)>,
    /// For community managers: the reward's terms as the edit form shows them.
    terms: Option<TermsForm>,
    /// Whether it has a stock to restock (not unlimited).
    limited: bool,
    /// Its restock form: what was typed and why it was refused (empty: a blank form).
    restock: (String, FieldRefusal),
    /// For community managers, a limited physical reward's form to adjust its stock by hand
    /// and its recent changes (a digital reward's units are its codes: none).
    adjust: Option<AdjustCard>,
}

/// A limited physical reward's stock adjustment, as a community manager sees it.
pub struct AdjustCard {
    /// What the form holds: empty, or what was typed when it was refused.
    form: AdjustFormInput,
    refusal: FieldRefusal,
    /// The reasons to choose from: (value, words).
    reasons: Vec<(&'static str, String)>,
    /// The last changes by hand, newest first.
    history: Vec<AdjustmentLine>,
    ids: AdjustIds,
}

/// The ids of an adjustment form's fields (one form per reward on the page).
pub struct AdjustIds {
    delta: String,
    reason: String,
    note: String,
}

impl AdjustIds {
    fn of(reward: i64) -> AdjustIds {
        AdjustIds {
            delta: format!("adjust-delta-{reward}"),
            reason: format!("adjust-reason-{reward}"),
            note: format!("adjust-note-{reward}"),
        }
    }
}

impl AdjustCard {
    /// Whether the form's reason is `value` (the select keeps what was chosen).
    fn chose(&self, value: &str) -> bool {
        self.form.reason == value
    }
}

/// One change of stock by hand, in words.
pub struct AdjustmentLine {
    at: String,
    /// Signed: "-2", "+4".
    change: String,
    reason: String,
    note: Option<String>,
    by: String,
}

/// How many past changes each reward's card lists.
const RECENT_ADJUSTMENTS: i64 = 5;

fn adjustment_line(v: &Visitor, a: StockAdjustment) -> AdjustmentLine {
    let t = v.words;
    AdjustmentLine {
        at: t.date(&a.created_at),
        change: if a.delta > 0 {
            format!("+{}", t.number(a.delta))
        } else {
            t.number(a.delta)
        },
        reason: t.t(&format!("shop-adjust-reason-{}", a.reason)),
        note: a.note,
        by: a.by_username.unwrap_or_else(|| "—".to_owned()),
    }
}

/// A reward's editable terms, as the form's fields hold them (times in UTC, to the minute).
pub struct TermsForm {
    name_en: String,
    name_fr: String,
    description_en: String,
    description_fr: String,
    price: i64,
    limit_per_member: String,
    limit_per_period: String,
    limit_period: String,
    available_from: String,
    available_until: String,
}

/// The `datetime-local` format the forms use (read as UTC).
pub(super) const FORM_TIME: &str = "%Y-%m-%dT%H:%M";

impl TermsForm {
    fn of(r: &cenacle_core::model::Reward) -> TermsForm {
        let time = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.format(FORM_TIME).to_string())
                .unwrap_or_default()
        };
        TermsForm {
            name_en: r.name_en.clone(),
            name_fr: r.name_fr.clone(),
            description_en: r.description_en.clone(),
            description_fr: r.description_fr.clone(),
            price: r.price,
            limit_per_member: r
                .limit_per_member
                .map(|l| l.to_string())
                .unwrap_or_default(),
            limit_per_period: r
                .limit_per_period
                .map(|l| l.to_string())
                .unwrap_or_default(),
            limit_period: r.limit_period.clone().unwrap_or_default(),
            available_from: time(r.available_from),
            available_until: time(r.available_until),
        }
    }
}

#[derive(Template)]
#[template(path = "shop.html")]
struct ShopPage {
    c: Chrome,
    balance: String,
    held: String,
    available: String,
    rewards: Vec<RewardCard>,
}

/// Whether a reward's stock is adjusted by hand: any limited one (a digital reward's only by a
/// correction of its cap: see `reasons_for`).
fn stocked_by_hand(r: &cenacle_core::model::Reward) -> bool {
    r.stock.is_some()
}

/// Whether the signed-in visitor keeps the catalogue.
pub(super) fn manages(v: &Visitor) -> bool {
    v.may(Permission::ManageRewards)
}

/// A form of the page that was just refused, to show again with why.
enum Refused {
    None,
    /// A redemption: the reward, why, and the address typed.
    Redeem(i64, String, String),
    /// A stock adjustment: the reward, what was typed, and why.
    Adjust(i64, AdjustFormInput, FieldRefusal),
    /// A restock: the reward, the quantity typed, and why.
    Restock(i64, String, FieldRefusal),
}

async fn shop_page(
    state: &AppState,
    v: &Visitor,
    caller: &Caller,
    status: StatusCode,
    refused: Refused,
) -> Response {
    let manager = manages(v);
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let rewards = shop::catalogue(&mut conn, true).await?;
        let standing = points::standing(&mut conn, caller.person_id).await?;
        let history = match v.session.as_ref().filter(|_| manager) {
            Some(session) => {
                let stocked: Vec<i64> = rewards
                    .iter()
                    .filter(|r| stocked_by_hand(r))
                    .map(|r| r.id)
                    .collect();
                stock::recent_adjustments(&mut conn, session, &stocked, RECENT_ADJUSTMENTS).await?
            }
            None => Vec::new(),
        };
        Ok::<_, CoreError>((rewards, standing, history))
    }
    .await;
    let (rewards, standing, history) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let t = v.words;
    let (redeem_refused, adjust_refused, restock_refused) = match refused {
        Refused::None => (None, None, None),
        Refused::Redeem(id, why, address) => (Some((id, why, address)), None, None),
        Refused::Adjust(id, form, refusal) => (None, Some((id, form, refusal)), None),
        Refused::Restock(id, typed, refusal) => (None, None, Some((id, typed, refusal))),
    };
    let reasons: Vec<(AdjustmentReason, String)> = AdjustmentReason::ALL
        .iter()
        .map(|r| (*r, t.t(&format!("shop-adjust-reason-{}", r.as_str()))))
        .collect();
    // Each reward's changes, newest first as read.
    let mut history_of: HashMap<i64, Vec<AdjustmentLine>> = HashMap::new();
    for a in history {
        history_of
            .entry(a.reward_id)
            .or_default()
            .push(adjustment_line(v, a));
    }
    page(
        v,
        status,
        &ShopPage {
            c: Chrome::of(v, "/shop"),
            balance: t.count("bounty-points", standing.balance),
            held: t.count("bounty-points", standing.held),
            available: t.count("bounty-points", standing.balance - standing.held),
            rewards: rewards
                .into_iter()
                .map(|r| {
                    let terms = manager.then(|| TermsForm::of(&r));
                    let adjust = (manager && stocked_by_hand(&r)).then(|| {
                        let (form, refusal) = adjust_refused
                            .as_ref()
                            .filter(|(id, _, _)| *id == r.id)
                            .map(|(_, form, refusal)| (form.clone(), refusal.clone()))
                            .unwrap_or_default();
                        AdjustCard {
                            form,
                            refusal,
                            reasons: reasons
                                .iter()
                                .filter(|(reason, _)| reason.applies_to(&r.kind))
                                .map(|(reason, label)| (reason.as_str(), label.clone()))
                                .collect(),
                            history: history_of.remove(&r.id).unwrap_or_default(),
                            ids: AdjustIds::of(r.id),
                        }
                    });
                    let digital = r.kind == "digital";
                    let left = match r.stock {
                        Some(n) if digital => Some(n.min(r.free_codes)),
                        Some(n) => Some(n),
                        None if digital => Some(r.free_codes),
                        None => None,
                    };
                    RewardCard {
                        id: r.id,
                        name: t.pick(r.name_fr, r.name_en),
                        description: t.pick(r.description_fr, r.description_en),
                        price: t.count("bounty-points", r.price),
                        stock: match left {
                            Some(0) => t.t("shop-out-of-stock"),
                            Some(n) => t.count("shop-left", n),
                            None => t.t("shop-unlimited"),
                        },
                        available: left != Some(0),
                        physical: !digital,
                        limited: r.stock.is_some(),
                        restock: restock_refused
                            .as_ref()
                            .filter(|(id, _, _)| *id == r.id)
                            .map(|(_, typed, refusal)| (typed.clone(), refusal.clone()))
                            .unwrap_or_default(),
                        terms,
                        adjust,
                        refused: redeem_refused
                            .as_ref()
                            .filter(|(id, _, _)| *id == r.id)
                            .map(|(_, why, address)| (why.clone(), address.clone())),
                    }
                })
                .collect(),
        },
    )
}

pub async fn catalogue(State(state): State<AppState>, v: Visitor) -> Response {
    match signed_in(&v, "/shop") {
        Ok(caller) => shop_page(&state, &v, &caller, StatusCode::OK, Refused::None).await,
        Err(redirect) => redirect.into_response(),
    }
}

#[derive(Deserialize)]
pub struct RedeemForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
}

/// Redeems a reward: points taken and stock reserved in one transaction; a refusal (not
/// enough points, out of stock, over a limit…) comes back beside that reward, address kept.
pub async fn redeem(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<RedeemForm>,
) -> Response {
    let caller = match acting(&v, "/shop", &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let (ctx, caller_ref) = (&state.ctx, &caller);
    let address = Some(form.address.as_str());
    let redeemed = ctx
        .transaction(|conn| shop::redeem(conn, ctx, caller_ref, id, address).scope_boxed())
        .await;
    match redeemed {
        Ok(order) => see_other(&format!("/shop/orders#order-{}", order.id), vec![]),
        Err(e) => match fixable_refusal(e, &v) {
            Ok((status, why)) => {
                let refused = Refused::Redeem(id, why, form.address);
                shop_page(&state, &v, &caller, status, refused).await
            }
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize)]
pub struct TermsFormInput {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    name_fr: String,
    #[serde(default)]
    description_en: String,
    #[serde(default)]
    description_fr: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    limit_per_member: String,
    #[serde(default)]
    limit_per_period: String,
    #[serde(default)]
    limit_period: String,
    #[serde(default)]
    available_from: String,
    #[serde(default)]
    available_until: String,
}

/// A form's field read as a number or a UTC time (blank: none); refused naming the field.
pub(super) fn field<T>(
    name: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, CoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse(text).map(Some).ok_or_else(|| {
        ValidationError {
            field: name,
            code: "invalid",
        }
        .into()
    })
}

pub(super) fn form_time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, FORM_TIME)
        .ok()
        .map(|t| t.and_utc())
}

impl TermsFormInput {
    fn terms(&self) -> Result<RewardTermsInput, CoreError> {
        let limit_per_period = field("limit_per_period", &self.limit_per_period, |t| {
            t.parse::<i32>().ok()
        })?;
        let period = Some(self.limit_period.trim()).filter(|p| !p.is_empty());
        let limit_per_period = match (limit_per_period, period) {
            (Some(limit), Some(period)) => Some((limit, period.to_owned())),
            (None, None) => None,
            _ => {
                return Err(ValidationError {
                    field: "limit_period",
                    code: "incomplete",
                }
                .into())
            }
        };
        Ok(RewardTermsInput {
            name_en: self.name_en.clone(),
            name_fr: self.name_fr.clone(),
            description_en: self.description_en.clone(),
            description_fr: self.description_fr.clone(),
            price: field("price", &self.price, |t| t.parse::<i64>().ok())?.unwrap_or(0),
            limit_per_member: field("limit_per_member", &self.limit_per_member, |t| {
                t.parse::<i32>().ok()
            })?,
            limit_per_period,
            available_from: field("available_from", &self.available_from, form_time)?,
            available_until: field("available_until", &self.available_until, form_time)?,
        })
    }
}

/// A community manager rewrites a reward's names, descriptions, price, window and limits.
pub async fn edit_reward(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<TermsFormInput>,
) -> Response {
    let session = match acting_session(&v, "/shop", &form.csrf) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let edited = match form.terms() {
        Ok(input) => {
            let input = &input;
            state
                .ctx
                .transaction(|conn| shop::edit_reward(conn, session, id, input).scope_boxed())
                .await
                .map(drop)
        }
        Err(e) => Err(e),
    };
    after_action(edited, &v, &reward_card(id))
}

#[derive(Deserialize)]
pub struct RestockForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    quantity: String,
}

/// The skeleton of the stock forms: the form's number of units `name` read (blank: 0, which
/// the use cases refuse as out of range; not a number: refused naming the field), then
/// `change` run with it in one transaction.
async fn change_units<'a, R, F>(
    state: &AppState,
    name: &'static str,
    text: &str,
    change: F,
) -> Result<(), CoreError>
where
    F: for<'r> FnOnce(&'r mut Conn, i64) -> ScopedBoxFuture<'a, 'r, Result<R, CoreError>>
        + Send
        + 'a,
    R: Send + 'a,
{
    let units = field(name, text, |t| t.parse::<i64>().ok())?.unwrap_or(0);
    state
        .ctx
        .transaction(move |conn| change(conn, units))
        .await
        .map(drop)
}

/// Where a reward's forms (terms, restock, adjustment) go back to: its card.
fn reward_card(id: i64) -> String {
    format!("/shop#reward-{id}")
}

/// A community manager adds units to a reward's stock (a row in the stock ledger).
pub async fn restock(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<RestockForm>,
) -> Response {
    let session = match acting_session(&v, "/shop", &form.csrf) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let restocked = change_units(&state, "quantity", &form.quantity, |conn, quantity| {
        shop::restock(conn, session, id, quantity).scope_boxed()
    })
    .await;
    match restocked {
        Ok(()) => see_other(&reward_card(id), vec![]),
        Err(e) => {
            let typed = form.quantity;
            let refused = |refusal| Refused::Restock(id, typed, refusal);
            stock_form_refused(&state, &v, session, e, "quantity", refused).await
        }
    }
}

/// A stock form's refusal, shown again on the whole shop page under the reward's form with
/// what was typed. The stock's refusals (units promised, none left, unlimited) name no field:
/// they are about the number typed, `units_field`.
async fn stock_form_refused(
    state: &AppState,
    v: &Visitor,
    session: &Session,
    e: CoreError,
    units_field: &str,
    refused: impl FnOnce(FieldRefusal) -> Refused,
) -> Response {
    match field_refusal(e, v) {
        Ok(mut refusal) => {
            if refusal.field.is_empty() {
                refusal.field = units_field.to_owned();
            }
            let status = refusal.status;
            shop_page(state, v, &Caller::from(session), status, refused(refusal)).await
        }
        Err(page) => *page,
    }
}

/// A stock adjustment's form, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct AdjustFormInput {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    delta: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// A community manager adjusts a limited reward's stock by hand, with a reason (a row in the
/// stock ledger). A refusal comes back under the field at fault on that reward's card, with
/// what was typed kept.
pub async fn adjust_stock(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<AdjustFormInput>,
) -> Response {
    let session = match acting_session(&v, "/shop", &form.csrf) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let (reason, note) = (&form.reason, &form.note);
    let adjusted = change_units(&state, "delta", &form.delta, |conn, delta| {
        async move {
            let input = AdjustmentInput {
                delta,
                reason: reason.clone(),
                note: Some(note.clone()),
            };
            stock::adjust_stock(conn, session, id, &input).await
        }
        .scope_boxed()
    })
    .await;
    match adjusted {
        Ok(()) => see_other(&reward_card(id), vec![]),
        Err(e) => {
            let refused = |refusal| Refused::Adjust(id, form, refusal);
            stock_form_refused(&state, &v, session, e, "delta", refused).await
        }
    }
}

pub struct OrderLine {
    id: i64,
    reward: String,
    price: String,
    status: String,
    code: Option<String>,
    tracking: Option<String>,
}

#[derive(Template)]
#[template(path = "shop_orders.html")]
struct OrdersPage {
    c: Chrome,
    orders: Vec<OrderLine>,
}

pub async fn my_orders(State(state): State<AppState>, v: Visitor) -> Response {
    let caller = match signed_in(&v, "/shop/orders") {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let mine = orders::my_orders(&mut conn, &caller).await?;
        let rewards = shop::catalogue(&mut conn, false).await?;
        Ok::<_, CoreError>((mine, rewards))
    }
    .await;
    let (mine, rewards) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    let names: HashMap<i64, String> = rewards
        .into_iter()
        .map(|r| (r.id, t.pick(r.name_fr, r.name_en)))
        .collect();
    page(
        &v,
        StatusCode::OK,
        &OrdersPage {
            c: Chrome::of(&v, "/shop/orders"),
            orders: mine
                .into_iter()
                .map(|o| OrderLine {
                    id: o.id,
                    reward: names.get(&o.reward_id).cloned().unwrap_or_default(),
                    price: t.count("bounty-points", o.price),
                    status: t.t(&format!("order-{}", o.status)),
                    code: o.code,
                    tracking: o.tracking_note.filter(|n| !n.is_empty()),
                })
                .collect(),
        },
    )
}

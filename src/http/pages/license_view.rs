//! What the citizen page shows about a license QR payload, and its HTML.
//!
//! [`LicensePage`] is filled from the verification engine's answer (see
//! [`super::license`]); this file only decides words, colours and layout.
//! Claims come from the payload — attacker-controlled until verified — so
//! every value goes through [`escape`], and claims that did not verify are
//! shown only under a warning that they must not be trusted.

use time::OffsetDateTime;
use time::macros::format_description;

use super::html::{Lang, Tone, escape, page, rows, verdict};
use crate::license::claims::LicenseClaims;

/// The answer in the words a person needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Genuine, and valid now.
    Valid,
    /// Genuine, but revoked by its issuer.
    Revoked,
    /// Genuine, but suspended by its issuer.
    Suspended,
    /// Genuine, but replaced by a newer version (renewed or amended, 已换发).
    Superseded,
    /// Genuine, but past its end of validity (or not yet valid).
    Expired,
    /// Forged, altered, signed by an unknown seal or by another seal than the
    /// one it names, or not a license at all.
    NotGenuine,
    /// Signed by a seal of a department that may not issue its license type.
    NotAuthorised,
    /// Genuine signature, but the status cannot be decided now (stale revocation data).
    TryLater,
}

impl Verdict {
    fn tone(self) -> Tone {
        match self {
            Verdict::Valid => Tone::Good,
            Verdict::Suspended | Verdict::Superseded | Verdict::Expired | Verdict::TryLater => {
                Tone::Warn
            }
            Verdict::Revoked | Verdict::NotGenuine | Verdict::NotAuthorised => Tone::Bad,
        }
    }

    /// The headline, in large type.
    pub fn headline(self, lang: Lang) -> &'static str {
        match self {
            Verdict::Valid => lang.pick("真实有效", "Genuine and valid"),
            Verdict::Revoked => lang.pick("已吊销", "Revoked"),
            Verdict::Suspended => lang.pick("已暂停", "Suspended"),
            Verdict::Superseded => {
                lang.pick("已换发·已被新版本取代", "Superseded by a new version")
            }
            Verdict::Expired => lang.pick("已过期", "Expired"),
            Verdict::NotGenuine => lang.pick("无法验证·非真实", "Not genuine — cannot verify"),
            Verdict::NotAuthorised => lang.pick(
                "无效·签发部门无权签发此类证照",
                "Not valid — the issuer may not issue this type",
            ),
            Verdict::TryLater => lang.pick("暂时无法确认状态", "Status cannot be confirmed now"),
        }
    }

    fn explanation(self, lang: Lang) -> &'static str {
        match self {
            Verdict::Valid => lang.pick(
                "该电子证照由发证机关签发，签名验证通过，当前状态有效。",
                "Issued and signed by the issuing department; the signature verifies and the license is valid now.",
            ),
            Verdict::Revoked => lang.pick(
                "该证照为真实签发，但已被发证机关吊销，不再有效。",
                "Genuinely issued, but revoked by the issuing department: no longer valid.",
            ),
            Verdict::Suspended => lang.pick(
                "该证照为真实签发，但目前已被发证机关暂停。",
                "Genuinely issued, but currently suspended by the issuing department.",
            ),
            Verdict::Superseded => lang.pick(
                "该证照为真实签发，但已被新版本取代（已换发），本版本不再有效，请以新版本为准。",
                "Genuinely issued, but replaced by a new version (renewed or amended): this version is no longer valid; rely on the new one.",
            ),
            Verdict::Expired => lang.pick(
                "该证照为真实签发，但不在有效期内。",
                "Genuinely issued, but outside its period of validity.",
            ),
            Verdict::NotGenuine => lang.pick(
                "未能验证该二维码的签名：它可能是伪造、被篡改或来自未知印章。请勿采信。",
                "The QR code's signature could not be verified: it may be forged, altered or from an unknown seal. Do not rely on it.",
            ),
            Verdict::NotAuthorised => lang.pick(
                "签名来自本平台的电子印章，但签发部门未获授权签发此类证照。请勿采信。",
                "Signed with a seal of this platform, but by a department not authorised to issue this type of license. Do not rely on it.",
            ),
            Verdict::TryLater => lang.pick(
                "签名验证通过，但吊销数据已过期，无法确认当前状态，请稍后再试。",
                "The signature verifies, but the revocation data is out of date; try again later.",
            ),
        }
    }
}

/// A summary field's labels, as the license type defines them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLabel {
    /// The field code in the claims.
    pub code: String,
    /// 中文标签.
    pub zh: String,
    /// English label.
    pub en: String,
}

/// How fresh the license status snapshot was (times as RFC 3339 text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// this-update.
    pub this_update: String,
    /// next-update.
    pub next_update: Option<String>,
    /// Age at the validation time, seconds.
    pub age_seconds: Option<i64>,
    /// Past next-update.
    pub stale: bool,
}

/// Everything the citizen page shows.
#[derive(Clone, Debug)]
pub struct LicensePage {
    /// The answer.
    pub verdict: Verdict,
    /// Why, as the engine says it (sub-indication and findings).
    pub reasons: Vec<String>,
    /// The payload's claims, if they could be read at all.
    pub claims: Option<LicenseClaims>,
    /// True if the claims' signature verified (they may be shown as facts).
    pub claims_verified: bool,
    /// The license type's names (中文, English), if the type is known here.
    pub type_name: Option<(String, String)>,
    /// Labels of the summary fields.
    pub labels: Vec<FieldLabel>,
    /// The seal whose certificate verified the signature (its name), if any.
    pub seal_name: Option<String>,
    /// The license status snapshot used, as the engine reports it.
    pub snapshot: Option<Freshness>,
    /// The version that replaced this one, and the newest version if it is
    /// another, when the verdict is [`Verdict::Superseded`].
    pub superseded_by: Option<(String, Option<String>)>,
    /// The validation time.
    pub now: OffsetDateTime,
}

fn date(t: OffsetDateTime) -> String {
    t.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn date_time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
}

/// An RFC 3339 time shown as `YYYY-MM-DD HH:MM UTC` (as given if unreadable).
fn rfc3339_as_date_time(text: &str) -> String {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| date_time(t.to_offset(time::UtcOffset::UTC)))
        .unwrap_or_else(|_| text.to_string())
}

/// "5 分钟前" / "5 minutes ago".
fn age(lang: Lang, seconds: i64) -> String {
    let s = seconds.max(0);
    let (n, zh, en) = match s {
        0..60 => (s, "秒", "seconds"),
        60..3600 => (s / 60, "分钟", "minutes"),
        3600..86400 => (s / 3600, "小时", "hours"),
        _ => (s / 86400, "天", "days"),
    };
    match lang {
        Lang::Zh => format!("{n} {zh}前"),
        Lang::En => format!("{n} {en} ago"),
    }
}

impl LicensePage {
    /// The whole HTML page; `switch_href` links to the other language.
    pub fn render(&self, lang: Lang, switch_href: &str) -> String {
        let title = lang.pick("电子证照验证", "E-license verification");
        let mut body = verdict(
            self.verdict.tone(),
            self.verdict.headline(lang),
            self.verdict.explanation(lang),
        );
        if let Some((by, current)) = &self.superseded_by {
            let mut items = vec![(lang.pick("新版本证照编号", "New version"), by.clone())];
            if let Some(current) = current {
                items.push((lang.pick("现行版本", "Current version"), current.clone()));
            }
            body.push_str("<div class=\"card\" id=\"successor\">");
            body.push_str(&rows(items));
            body.push_str("</div>");
        }
        if !self.reasons.is_empty() {
            body.push_str("<div class=\"card\" id=\"reasons\"><ul>");
            for r in &self.reasons {
                body.push_str(&format!("<li>{}</li>", escape(r)));
            }
            body.push_str("</ul></div>");
        }
        if let Some(claims) = &self.claims {
            if !self.claims_verified {
                body.push_str(&format!(
                    "<h2>{}</h2>",
                    escape(lang.pick(
                        "二维码中的内容（未通过验证，不可信）",
                        "What the QR code claims (not verified — do not trust)"
                    ))
                ));
            }
            body.push_str(&self.claims_html(lang, claims));
        }
        body.push_str(&self.freshness_html(lang));
        page(lang, title, switch_href, &body)
    }

    fn claims_html(&self, lang: Lang, c: &LicenseClaims) -> String {
        let validity = match (c.valid_from, c.expires_at) {
            (from, Some(until)) => {
                format!("{} — {}", date(from.unwrap_or(c.issued_at)), date(until))
            }
            (from, None) => format!(
                "{} — {}",
                date(from.unwrap_or(c.issued_at)),
                lang.pick("长期", "long-term")
            ),
        };
        let type_name = match &self.type_name {
            Some((zh, en)) => lang.pick(zh, en).to_string(),
            None => c.type_code().to_string(),
        };
        let seal = match &self.seal_name {
            Some(name) => format!("{name}（{}）", c.seal_code),
            None => c.seal_code.clone(),
        };
        let mut items = vec![
            (lang.pick("证照类型", "License type"), type_name),
            (lang.pick("持证主体", "Holder"), c.holder_name.clone()),
            (
                lang.pick("证件号码", "Holder ID"),
                c.holder_id.as_str().to_string(),
            ),
            (
                lang.pick("发证机关", "Issuing department"),
                format!("{}（{}）", c.issuer_name, c.issuer().as_str()),
            ),
            (lang.pick("电子印章", "Seal"), seal),
            (lang.pick("签发日期", "Issued"), date(c.issued_at)),
            (lang.pick("有效期", "Valid"), validity),
            (
                lang.pick("证照编号", "License ID"),
                c.license_id.as_str().to_string(),
            ),
        ];
        let labelled: Vec<(String, String)> = c
            .fields
            .iter()
            .map(|(code, value)| {
                let label = self
                    .labels
                    .iter()
                    .find(|l| &l.code == code)
                    .map(|l| lang.pick(&l.zh, &l.en).to_string())
                    .unwrap_or_else(|| code.clone());
                (label, value.clone())
            })
            .collect();
        let mut out = rows(items.drain(..));
        if !labelled.is_empty() {
            out.push_str(&format!(
                "<h2>{}</h2>",
                escape(lang.pick("照面信息", "Summary"))
            ));
            out.push_str(&rows(labelled.iter().map(|(l, v)| (l.as_str(), v.clone()))));
        }
        out
    }

    fn freshness_html(&self, lang: Lang) -> String {
        let text = match &self.snapshot {
            Some(f) => {
                let mut s = format!(
                    "{}{}",
                    lang.pick("吊销状态数据更新于 ", "Revocation data as of "),
                    rfc3339_as_date_time(&f.this_update)
                );
                if let Some(age_seconds) = f.age_seconds {
                    s.push_str(&format!("（{}）", age(lang, age_seconds)));
                }
                if let Some(next) = &f.next_update {
                    s.push_str(&format!(
                        "{}{}",
                        lang.pick("；下次更新不晚于 ", "; next update due by "),
                        rfc3339_as_date_time(next)
                    ));
                }
                if f.stale {
                    s.push_str(lang.pick("（已过期）", " (out of date)"));
                }
                s
            }
            None => lang
                .pick(
                    "没有可用的吊销状态数据。",
                    "No revocation data was available.",
                )
                .to_string(),
        };
        format!(
            "<p id=\"freshness\">{}</p><p>{}{}</p>",
            escape(&text),
            escape(lang.pick("验证时间：", "Verified at: ")),
            escape(&date_time(self.now))
        )
    }
}

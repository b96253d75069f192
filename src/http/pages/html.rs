//! The HTML shared by the public pages: escaping, the bilingual switch and the
//! phone-first layout (viewport meta, inline CSS, large type, no JavaScript).
//!
//! Everything shown on a page that did not come from this file is escaped
//! with [`escape`]: a QR payload and an uploaded PDF are attacker-controlled.

use std::fmt::Write as _;

/// The language a page is shown in: Chinese by default, English on `?lang=en`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The language asked for by the `lang` query parameter (`en` or anything else).
    pub fn from_query(lang: Option<&str>) -> Lang {
        match lang {
            Some(l) if l.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    fn tag(self) -> &'static str {
        self.pick("zh-CN", "en")
    }
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a verdict is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Genuine and valid.
    Good,
    /// Genuine, but not valid now (revoked, suspended, expired) or undecided.
    Warn,
    /// Not genuine.
    Bad,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Warn => "warn",
            Tone::Bad => "bad",
        }
    }
}

/// The large verdict box at the top of a page: a headline and a line under it.
pub fn verdict(tone: Tone, headline: &str, detail: &str) -> String {
    format!(
        "<section class=\"verdict {}\" id=\"verdict\"><p class=\"big\">{}</p><p>{}</p></section>",
        tone.class(),
        escape(headline),
        escape(detail)
    )
}

/// A definition list of label → value rows (both escaped).
pub fn rows<'a>(items: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let mut out = String::from("<dl>");
    for (label, value) in items {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(&value));
    }
    out.push_str("</dl>");
    out
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font-family:\"Noto Sans CJK SC\",\"PingFang SC\",\"Microsoft YaHei\",\"WenQuanYi Zen Hei\",sans-serif;\
font-size:18px;line-height:1.5;color:#1a1a1a;background:#f4f4f1}\
main{max-width:640px;margin:0 auto;padding:16px}\
header{display:flex;justify-content:space-between;align-items:baseline;gap:8px;flex-wrap:wrap}\
header h1{font-size:20px;margin:0}\
a{color:#0b57d0}\
.verdict{border-radius:12px;padding:16px;margin:16px 0;color:#fff}\
.verdict .big{font-size:34px;font-weight:700;margin:0 0 4px;line-height:1.25}\
.verdict p{margin:0;font-size:18px}\
.good{background:#1b7a3a}.warn{background:#b26a00}.bad{background:#b3261e}\
dl{margin:0;background:#fff;border-radius:12px;padding:8px 16px}\
dt{color:#5f6368;font-size:15px;margin-top:8px}\
dd{margin:0 0 8px;font-size:19px;overflow-wrap:anywhere;border-bottom:1px solid #eee;padding-bottom:8px}\
h2{font-size:20px;margin:24px 0 8px}\
.card{background:#fff;border-radius:12px;padding:12px 16px;margin:12px 0}\
.card ul{padding-left:20px;margin:8px 0;font-size:15px}\
form{background:#fff;border-radius:12px;padding:16px}\
input[type=file]{font-size:18px;width:100%;margin:8px 0 16px}\
button{font-size:20px;padding:12px 24px;border:0;border-radius:8px;background:#0b57d0;color:#fff;width:100%}\
footer{color:#5f6368;font-size:14px;margin:24px 0}";

/// A whole page: `title` and `body` (already HTML) in the shared layout, with
/// a link that switches to the other language (`switch_href`, already a URL).
pub fn page(lang: Lang, title: &str, switch_href: &str, body: &str) -> String {
    let switch_label = lang.pick("English", "中文");
    format!(
        "<!DOCTYPE html>\n<html lang=\"{tag}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"referrer\" content=\"no-referrer\"><meta name=\"robots\" content=\"noindex\">\
<title>{title}</title><style>{STYLE}</style></head><body><main>\
<header><h1>{title}</h1><a id=\"lang-switch\" href=\"{switch}\">{switch_label}</a></header>\
{body}<footer>govseal · {footer}</footer></main></body></html>\n",
        tag = lang.tag(),
        title = escape(title),
        switch = escape(switch_href),
        footer = escape(lang.pick(
            "统一电子印章 / 电子证照 验证服务",
            "electronic seal and e-license verification"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_shown_as_text() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let html = rows([("名称<b>", "<img src=x onerror=1>".to_string())]);
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn english_only_when_asked() {
        assert_eq!(Lang::from_query(None), Lang::Zh);
        assert_eq!(Lang::from_query(Some("EN")), Lang::En);
        assert_eq!(Lang::from_query(Some("fr")), Lang::Zh);
        let html = page(Lang::Zh, "证照验证", "?lang=en", "<p>x</p>");
        assert!(html.contains("lang=\"zh-CN\""));
        assert!(html.contains("width=device-width"));
        assert!(!html.contains("<script"));
    }
}

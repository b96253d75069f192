//! Line breaking for Chinese text.
//!
//! Chinese may break between any two characters (Unicode UAX #14 class ID),
//! except that runs of Latin letters and digits stay together, and the basic
//! 避头尾 rules of GB/T 15834-2011 (标点符号用法) §5 and W3C "Requirements for
//! Chinese Text Layout" (clreq) §3.1.7 hold: closing punctuation (，。、；：？！
//! and closing brackets and quotes) never starts a line and opening brackets and
//! quotes never end one. A line that would break the rules gives its last
//! character to the next line (推出); justification then evens the line out.

use super::font::{CjkFont, FontError};
use super::page::TextStyle;

/// Characters that must not start a line (行首禁则).
const NO_LINE_START: &str = "，。、；：？！）》」』】〕〉〗｝］’”…·‥％,.;:?!)]}%";
/// Characters that must not end a line (行尾禁则).
const NO_LINE_END: &str = "（《「『【〔〈〖｛［‘“([{";

/// One line of a wrapped paragraph.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The characters of the line.
    pub text: String,
    /// The natural width in points, including letter spacing but not indent.
    pub width: f32,
    /// Space before the first character in points (first-line indent).
    pub indent: f32,
    /// Whether this is the paragraph's last line (which is not justified).
    pub last_of_paragraph: bool,
}

/// A piece that is never split: one character, or a run of Latin letters and
/// digits such as "2026" or "123".
struct Unit {
    text: String,
    width: f32,
}

impl Unit {
    fn first(&self) -> char {
        self.text.chars().next().unwrap_or(' ')
    }
    fn last(&self) -> char {
        self.text.chars().next_back().unwrap_or(' ')
    }
}

fn units(
    font: &CjkFont,
    text: &str,
    style: TextStyle,
    max_width: f32,
) -> Result<Vec<Unit>, FontError> {
    let mut pieces: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            pieces.push(std::mem::take(&mut run));
        }
        pieces.push(c.to_string());
    }
    if !run.is_empty() {
        pieces.push(run);
    }
    let mut result = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let width = font.text_width(&piece, style.size, style.letter_spacing)?;
        if width > max_width && piece.chars().count() > 1 {
            // A run longer than a line is broken anywhere, like ideographs.
            for c in piece.chars() {
                let text = c.to_string();
                let width = font.text_width(&text, style.size, 0.0)?;
                result.push(Unit { text, width });
            }
        } else {
            result.push(Unit { text: piece, width });
        }
    }
    Ok(result)
}

/// Breaks `text` into lines no wider than `max_width` points; the first line
/// is indented by `first_line_indent` points (2 em for a body paragraph).
pub fn wrap(
    font: &CjkFont,
    text: &str,
    style: TextStyle,
    max_width: f32,
    first_line_indent: f32,
) -> Result<Vec<Line>, FontError> {
    let units = units(font, text, style, max_width)?;
    let mut lines = Vec::new();
    let mut current: Vec<Unit> = Vec::new();
    let mut indent = first_line_indent;
    for unit in units {
        let spacing = if current.is_empty() {
            0.0
        } else {
            style.letter_spacing
        };
        let width: f32 = line_width(&current, style);
        if !current.is_empty() && indent + width + spacing + unit.width > max_width {
            let mut carried: Vec<Unit> = Vec::new();
            // 行首禁则: pull characters down until the new line may start.
            if NO_LINE_START.contains(unit.first()) {
                while current.len() > 1 {
                    let Some(last) = current.pop() else { break };
                    let allowed = !NO_LINE_START.contains(last.first());
                    carried.insert(0, last);
                    if allowed {
                        break;
                    }
                }
            }
            // 行尾禁则: an opening bracket moves to the next line.
            while current.len() > 1
                && current
                    .last()
                    .is_some_and(|u| NO_LINE_END.contains(u.last()))
            {
                if let Some(last) = current.pop() {
                    carried.insert(0, last);
                }
            }
            lines.push(make_line(&current, style, indent, false));
            current = carried;
            indent = 0.0;
        }
        current.push(unit);
    }
    lines.push(make_line(&current, style, indent, true));
    Ok(lines)
}

fn line_width(units: &[Unit], style: TextStyle) -> f32 {
    // Each unit's width already holds the spacing inside it.
    units.iter().map(|u| u.width).sum::<f32>()
        + style.letter_spacing * units.len().saturating_sub(1) as f32
}

fn make_line(units: &[Unit], style: TextStyle, indent: f32, last: bool) -> Line {
    Line {
        text: units.iter().map(|u| u.text.as_str()).collect(),
        width: line_width(units, style),
        indent,
        last_of_paragraph: last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, chars_per_line: f32, indent: f32) -> Vec<String> {
        let font = CjkFont::load().expect("font");
        let style = TextStyle::new(10.0);
        wrap(&font, text, style, chars_per_line * 10.0, indent * 10.0)
            .expect("wrap")
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    #[test]
    fn breaks_between_ideographs_and_indents_the_first_line() {
        assert_eq!(
            lines("一二三四五六七八", 4.0, 2.0),
            ["一二", "三四五六", "七八"]
        );
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        // "。" would start line 2: "丁" comes down with it.
        assert_eq!(lines("甲乙丙丁。戊己", 4.0, 0.0), ["甲乙丙", "丁。戊己"]);
        // Two closers in a row pull one character down with both.
        assert_eq!(lines("甲乙丙丁」。戊", 4.0, 0.0), ["甲乙丙", "丁」。戊"]);
    }

    #[test]
    fn opening_brackets_never_end_a_line() {
        assert_eq!(
            lines("甲乙丙〔二〇二六〕", 4.0, 0.0),
            ["甲乙丙", "〔二〇二", "六〕"]
        );
    }

    #[test]
    fn digit_runs_stay_together_and_widths_add_up() {
        let font = CjkFont::load().expect("font");
        let style = TextStyle::new(10.0);
        let wrapped = wrap(&font, "编号2026123号", style, 60.0, 0.0).expect("wrap");
        assert!(
            wrapped.iter().any(|l| l.text.contains("2026123")),
            "{wrapped:?}"
        );
        assert!(
            wrapped.iter().all(|l| l.width <= 60.0 + 0.01),
            "{wrapped:?}"
        );
        assert!(wrapped.last().is_some_and(|l| l.last_of_paragraph));
    }
}

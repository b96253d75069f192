//! The human summary of a license report and of the revocation data's age,
//! in Chinese and English (appended to [`super::Report::summary`]).

use super::license_report::{LicenseReport, RevocationData};

/// Lines about the license: what it is, whose, by whom, its status.
pub fn license_lines(l: &LicenseReport) -> String {
    let mut out = format!(
        "证照 License {} — {}\n  持证主体 Holder: {} ({})\n  发证机关 Issuer: {} ({}), 印章 seal {}\n  签发 Issued {}; 有效期 valid {} → {}\n",
        l.license_id,
        l.status.label(),
        l.holder_name,
        l.holder_id,
        l.issuer_name,
        l.issuer,
        l.seal_code,
        l.issued_at,
        l.valid_from.as_deref().unwrap_or("—"),
        l.expires_at.as_deref().unwrap_or("长期 long-term"),
    );
    if let Some(by) = &l.superseded_by {
        out.push_str(&format!("  已换发 Superseded by: {by}\n"));
    }
    if let Some(current) = &l.current_version {
        out.push_str(&format!("  现行版本 Current version: {current}\n"));
    }
    for f in &l.fields {
        out.push_str(&format!("  {}: {}\n", f.code, f.value));
    }
    out
}

/// Lines about how old the revocation data is.
pub fn revocation_lines(data: &RevocationData) -> String {
    let mut out = String::new();
    for crl in &data.crls {
        out.push_str(&format!(
            "吊销列表 CRL of {}: this update {} ({}), next update {}\n",
            crl.issuer,
            crl.this_update,
            age(crl.age_seconds),
            crl.next_update.as_deref().unwrap_or("—")
        ));
    }
    if let Some(s) = &data.license_status {
        match (&s.problem, &s.this_update, s.age_seconds) {
            (Some(problem), _, _) => {
                out.push_str(&format!("证照状态快照 License status snapshot: ✗ {problem}\n"))
            }
            (None, Some(this_update), Some(seconds)) => out.push_str(&format!(
                "证照状态快照 License status snapshot: this update {this_update} ({}), next update {}{}\n",
                age(seconds),
                s.next_update.as_deref().unwrap_or("—"),
                if s.stale { " — 已过期 STALE" } else { "" }
            )),
            _ => {}
        }
    }
    out
}

fn age(seconds: i64) -> String {
    if seconds < 0 {
        return format!("{} s in the future", -seconds);
    }
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    if d > 0 {
        format!("{d} 天 days {h} h old")
    } else if h > 0 {
        format!("{h} h {m} min old")
    } else {
        format!("{m} min old")
    }
}

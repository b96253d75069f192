//! Which witnesses must have cosigned a checkpoint before a verifier trusts
//! it (互认): a transparency log trust policy in the C2SP tlog-policy format
//! (<https://c2sp.org/tlog-policy>), of which govseal reads:
//!
//! ```text
//! # comments and blank lines are ignored
//! log <log vkey> [<url>]
//! witness <name> <vkey, type 0x04> [<submission prefix URL>]
//! group <name> <k|any|all> <member>...
//! quorum <witness or group name | none>
//! ```
//!
//! A group is satisfied when at least k of its n members are (a member is a
//! witness that validly cosigned, or a group); the quorum line names the
//! witness or group that must be satisfied (tlog-policy §"Defining the
//! quorum"). Names must be defined before use, each member appears once per
//! group, and two witnesses may not share a public key (§"Defining a
//! witness"). The same file configures the log (the URLs say where to submit
//! checkpoints) and the verifier (the trust bundle's `witnesses.txt`).
//!
//! [`WitnessPolicy::evaluate`] checks a checkpoint note: lines by unknown keys
//! are ignored, a line that names a known witness but does not verify is a
//! finding and does not count, and each witness counts once.

use std::collections::{BTreeMap, HashSet};

use super::cosignature::{CosignerKey, LineCheck, split_note};
use super::note::VerifierKey;

/// The policy text is not a valid tlog-policy.
#[derive(Debug, thiserror::Error)]
#[error("witness policy line {line}: {reason}")]
pub struct PolicyError {
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// One witness of the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// The policy's name for it.
    pub name: String,
    /// Its cosigner key.
    pub key: CosignerKey,
    /// Its submission prefix (`<url>/add-checkpoint`), if given.
    pub url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
    /// How the threshold was written (`any`, `all` or the number).
    written: String,
}

/// A parsed tlog-policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessPolicy {
    logs: Vec<(VerifierKey, Option<String>)>,
    witnesses: Vec<Witness>,
    groups: Vec<Group>,
    quorum: Option<Member>,
}

/// What a checkpoint's cosignatures amount to under a policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyOutcome {
    /// The quorum is met.
    pub satisfied: bool,
    /// Witnesses with a valid cosignature, and its timestamp.
    pub cosigned: Vec<(String, u64)>,
    /// Witnesses with no cosignature on the note.
    pub missing: Vec<String>,
    /// Witnesses whose cosignature line does not verify, and why.
    pub invalid: Vec<(String, String)>,
    /// The quorum in words (`2 of w1, w2`).
    pub quorum: String,
}

impl WitnessPolicy {
    /// Parses a policy file.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let mut policy = WitnessPolicy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let mut names: BTreeMap<String, Member> = BTreeMap::new();
        let mut keys = HashSet::new();
        let mut quorum_seen = false;
        for (number, raw) in text.split('\n').enumerate() {
            let line = number + 1;
            let err = |reason: &str| PolicyError {
                line,
                reason: reason.to_string(),
            };
            if raw
                .chars()
                .any(|c| c.is_control() && c != '\t' && c != '\r')
            {
                return Err(err("control characters other than tab"));
            }
            let words: Vec<&str> = raw
                .split([' ', '\t', '\r'])
                .filter(|w| !w.is_empty())
                .collect();
            let Some((&keyword, args)) = words.split_first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            match (keyword, args) {
                ("log", [vkey, rest @ ..]) if rest.len() <= 1 => {
                    let key =
                        VerifierKey::parse(vkey).map_err(|e| err(&format!("log key: {e}")))?;
                    if !keys.insert(*key.public_key()) {
                        return Err(err("this public key is listed twice"));
                    }
                    policy.logs.push((key, rest.first().map(|u| u.to_string())));
                }
                ("witness", [name, vkey, rest @ ..]) if rest.len() <= 1 => {
                    let key =
                        CosignerKey::parse(vkey).map_err(|e| err(&format!("witness key: {e}")))?;
                    if !keys.insert(*key.public_key()) {
                        return Err(err("this public key is listed twice"));
                    }
                    define(&mut names, name, Member::Witness(policy.witnesses.len()))
                        .map_err(|r| err(&r))?;
                    policy.witnesses.push(Witness {
                        name: name.to_string(),
                        key,
                        url: rest.first().map(|u| u.trim_end_matches('/').to_string()),
                    });
                }
                ("group", [name, threshold, members @ ..]) if !members.is_empty() => {
                    let mut resolved = Vec::new();
                    for member in members {
                        let found = *names
                            .get(*member)
                            .ok_or_else(|| err(&format!("{member:?} is not defined above")))?;
                        if resolved.contains(&found) {
                            return Err(err(&format!("{member:?} is listed twice")));
                        }
                        resolved.push(found);
                    }
                    let n = resolved.len();
                    let k = match *threshold {
                        "any" => 1,
                        "all" => n,
                        k => Some(k)
                            .filter(|k| {
                                k.bytes().all(|b| b.is_ascii_digit()) && !k.starts_with('0')
                            })
                            .and_then(|k| k.parse::<usize>().ok())
                            .filter(|k| (1..=n).contains(k))
                            .ok_or_else(|| {
                                err("the threshold must be any, all or a number from 1 to n")
                            })?,
                    };
                    define(&mut names, name, Member::Group(policy.groups.len()))
                        .map_err(|r| err(&r))?;
                    policy.groups.push(Group {
                        name: name.to_string(),
                        threshold: k,
                        members: resolved,
                        written: threshold.to_string(),
                    });
                }
                ("quorum", [name]) => {
                    if quorum_seen {
                        return Err(err("more than one quorum line"));
                    }
                    quorum_seen = true;
                    policy.quorum = match *name {
                        "none" => None,
                        name => Some(
                            *names
                                .get(name)
                                .ok_or_else(|| err(&format!("{name:?} is not defined above")))?,
                        ),
                    };
                }
                _ => {
                    return Err(err(
                        "expected `log <vkey> [url]`, `witness <name> <vkey> [url]`, \
                         `group <name> <k|any|all> <members>` or `quorum <name|none>`",
                    ));
                }
            }
        }
        if !quorum_seen {
            return Err(PolicyError {
                line: 0,
                reason: "the policy has no quorum line".into(),
            });
        }
        Ok(policy)
    }

    /// The policy as text (the form published in the trust bundle), with a
    /// `log` line for `log_key` first if it is not listed yet.
    pub fn to_text(&self, log_key: Option<&str>) -> String {
        let mut text = String::new();
        let mut listed = false;
        for (key, url) in &self.logs {
            listed |= log_key.is_some_and(|k| k == key.to_string());
            text.push_str(&format!("log {key}{}\n", suffix(url)));
        }
        if let (false, Some(key)) = (listed, log_key) {
            text.insert_str(0, &format!("log {key}\n"));
        }
        for w in &self.witnesses {
            text.push_str(&format!("witness {} {}{}\n", w.name, w.key, suffix(&w.url)));
        }
        for g in &self.groups {
            let members: Vec<&str> = g.members.iter().map(|m| self.member_name(*m)).collect();
            text.push_str(&format!(
                "group {} {} {}\n",
                g.name,
                g.written,
                members.join(" ")
            ));
        }
        let quorum = self.quorum.map_or("none", |m| self.member_name(m));
        text.push_str(&format!("quorum {quorum}\n"));
        text
    }

    /// The witnesses, in file order.
    pub fn witnesses(&self) -> &[Witness] {
        &self.witnesses
    }

    /// Whether any cosignature is required at all (`quorum none` is not).
    pub fn requires_cosignatures(&self) -> bool {
        self.quorum.is_some()
    }

    /// The log keys the policy lists (may be empty).
    pub fn logs(&self) -> impl Iterator<Item = &VerifierKey> {
        self.logs.iter().map(|(key, _)| key)
    }

    /// Evaluates the cosignatures on a signed checkpoint `note`. The log's
    /// own signature is not checked here.
    pub fn evaluate(&self, note: &str) -> PolicyOutcome {
        let mut outcome = PolicyOutcome {
            quorum: self.describe(self.quorum),
            ..Default::default()
        };
        let (body, lines) = match split_note(note) {
            Ok(split) => split,
            Err(e) => {
                outcome.invalid.push(("(note)".into(), e.to_string()));
                outcome.missing = self.witnesses.iter().map(|w| w.name.clone()).collect();
                outcome.satisfied = self.quorum.is_none();
                return outcome;
            }
        };
        let mut valid = vec![false; self.witnesses.len()];
        for (index, witness) in self.witnesses.iter().enumerate() {
            let mut bad = None;
            let mut good = None;
            for line in &lines {
                match witness.key.check_line(line, body) {
                    LineCheck::OtherKey => {}
                    LineCheck::Valid { timestamp } => good = good.or(Some(timestamp)),
                    LineCheck::Invalid(why) => bad = Some(why),
                }
            }
            match (bad, good) {
                (Some(why), _) => outcome.invalid.push((witness.name.clone(), why.into())),
                (None, Some(timestamp)) => {
                    valid[index] = true;
                    outcome.cosigned.push((witness.name.clone(), timestamp));
                }
                (None, None) => outcome.missing.push(witness.name.clone()),
            }
        }
        outcome.satisfied = self.quorum.is_none_or(|m| self.met(m, &valid));
        outcome
    }

    fn met(&self, member: Member, valid: &[bool]) -> bool {
        match member {
            Member::Witness(i) => valid[i],
            Member::Group(g) => {
                let group = &self.groups[g];
                group
                    .members
                    .iter()
                    .filter(|m| self.met(**m, valid))
                    .count()
                    >= group.threshold
            }
        }
    }

    fn member_name(&self, member: Member) -> &str {
        match member {
            Member::Witness(i) => &self.witnesses[i].name,
            Member::Group(g) => &self.groups[g].name,
        }
    }

    fn describe(&self, member: Option<Member>) -> String {
        match member {
            None => "none".into(),
            Some(Member::Witness(i)) => self.witnesses[i].name.clone(),
            Some(Member::Group(g)) => {
                let group = &self.groups[g];
                let members: Vec<String> = group
                    .members
                    .iter()
                    .map(|m| self.describe(Some(*m)))
                    .collect();
                format!("{} of ({})", group.threshold, members.join(", "))
            }
        }
    }
}

fn define(names: &mut BTreeMap<String, Member>, name: &str, member: Member) -> Result<(), String> {
    if name == "none" {
        return Err("`none` is reserved".into());
    }
    if names.insert(name.to_string(), member).is_some() {
        return Err(format!("{name:?} is defined twice"));
    }
    Ok(())
}

fn suffix(url: &Option<String>) -> String {
    url.as_ref().map(|u| format!(" {u}")).unwrap_or_default()
}

//! The registry's templates against the MMI grammar of 3GPP TS 22.030 (§6.5.2 procedures,
//! Annex B service codes) and against what each forwarding mode must do: what a code set is
//! checked for when the registry is parsed.

use crate::{CodeSet, Kind};

/// A procedure (TS 22.030 §6.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Procedure {
    Activate,
    Deactivate,
    Register,
    Erase,
    Interrogate,
}

/// A parsed MMI code: procedure, service code, supplementary information.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mmi {
    procedure: Procedure,
    service: &'static str,
    info: Vec<String>,
}

const SERVICE_CODES: [&str; 6] = ["21", "67", "61", "62", "002", "004"];

fn parse_mmi(t: &str) -> Result<Mmi, String> {
    let (procedure, rest) = if let Some(r) = t.strip_prefix("**") {
        (Procedure::Register, r)
    } else if let Some(r) = t.strip_prefix("##") {
        (Procedure::Erase, r)
    } else if let Some(r) = t.strip_prefix("*#") {
        (Procedure::Interrogate, r)
    } else if let Some(r) = t.strip_prefix('*') {
        (Procedure::Activate, r)
    } else if let Some(r) = t.strip_prefix('#') {
        (Procedure::Deactivate, r)
    } else {
        return Err(format!("{t:?}: no MMI procedure (*, #, **, ##, *#)"));
    };
    let body = rest
        .strip_suffix('#')
        .ok_or_else(|| format!("{t:?}: an MMI code ends with #"))?;
    let mut parts = body.split('*');
    let sc = parts.next().unwrap_or("");
    let service = SERVICE_CODES
        .iter()
        .find(|s| **s == sc)
        .ok_or_else(|| format!("{t:?}: unknown service code {sc:?} (21, 67, 61, 62, 002, 004)"))?;
    let info: Vec<String> = parts.map(str::to_owned).collect();
    if info.len() > 3 {
        return Err(format!("{t:?}: at most *DN*BS*T"));
    }
    if let Some(dn) = info.first() {
        if dn != "{number}" {
            return Err(format!("{t:?}: the DN field must be {{number}}"));
        }
    }
    if let Some(bs) = info.get(1) {
        if bs != "11" {
            return Err(format!("{t:?}: basic service must be 11 (telephony)"));
        }
    }
    if let Some(timer) = info.get(2) {
        if timer != "{ring_time}" {
            return Err(format!("{t:?}: the timer field must be {{ring_time}}"));
        }
        if !matches!(*service, "61" | "004" | "002") {
            return Err(format!("{t:?}: a timer only goes with 61, 004 or 002"));
        }
    }
    Ok(Mmi {
        procedure,
        service,
        info,
    })
}

/// Checks one activation template; returns its service code.
fn check_on(t: &str, kind: Kind, timer: bool) -> Result<&'static str, String> {
    match kind {
        Kind::Cdma => match t {
            "*72{number}" => Ok("21"),
            "*71{number}" => Ok("004"),
            _ => Err(format!(
                "{t:?}: a CDMA activation is *72{{number}} or *71{{number}}"
            )),
        },
        Kind::Gsm => {
            let m = parse_mmi(t)?;
            if !matches!(m.procedure, Procedure::Register | Procedure::Activate) {
                return Err(format!(
                    "{t:?}: an activation registers (**) or activates (*)"
                ));
            }
            if m.info.first().map(String::as_str) != Some("{number}") {
                return Err(format!("{t:?}: an activation needs {{number}}"));
            }
            if m.info.len() == 3 && !timer {
                return Err(format!("{t:?}: this carrier has no no-reply timer"));
            }
            if timer && matches!(m.service, "61" | "004") && m.info.len() < 3 {
                return Err(format!("{t:?}: the no-reply timer is missing"));
            }
            Ok(m.service)
        }
    }
}

/// Checks one deactivation template; returns the service code it clears.
fn check_off(t: &str, kind: Kind) -> Result<&'static str, String> {
    match kind {
        Kind::Cdma if t == "*73" => Ok("002"),
        Kind::Cdma => Err(format!("{t:?}: a CDMA deactivation is *73")),
        Kind::Gsm => {
            let m = parse_mmi(t)?;
            if !matches!(m.procedure, Procedure::Erase | Procedure::Deactivate)
                || !m.info.is_empty()
            {
                return Err(format!("{t:?}: a deactivation is ##SC# or #SC#"));
            }
            Ok(m.service)
        }
    }
}

/// The conditions each service code covers (22.030 Annex B).
fn covers(sc: &str) -> &'static [&'static str] {
    match sc {
        "21" => &["unconditional"],
        "67" => &["busy"],
        "61" => &["no_reply"],
        "62" => &["not_reachable"],
        "004" => &["busy", "no_reply", "not_reachable"],
        "002" => &["unconditional", "busy", "no_reply", "not_reachable"],
        _ => &[],
    }
}

pub(crate) fn check_set(name: &str, c: &CodeSet, kind: Kind, timer: bool) -> Result<(), String> {
    let ctx = |e: String| format!("code set {name}: {e}");
    let mut total = Vec::new();
    for t in &c.total_ai_on {
        total.push(check_on(t, kind, timer).map_err(ctx)?);
    }
    if !total.iter().any(|sc| covers(sc).contains(&"unconditional")) {
        return Err(ctx("total_ai must forward unconditionally (21)".into()));
    }
    let mut net = Vec::new();
    for t in &c.safety_net_on {
        net.push(check_on(t, kind, timer).map_err(ctx)?);
    }
    for need in ["busy", "no_reply", "not_reachable"] {
        if !net.iter().any(|sc| covers(sc).contains(&need)) {
            return Err(ctx(format!(
                "safety_net must cover {need} (004, or 67 + 61 + 62)"
            )));
        }
    }
    if net.iter().any(|sc| covers(sc).contains(&"unconditional")) {
        return Err(ctx("safety_net must not forward unconditionally".into()));
    }
    for (mode, on, off) in [
        ("total_ai", &total, &c.total_ai_off),
        ("safety_net", &net, &c.safety_net_off),
    ] {
        let mut cleared = Vec::new();
        for t in off {
            cleared.push(check_off(t, kind).map_err(ctx)?);
        }
        for sc in on {
            let undone = cleared.iter().any(|x| *x == *sc || *x == "002");
            if !undone {
                return Err(ctx(format!("{mode}: nothing deactivates {sc}")));
            }
        }
    }
    // A status check for each condition a mode registers (issue 22 §1): `*#SC#` per service
    // code activated (004 and 002 are checked by their own code).
    for (mode, on, status) in [
        ("total_ai", &total, &c.total_ai_status),
        ("safety_net", &net, &c.safety_net_status),
    ] {
        let mut checked = Vec::new();
        for t in status {
            let m = parse_mmi(t).map_err(ctx)?;
            if m.procedure != Procedure::Interrogate || !m.info.is_empty() {
                return Err(ctx(format!("{t:?}: a status check is *#SC#")));
            }
            checked.push(m.service);
        }
        if kind == Kind::Gsm {
            if let Some(sc) = on.iter().find(|sc| !checked.contains(sc)) {
                return Err(ctx(format!("{mode}: no status check for {sc} (*#{sc}#)")));
            }
        }
    }
    match kind {
        Kind::Gsm if c.clear_all != "##002#" => Err(ctx("clear_all is ##002# on GSM".into())),
        Kind::Cdma if c.clear_all != "*73" => Err(ctx("clear_all is *73 on CDMA".into())),
        _ => Ok(()),
    }
}

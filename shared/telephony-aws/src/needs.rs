//! The variable groups functions declare in their `NEEDS` ([`crate::config::Needs`]): each
//! group is what one part of the shared code reads.

use crate::config::{Needs, VarGroup};

/// A Twilio-signed webhook ([`crate::glue::accept`]): the public URL signatures are computed
/// over and the signing keys; `STAGE` for the local bypass.
pub const SIGNED: VarGroup = VarGroup {
    required: &["PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN"],
    optional: &[
        "STAGE",
        "TWILIO_AUTH_TOKEN_SECONDARY",
        "TWILIO_SIGNATURE_BYPASS",
    ],
};

/// The defaults of a dialled number absent from the `numbers` table (its name, targets,
/// language and switches; `Config::default_number`).
pub const NUMBER_DEFAULTS: VarGroup = VarGroup {
    required: &[],
    optional: &[
        "BUSINESS_NAME",
        "BUSINESS_TARGET_E164",
        "SALES_TARGET_E164",
        "SUPPORT_TARGET_E164",
        "LANGUAGE",
        "SMS_AUTO_REPLY",
        "SPEECH_INPUT",
        "MISSED_CALL_TEXT",
        "WHATSAPP_ENABLED",
        "WHATSAPP_TEMPLATE_SID",
        "SCREENING",
        "ROBOCALL_GATE",
    ],
};

/// The `numbers` table and its in-memory cache ([`crate::Deps::number_config`]; declare
/// [`NUMBER_DEFAULTS`] beside it).
pub const NUMBERS: VarGroup = VarGroup {
    required: &["NUMBERS_TABLE"],
    optional: &["NUMBER_CACHE_SECONDS"],
};

/// The `calls` table ([`crate::Deps::calls`]) and how long its items live.
pub const CALLS: VarGroup = VarGroup {
    required: &["CALLS_TABLE"],
    optional: &["RETENTION_DAYS"],
};

/// What the caller hears ([`crate::Deps::replies`], [`crate::glue::safe_twiml`]): the voices and
/// the voicemail length.
pub const SPOKEN: VarGroup = VarGroup {
    required: &[],
    optional: &["VOICE_EN", "VOICE_FR", "VOICEMAIL_MAX_SECONDS"],
};

/// The hotline's own number: never dialled, and one of our own numbers.
pub const HOTLINE: VarGroup = VarGroup {
    required: &[],
    optional: &["HOTLINE_E164"],
};

/// The frontdoor's per-caller limits and their table, and the blocked callers.
pub const CALLER_LIMITS: VarGroup = VarGroup {
    required: &["RATE_LIMITS_TABLE"],
    optional: &["RATE_LIMITS", "BLOCKED_CALLERS"],
};

/// Hybrid forwarding's table: forwarded calls, the dialling markers of the loop guard.
pub const FORWARDED: VarGroup = VarGroup {
    required: &[],
    optional: &["FORWARDING_TABLE"],
};

/// Known callers ([`crate::Deps::known_caller`]).
pub const KNOWN_CALLERS: VarGroup = VarGroup {
    required: &[],
    optional: &["CONTACTS_TABLE"],
};

/// The provisioning sagas' table (the ops summary reads their failures).
pub const TRANSACTIONS: VarGroup = VarGroup {
    required: &[],
    optional: &["TRANSACTIONS_TABLE"],
};

/// Twilio's REST API ([`crate::Deps::twilio`]): the account, its key and the hosts (mocks
/// locally); without them the function starts and answers that Twilio is not configured.
pub const TWILIO_REST: VarGroup = VarGroup {
    required: &[],
    optional: &[
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_BASE",
        "TWILIO_MESSAGING_BASE",
        "TWILIO_NUMBERS_BASE",
    ],
};

/// Texts ([`crate::Deps::messages`], [`crate::texting_gate`]): messages, opt-outs (and their
/// suppression entries), the per-sender counters, the A2P gate.
pub const TEXTING: VarGroup = VarGroup {
    required: &["MESSAGES_TABLE", "OPT_OUTS_TABLE", "RATE_LIMITS_TABLE"],
    optional: &[
        "COMPLIANCE_TABLE",
        "SUPPRESSION_SECRET",
        "MESSAGE_RETENTION_DAYS",
        "OPT_OUT_RETENTION_DAYS",
        "SMS_AUTO_REPLY_WINDOW_SECONDS",
    ],
};

/// The recordings bucket (voicemail audio and MMS media) and what is copied into it.
pub const RECORDINGS: VarGroup = VarGroup {
    required: &["RECORDINGS_BUCKET"],
    optional: &["RECORDING_MAX_BYTES", "MMS_MAX_BYTES"],
};

/// Staff notices of voicemails and transcripts.
pub const VOICEMAIL_NOTICES: VarGroup = VarGroup {
    required: &["VOICEMAIL_TOPIC_ARN"],
    optional: &[],
};

/// Staff notices of texts.
pub const SMS_NOTICES: VarGroup = VarGroup {
    required: &["SMS_TOPIC_ARN"],
    optional: &[],
};

/// The key of the AI's stream and relay tokens.
pub const STREAM_TOKENS: VarGroup = VarGroup {
    required: &[],
    optional: &["STREAM_SECRET"],
};

/// The ConversationRelay WebSocket URL.
pub const RELAY: VarGroup = VarGroup {
    required: &[],
    optional: &["RELAY_URL"],
};

/// How long a stream may take to start before the caller is given a person.
pub const STREAM_WATCHDOG: VarGroup = VarGroup {
    required: &[],
    optional: &["STREAM_WATCHDOG_MS"],
};

/// Privacy requests ([`crate::privacy`]): every table and the bucket they search, the audit
/// table and the suppression key.
pub const PRIVACY: VarGroup = VarGroup {
    required: &[
        "CALLS_TABLE",
        "NUMBERS_TABLE",
        "MESSAGES_TABLE",
        "OPT_OUTS_TABLE",
        "RATE_LIMITS_TABLE",
        "RECORDINGS_BUCKET",
    ],
    optional: &[
        "PRIVACY_TABLE",
        "CONTACTS_TABLE",
        "SUBMISSIONS_TABLE",
        "SUPPRESSION_SECRET",
        "FORWARDING_TABLE",
    ],
};

/// What every TwiML step of a call reads: a signed webhook, the number (table and defaults), the
/// calls table, what the caller hears, the hotline, and the forwarding table (every `<Dial>` is
/// marked for the loop guard, [`crate::glue::voice_webhook`]).
pub const VOICE_STEP: Needs = Needs {
    base: None,
    groups: &[
        &SIGNED,
        &NUMBERS,
        &NUMBER_DEFAULTS,
        &CALLS,
        &SPOKEN,
        &HOTLINE,
        &FORWARDED,
    ],
};

/// What every callback of a call reads (status, recording, transcription, stream status): a
/// signed webhook, the number and the calls table.
pub const CALLBACK: Needs = Needs {
    base: None,
    groups: &[&SIGNED, &NUMBERS, &NUMBER_DEFAULTS, &CALLS],
};

//! The variable groups functions declare in their `NEEDS` ([`crate::config::Needs`]): each
//! group is what one part of the shared code reads.

use crate::config::VarGroup;

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

/// The `numbers` table and the defaults of a number absent from it
/// ([`crate::Deps::number_config`]).
pub const NUMBERS: VarGroup = VarGroup {
    required: &["NUMBERS_TABLE"],
    optional: &[
        "NUMBER_CACHE_SECONDS",
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

/// Where a call may be sent: the hotline's own number (never dialled), blocked callers, the
/// per-caller limits and their table, forwarded calls and known callers.
pub const ROUTING: VarGroup = VarGroup {
    required: &["RATE_LIMITS_TABLE"],
    optional: &[
        "HOTLINE_E164",
        "BLOCKED_CALLERS",
        "RATE_LIMITS",
        "FORWARDING_TABLE",
        "CONTACTS_TABLE",
    ],
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

/// The AI hand-off: stream tokens, the stream watchdog, the ConversationRelay URL.
pub const AI: VarGroup = VarGroup {
    required: &[],
    optional: &["STREAM_SECRET", "STREAM_WATCHDOG_MS", "RELAY_URL"],
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

//! SNS notices to staff (spec §3: one voicemail notice, one transcript notice).

use crate::error::Error;
use serde::Serialize;

/// The JSON body of a notice (SNS `Message`); email subscribers see it as text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Notice<'a> {
    /// `voicemail` or `transcript`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The call.
    pub call_sid: &'a str,
    /// The recording.
    pub recording_sid: &'a str,
    /// The caller's number (staff need it whole to call back).
    pub caller: Option<&'a str>,
    /// The business number that was dialled.
    pub dialled: Option<&'a str>,
    /// Recording length in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
    /// Bucket and key of the stored WAV, if copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_uri: Option<String>,
    /// Transcript text (transcript notices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<&'a str>,
}

/// Publishes `notice` to `topic_arn` with a short subject.
///
/// Errors: [`Error::Sns`].
pub async fn publish(
    client: &aws_sdk_sns::Client,
    topic_arn: &str,
    subject: &str,
    notice: &Notice<'_>,
) -> Result<(), Error> {
    let message = serde_json::to_string(notice).map_err(|e| Error::Sns {
        topic: topic_arn.to_owned(),
        message: e.to_string(),
    })?;
    client
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .message(message)
        .send()
        .await
        .map_err(|e| Error::Sns {
            topic: topic_arn.to_owned(),
            message: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
        })?;
    Ok(())
}
